"""Campus single sign-on (统一身份认证) against a real CAS server.

The CAS server is django-cas-server in a project of its own (tests/cas_server/),
run as a separate process on a free loopback port with three users: ``zhang``,
who has an active account here, ``stranger``, who has none, and ``retired``,
whose account here is deactivated. Chromium goes through the login page, the
CAS login form and back, as a person would. Without django-cas-server (or
Chromium) the browser tests are skipped, unless REQUIRE_BROWSER_TESTS=1 (CI),
where that is a failure.

Settings: the test process was started without CAS_SERVER_URL, so the browser
tests switch CAS on with the settings survey_service/settings.py derives from it
and the URLconf survey_service/urls.py builds with it (tests/survey_service/
cas_urls.py); the last tests start Python processes with the variable set, to
check that derivation itself.
"""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
from pathlib import Path
from unittest import SkipTest

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import TestCase, override_settings
from playwright.sync_api import expect

import survey_service.urls  # noqa: F401  (first imported without CAS: see cas_urls.py)
from organizations.models import Membership, Unit
from survey_service.cas import BACKEND
from tests.base import make_unit, make_user
from tests.browser import BrowserTestCase
from tests.cas_server import CASServer, CASServerUnavailable

ROOT = Path(__file__).resolve().parents[2]
CAS_USERS = {
    "zhang": "cas-pw-zhang",
    "stranger": "cas-pw-stranger",
    "retired": "cas-pw-retired",
}
LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "data:")
NO_ACCOUNT = "统一身份认证通过，但本系统没有您的账户，请联系党委办公室开通"


def cas_settings(server_url: str) -> override_settings:
    """What settings.py sets with CAS_SERVER_URL=server_url."""
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["form-action"].append(server_url.split("/cas/")[0])
    return override_settings(
        CAS_SERVER_URL=server_url,
        AUTHENTICATION_BACKENDS=[*settings.AUTHENTICATION_BACKENDS, BACKEND],
        CONTENT_SECURITY_POLICY=csp,
        ROOT_URLCONF="tests.survey_service.cas_urls",
    )


