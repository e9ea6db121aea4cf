"""Password guessing is stopped on both login pages, and the API is throttled.

django-axes counts wrong passwords per username and client address (the same
address as the flood limit's, see test_proxy_rate_limit.py); at
LOGIN_FAILURE_LIMIT the pair is refused, even with the right password, until
LOGIN_LOCKOUT has passed. The API's throttles answer 429 with Retry-After.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.urls import include, path
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.base import PersonaTestCase
from tests.questionnaires.helpers import full_answers, make_round, point_of
from tests.security.test_proxy_rate_limit import BEHIND, PROXY, run

LOCKED = "登录已暂停"


def attempts():
    """django-axes' record of failed logins (looked up late: without axes, no app)."""
    return apps.get_model("axes", "AccessAttempt").objects


CLIENT = "203.0.113.5"


# The hasher is not what these tests are about; PBKDF2 would spend seconds on each.
@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class LoginCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.admin = get_user_model().objects.create_user(
            username="staff_leader", password="pw-staff_leader", is_staff=True
        )

    def attempt(
        self, username: str, password: str, *, page="/accounts/login/", **extra
    ):
        extra.setdefault("REMOTE_ADDR", CLIENT)
        return self.client.post(
            page, {"username": username, "password": password}, **extra
        )

    def fail(self, username: str, times: int | None = None, **kwargs):
        response = None
        for _ in range(settings.AXES_FAILURE_LIMIT if times is None else times):
            response = self.attempt(username, "wrong-password", **kwargs)
        return response

    def assert_logged_in(self, response) -> None:
        self.assertEqual(response.status_code, 302, response.content[:300])
        self.assertEqual(self.client.get("/manage/").status_code, 200)
        self.client.post("/accounts/logout/")

    def assert_locked_out(self, response) -> None:
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, LOCKED, status_code=429)
        self.assertContains(
            response, f"已连续错误 {settings.AXES_FAILURE_LIMIT} 次", status_code=429
        )
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        self.assertContains(response, f"请 {minutes} 分钟后再试", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)