class CASBrowserTests(BrowserTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.cas = CASServer(CAS_USERS)
        try:
            cls.cas_url = cls.cas.start()
        except CASServerUnavailable as exc:
            if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
                raise AssertionError(f"the CAS server is required: {exc}") from None
            raise SkipTest(f"no CAS server to test against: {exc}") from None
        cls.cas_on = cas_settings(cls.cas_url)
        cls.cas_on.enable()
        try:
            super().setUpClass()
        except BaseException:
            cls.cas_on.disable()
            cls.cas.stop()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.cas_on.disable()
        cls.cas.stop()

    def setUp(self) -> None:
        super().setUp()
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        make_unit("A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委")
        self.zhang = make_user("zhang", Membership.Role.OFFICE, school)
        retired = make_user("retired", Membership.Role.OFFICE, school)
        retired.is_active = False
        retired.save()
        self.elsewhere: list[str] = []

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def page(self):
        """A page that may fetch nothing from elsewhere, neither from the service
        nor from the CAS server: such a request is noted (the test fails) and,
        unless it follows a redirect (which Playwright does not route), stopped."""
        page = self.desktop()
        page.on("request", self.note_elsewhere)
        page.route("**/*", self.only_loopback)
        return page

    def note_elsewhere(self, request) -> None:
        if not request.url.startswith(LOOPBACK):
            self.elsewhere.append(request.url)

    @staticmethod
    def only_loopback(route) -> None:
        if route.request.url.startswith(LOOPBACK):
            route.continue_()
        else:
            route.abort()

    def tearDown(self) -> None:
        super().tearDown()
        self.assertEqual(self.elsewhere, [])

    def cas_login(self, page, username: str) -> None:
        """On the CAS server's own login form, as its user."""
        self.assertTrue(page.url.startswith(self.cas_url + "login"), page.url)
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", CAS_USERS[username])
        with page.expect_navigation():
            page.click("#login_form button[type=submit]")

    def through_cas(self, page, username: str, *, status: int = 302) -> None:
        """From the login page's button through the CAS form back to the service,
        whose answer to the ticket has ``status`` (302: on to the workbench)."""
        page.goto(self.url("/accounts/login/"))
        with page.expect_navigation():
            page.get_by_role("link", name="统一身份认证登录").click()
        with page.expect_response(lambda r: "ticket=" in r.url) as ticket_answer:
            self.cas_login(page, username)
        self.assertTrue(ticket_answer.value.url.startswith(self.url("/accounts/cas/")))
        self.assertEqual(ticket_answer.value.status, status)

    def logged_in_users(self) -> list[str]:
        User = get_user_model()
        ids = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
        return sorted(
            User.objects.filter(pk__in=[i for i in ids if i]).values_list(
                "username", flat=True
            )
        )

    def test_it_logs_in_an_account_that_exists_here_and_logs_out_of_both(self):
        page = self.page()
        self.through_cas(page, "zhang")
        self.assertEqual(page.url, self.url("/manage/"))
        expect(page.locator("header")).to_contain_text("退出（zhang）")
        self.assertEqual(self.logged_in_users(), ["zhang"])
        session = Session.objects.get().get_decoded()
        self.assertEqual(session["_auth_user_backend"], BACKEND)
        page.screenshot(path=self.screenshot("cas-logged-in"))

        # Logging out here sends the browser through the CAS logout and home.
        with page.expect_response(
            lambda r: r.url.startswith(self.cas_url + "logout")
        ) as cas_logout:
            page.get_by_role("button", name="退出（zhang）").click()
        self.assertEqual(cas_logout.value.status, 302)
        page.wait_for_url(self.url("/"))
        self.assertEqual(self.logged_in_users(), [])
        page.goto(self.url("/manage/"))
        self.assertTrue(page.url.startswith(self.url("/accounts/login/")), page.url)

        # The CAS session ended too: CAS asks for the password again.
        page.goto(self.url("/accounts/cas/login/"))
        expect(page.locator("#login_form input[name=password]")).to_be_visible()

    def test_a_new_account_through_cas_is_not_asked_for_its_one_time_password(self):
        """The office made zhang's account with a one-time password; the first
        login through CAS retires it instead of asking zhang to replace it."""
        from organizations.people import _set_one_time_password

        one_time = _set_one_time_password(self.zhang)
        page = self.page()
        self.through_cas(page, "zhang")
        self.assertEqual(page.url, self.url("/manage/"))
        page.goto(self.url("/manage/units/"))
        self.assertEqual(page.url, self.url("/manage/units/"), "not sent to change it")
        self.zhang.refresh_from_db()
        self.assertFalse(self.zhang.check_password(one_time))
        self.assertFalse(self.zhang.has_usable_password())

    def test_it_refuses_a_cas_user_without_an_account_here(self):
        page = self.page()
        self.through_cas(page, "stranger", status=403)
        expect(page.locator("main")).to_contain_text(NO_ACCOUNT)
        expect(page.locator("main")).not_to_contain_text("Traceback")
        expect(page.get_by_role("link", name="返回登录页")).to_be_visible()
        page.screenshot(path=self.screenshot("cas-refused"))
        self.assertFalse(get_user_model().objects.filter(username="stranger").exists())
        self.assertEqual(self.logged_in_users(), [])
        page.goto(self.url("/manage/"))
        self.assertTrue(page.url.startswith(self.url("/accounts/login/")), page.url)

        # Refusals are not password failures: more of them than the lockout
        # allows still get the same page, not the lockout, and none is recorded.
        for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
            with page.expect_response(lambda r: "ticket=" in r.url) as again:
                page.goto(self.url("/accounts/cas/login/"))  # CAS remembers stranger
            self.assertEqual(again.value.status, 403)
            expect(page.locator("main")).to_contain_text(NO_ACCOUNT)
        self.assertEqual(AccessAttempt.objects.count(), 0)
        self.assertFalse(get_user_model().objects.filter(username="stranger").exists())

    def test_it_refuses_a_deactivated_account(self):
        page = self.page()
        self.through_cas(page, "retired", status=403)
        expect(page.locator("main")).to_contain_text(
            "统一身份认证通过，但您在本系统的账户已停用，请联系党委办公室"
        )
        self.assertEqual(self.logged_in_users(), [])

    def test_it_refuses_a_ticket_cas_did_not_issue(self):
        page = self.page()
        response = page.goto(self.url("/accounts/cas/login/?ticket=ST-made-up"))
        self.assertEqual(response.status, 403)
        expect(page.locator("main")).to_contain_text("统一身份认证未能确认您的身份")
        self.assertEqual(self.logged_in_users(), [])

    def test_it_follows_a_local_next_and_drops_one_to_another_host(self):
        page = self.page()
        page.goto(self.url("/manage/units/"))  # to the login page, with ?next=
        with page.expect_navigation():
            page.get_by_role("link", name="统一身份认证登录").click()
        self.cas_login(page, "zhang")
        self.assertEqual(page.url, self.url("/manage/units/"))

        other = self.page()
        other.goto(self.url("/accounts/cas/login/?next=https://evil.example/"))
        self.cas_login(other, "zhang")
        self.assertEqual(other.url, self.url("/manage/"))

    def test_local_passwords_still_work_and_their_logout_stays_here(self):
        page = self.page()
        self.log_in(page, "zhang")
        self.assertEqual(page.url, self.url("/manage/"))
        with page.expect_navigation():
            page.get_by_role("button", name="退出（zhang）").click()
        self.assertEqual(page.url, self.url("/"))
        self.assertEqual(self.logged_in_users(), [])

    def test_a_logout_at_cas_ends_the_session_here(self):
        page = self.page()
        self.through_cas(page, "zhang")
        self.assertEqual(self.logged_in_users(), ["zhang"])
        # Single log-out: CAS tells the service, which drops the session.
        page.goto(self.cas_url + "logout")
        for _ in range(50):
            if not self.logged_in_users():
                break
            page.wait_for_timeout(100)
        self.assertEqual(self.logged_in_users(), [])
        page.goto(self.url("/manage/"))
        self.assertTrue(page.url.startswith(self.url("/accounts/login/")), page.url)

    def screenshot(self, name: str) -> Path:
        from tests.browser import SCREENSHOTS

        return SCREENSHOTS / f"{name}.png"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CASPageTests(TestCase):
    def test_it_shows_no_cas_button_and_no_cas_routes_without_cas(self):
        # The test process starts without CAS_SERVER_URL, as most servers do.
        self.assertEqual(settings.CAS_SERVER_URL, "")
        self.assertNotIn(BACKEND, settings.AUTHENTICATION_BACKENDS)
        self.assertEqual(
            settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"], ["'self'"]
        )
        page = self.client.get("/accounts/login/")
        self.assertNotContains(page, "统一身份认证")
        self.assertEqual(self.client.get("/accounts/cas/login/").status_code, 404)
        self.assertEqual(self.client.get("/accounts/cas/logout/").status_code, 404)

    def test_it_says_so_when_the_cas_server_does_not_answer(self):
        with cas_settings(f"http://127.0.0.1:{closed_port()}/cas/"):
            page = self.client.get("/accounts/cas/login/?ticket=ST-1")
        self.assertContains(page, "暂时无法连接学校统一身份认证服务", status_code=502)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_the_cas_logout_does_not_log_out_a_browser_still_logged_in(self):
        user = make_user("zhang")
        self.client.force_login(user)
        with cas_settings("http://127.0.0.1:9/cas/"):
            answer = self.client.get("/accounts/cas/logout/")
            self.assertRedirects(answer, "/manage/", fetch_redirect_response=False)
            self.assertEqual(self.client.session["_auth_user_id"], str(user.pk))
            # Once logged out here, it goes on to the CAS logout.
            self.client.post("/accounts/logout/")
            answer = self.client.get("/accounts/cas/logout/")
        self.assertEqual(
            answer["Location"],
            "http://127.0.0.1:9/cas/logout?service=http%3A%2F%2Ftestserver%2F",
        )


# --- Settings: a process started with CAS_SERVER_URL -----------------------------


def in_process(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "CAS_"))
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "survey_service.settings",
            "SECRET_KEY": "x" * 50,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