class LoginLockoutTests(LoginCase):
    def test_the_settings_are_those_of_a_university_office(self):
        self.assertEqual(settings.AXES_FAILURE_LIMIT, 5)
        self.assertEqual(settings.AXES_COOLOFF_TIME, timedelta(minutes=15))
        self.assertEqual(settings.AXES_LOCKOUT_PARAMETERS, [["username", "ip_address"]])

    def test_wrong_passwords_then_the_right_one_is_refused_on_the_login_page(self):
        self.assert_locked_out(self.fail("leader"))
        self.assert_locked_out(self.attempt("leader", "pw-leader"))
        self.assertEqual(self.client.get("/manage/").status_code, 302)

    def test_wrong_passwords_then_the_right_one_is_refused_on_the_admin_login(self):
        page = "/admin/login/"
        self.assert_locked_out(self.fail("staff_leader", page=page))
        self.assert_locked_out(
            self.attempt("staff_leader", "pw-staff_leader", page=page)
        )
        self.assertEqual(self.client.get("/admin/").status_code, 302)

    def test_failures_on_one_login_page_lock_the_other_too(self):
        self.fail("staff_leader", page="/accounts/login/")
        self.assert_locked_out(
            self.attempt("staff_leader", "pw-staff_leader", page="/admin/login/")
        )

    def test_fewer_failures_than_the_limit_still_let_the_right_password_in(self):
        self.fail("leader", settings.AXES_FAILURE_LIMIT - 1)
        self.assert_logged_in(self.attempt("leader", "pw-leader"))

    def test_a_successful_login_starts_the_count_again(self):
        self.fail("leader", settings.AXES_FAILURE_LIMIT - 1)
        self.assert_logged_in(self.attempt("leader", "pw-leader"))
        self.fail("leader", settings.AXES_FAILURE_LIMIT - 1)
        self.assert_logged_in(self.attempt("leader", "pw-leader"))

    def test_another_user_at_the_same_address_is_unaffected(self):
        self.fail("leader")
        self.assert_logged_in(self.attempt("manager_a", "pw-manager_a"))

    def test_the_same_user_from_another_address_is_unaffected(self):
        self.fail("leader")
        self.assert_logged_in(
            self.attempt("leader", "pw-leader", REMOTE_ADDR="198.51.100.7")
        )

    def test_the_lockout_expires_after_the_cool_off(self):
        self.fail("leader")
        self.assert_locked_out(self.attempt("leader", "pw-leader"))
        # Trying while locked out does not prolong the lockout.
        self.assertEqual(
            attempts().get(username="leader").failures_since_start,
            settings.AXES_FAILURE_LIMIT,
        )
        # LOGIN_LOCKOUT passes.
        attempts().update(
            attempt_time=timezone.now()
            - settings.AXES_COOLOFF_TIME
            - timedelta(seconds=1)
        )
        self.assert_logged_in(self.attempt("leader", "pw-leader"))

    @override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(minutes=30))
    def test_the_limit_and_the_lockout_follow_the_settings(self):
        self.assertEqual(self.fail("leader", 2).status_code, 200)
        self.assert_locked_out(self.fail("leader", 1))
        self.assertContains(
            self.attempt("leader", "pw-leader"), "请 30 分钟后再试", status_code=429
        )

    def test_the_office_can_lift_a_lockout(self):
        self.fail("leader")
        call_command("axes_reset_username", "leader", stdout=io.StringIO())
        self.assert_logged_in(self.attempt("leader", "pw-leader"))

    def test_only_failures_are_kept_and_logs_name_neither_user_nor_address(self):
        with self.assertLogs("axes", level="INFO") as logs:
            self.fail("leader")
        text = "\n".join(logs.output)
        self.assertIn("Locking out", text)
        self.assertNotIn(CLIENT, text)
        self.assertNotIn("leader", text)
        attempt = attempts().get()
        self.assertNotIn("wrong-password", attempt.post_data)
        self.assert_logged_in(
            self.attempt("manager_a", "pw-manager_a", REMOTE_ADDR="198.51.100.7")
        )
        self.assertFalse(apps.get_model("axes", "AccessLog").objects.exists())


class LoginLockoutBehindProxyTests(LoginCase):
    """The lockout keys on the address the flood limit uses (TRUSTED_PROXIES)."""

    @override_settings(**BEHIND)
    def test_clients_behind_the_proxy_are_locked_out_separately(self):
        self.fail("leader", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)
        self.assert_locked_out(
            self.attempt(
                "leader", "pw-leader", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT
            )
        )
        self.assertEqual(
            list(attempts().values_list("ip_address", flat=True)), [CLIENT]
        )
        self.assert_logged_in(
            self.attempt(
                "leader",
                "pw-leader",
                REMOTE_ADDR=PROXY,
                HTTP_X_FORWARDED_FOR="198.51.100.7",
            )
        )

    @override_settings(**BEHIND)
    def test_a_forged_header_does_not_lift_the_lockout(self):
        self.fail("leader", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)
        # Written by the client, left of what the proxy appended.
        self.assert_locked_out(
            self.attempt(
                "leader",
                "pw-leader",
                REMOTE_ADDR=PROXY,
                HTTP_X_FORWARDED_FOR=f"198.51.100.7, {CLIENT}",
            )
        )
        # Straight to the app server: the header is ignored.
        self.fail("manager_a", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="192.0.2.1")
        self.assert_locked_out(
            self.attempt(
                "manager_a",
                "pw-manager_a",
                REMOTE_ADDR=CLIENT,
                HTTP_X_FORWARDED_FOR="192.0.2.2",
            )
        )


# --- API throttles ------------------------------------------------------------------


def rates(**scopes: str | None) -> override_settings:
    return override_settings(
        REST_FRAMEWORK={
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}),
                **scopes,
            },
        }
    )