SHOW = """
import django
django.setup()
from django.conf import settings
from django.urls import NoReverseMatch, reverse
try:
    print(reverse("cas-login"), reverse("cas-logout"))
except NoReverseMatch:
    print("no routes")
print(settings.CAS_SERVER_URL or "-", settings.CAS_VERSION, settings.CAS_CREATE_USER)
print(settings.AUTHENTICATION_BACKENDS[-1])
print(*settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"])
"""


def test_cas_server_url_turns_on_the_routes_and_the_backend():
    result = in_process(SHOW, CAS_SERVER_URL="https://cas.example.edu.cn/cas")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/accounts/cas/login/ /accounts/cas/logout/",
        "https://cas.example.edu.cn/cas/ 3 False",
        BACKEND,
        "'self' https://cas.example.edu.cn",
    ]


def test_it_refuses_a_malformed_cas_server_url():
    result = in_process(SHOW, CAS_SERVER_URL="cas.example.edu.cn")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CAS_SERVER_URL" in result.stderr


def test_it_refuses_an_unknown_cas_version():
    result = in_process(
        SHOW, CAS_SERVER_URL="https://cas.example.edu.cn/cas/", CAS_VERSION="1"
    )
    assert result.returncode != 0
    assert "CAS_VERSION must be 2 or 3" in result.stderr