class AnonymousProbe(APIView):
    """An API view open to anonymous users, with the project's default throttles.

    The project has none left of its own: the schema and the docs need a login
    (DRF refuses anonymous requests with 401 before it counts them), and the public
    respondent API has the submission flood limit instead of the API throttles."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("probe/", AnonymousProbe.as_view()),
    path("", include("survey_service.urls")),
]
PROBE = "/probe/"


class ApiThrottleTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.point = point_of(make_round(cls.school), cls.window_a)

    def setUp(self) -> None:
        cache.clear()  # the throttles count in the cache

    def assert_throttled(self, response) -> None:
        self.assertEqual(response.status_code, 429)
        self.assertGreater(int(response["Retry-After"]), 0)
        body = json.loads(response.content)
        self.assertEqual(set(body), {"detail", "errors"})
        self.assertTrue(body["detail"])

    def test_the_default_rates(self):
        self.assertEqual(
            settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            {"anon": "60/min", "user": "600/min"},
        )

    @rates(user="3/min")
    def test_a_user_over_the_rate_gets_429_with_retry_after(self):
        client = self.api(self.leader)
        for _ in range(3):
            self.assertEqual(client.get("/api/v1/units/").status_code, 200)
        self.assert_throttled(client.get("/api/v1/units/"))
        # Per user: another user still has its budget, from the same address.
        self.assertEqual(self.api(self.reviewer).get("/api/v1/units/").status_code, 200)

    @override_settings(ROOT_URLCONF=__name__)
    @rates(anon="2/min")
    def test_anonymous_requests_over_the_rate_get_429_with_retry_after(self):
        client = self.api()
        for _ in range(2):
            self.assertEqual(client.get(PROBE).status_code, 200)
        self.assert_throttled(client.get(PROBE))
        # A forged X-Forwarded-For from an untrusted peer does not help.
        self.assert_throttled(client.get(PROBE, HTTP_X_FORWARDED_FOR="198.51.100.7"))

    @override_settings(ROOT_URLCONF=__name__, **BEHIND)
    @rates(anon="2/min")
    def test_anonymous_clients_behind_the_proxy_are_throttled_separately(self):
        client = self.api()
        first = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": CLIENT}
        for _ in range(2):
            self.assertEqual(client.get(PROBE, **first).status_code, 200)
        self.assert_throttled(client.get(PROBE, **first))
        other = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
        self.assertEqual(client.get(PROBE, **other).status_code, 200)

    @rates(anon="1/min", user="1/min")
    def test_the_public_respondent_api_is_governed_by_the_flood_limit_instead(self):
        client = self.api()
        url = f"/api/v1/public/points/{self.point.token}/"
        for _ in range(5):
            self.assertEqual(client.get(url).status_code, 200)
        for i in range(3):
            body = {"answers": full_answers(self.point), "nonce": f"public-{i:015d}"}
            self.assertEqual(client.post(url, body, format="json").status_code, 201)

    @rates(anon=None, user=None)
    def test_off_turns_a_throttle_off(self):
        client = self.api(self.leader)
        for _ in range(5):
            self.assertEqual(client.get("/api/v1/units/").status_code, 200)


# --- Start-up -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOGIN_FAILURE_LIMIT", "0"),
        ("LOGIN_FAILURE_LIMIT", "five"),
        ("LOGIN_LOCKOUT", "forever"),
        ("LOGIN_LOCKOUT", "0m"),
        ("LOGIN_LOCKOUT", "90s"),  # the page says how many minutes to wait
        ("API_THROTTLE_ANON", "60 a minute"),
        ("API_THROTTLE_ANON", "10/5m"),  # DRF would read it as 10 a minute
        ("API_THROTTLE_USER", "0/min"),
    ],
)
def test_bad_login_and_throttle_settings_stop_start_up_naming_them(name, value):
    result = run("", **{name: value})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last
    assert name in last


def test_login_and_throttle_settings_come_from_the_environment():
    result = run(
        "from django.conf import settings as s\n"
        "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), "
        "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])\n",
        LOGIN_FAILURE_LIMIT="8",
        LOGIN_LOCKOUT="30m",
        API_THROTTLE_ANON="20/hour",
        API_THROTTLE_USER="off",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8 1800.0 {'anon': '20/hour', 'user': None}"
