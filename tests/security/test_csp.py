"""The Content-Security-Policy: on every kind of page, and no page needs more.

The policy (settings.CONTENT_SECURITY_POLICY, django-csp) lets scripts and styles
come only from this site's files, so an injected ``<script>``, ``onerror=`` or
``style=`` does nothing. The templates hold none of them themselves (a scan of
every template), and in Chromium the pages that run script (the respondent's,
the ballot entry page, Django's admin) and the management pages report no
violation while they work; a probe of inline script shows the listener hears one.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import override_settings

from organizations.models import Membership, Unit
from questionnaires.services import ballots_issue, campaign_close, campaign_publish
from survey_service.views import API_DOCS_CSP
from tests.base import PersonaTestCase, make_unit, make_user
from tests.browser import BrowserTestCase
from tests.questionnaires.helpers import make_round, point_of
from tests.questionnaires.test_respond_browser import Respondent

HEADER = "Content-Security-Policy"
CDN = "https://cdn.jsdelivr.net"
# Every folder of templates the project has (Django's admin and drf-spectacular's
# ship their own).
TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "templates"] + sorted(
    path
    for path in Path(settings.BASE_DIR).glob("*/templates")
    if ".venv" not in path.parts
)


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response[HEADER].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class HeaderTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.spring = make_round(cls.school, title="春季评议")
        campaign_close(campaign=cls.spring)
        campaign_publish(campaign=cls.spring)
        cls.autumn = make_round(cls.school, title="秋季评议")
        cls.ballot_round = make_round(cls.school, title="党员大会", mode="ballot")
        cls.admin = get_user_model().objects.create_superuser("root", password="pw")

    def pages(self) -> dict[str, tuple[str, str | None]]:
        """Page kind → (URL, who opens it)."""
        point = point_of(self.autumn, self.window_a)
        slip = point_of(self.ballot_round, self.unit_a)
        code = ballots_issue(point=slip, count=1)[0]
        return {
            "home": ("/", None),
            "login": ("/accounts/login/", None),
            "respondent form": (f"/s/{point.token}/", None),
            "thanks": (f"/s/{point.token}/done/", None),
            "unknown point": ("/s/no-such-token/", None),
            "ballot entry": ("/b/", None),
            "old ballot slip": (f"/b/{code}/", None),
            "public board": (f"/public/campaigns/{self.spring.pk}/", None),
            "management home": ("/manage/", "leader"),
            "round page": (f"/manage/campaigns/{self.ballot_round.pk}/", "leader"),
            "units": ("/manage/units/", "leader"),
            "rectification": ("/manage/rectification/", "manager_a"),
            "admin login": ("/admin/login/", None),
            "admin index": ("/admin/", "admin"),
            "API docs": ("/api/docs/", "leader"),
            "API docs script": ("/api/docs/?script", "leader"),
            "not found": ("/no-such-page/", None),
        }

    def test_every_kind_of_page_carries_the_policy(self):
        for kind, (url, who) in self.pages().items():
            with self.subTest(kind):
                self.client.logout()
                if who:
                    self.client.force_login(getattr(self, who))
                response = self.client.get(url)
                self.assertLess(response.status_code, 500)
                self.assertIn(HEADER, response, url)
                directives = policy(response)
                self.assertEqual(directives["default-src"], ["'self'"])
                self.assertEqual(directives["object-src"], ["'none'"])
                self.assertEqual(directives["base-uri"], ["'none'"])
                self.assertEqual(directives["frame-ancestors"], ["'none'"])
                self.assertEqual(directives["form-action"], ["'self'"])
                self.assertEqual(directives["img-src"][:2], ["'self'", "data:"])
                docs = kind.startswith("API docs")
                scripts = (
                    ["'self'", *API_DOCS_CSP["script-src"]] if docs else ["'self'"]
                )
                styles = ["'self'", *API_DOCS_CSP["style-src"]] if docs else ["'self'"]
                self.assertEqual(directives["script-src"], scripts)
                self.assertEqual(directives["style-src"], styles)
                for sources in directives.values():
                    self.assertNotIn("'unsafe-inline'", sources)
                    self.assertNotIn("'unsafe-eval'", sources)
                    self.assertNotIn("*", sources)

    def test_the_api_docs_add_only_the_hash_of_their_style_and_no_other_host(self):
        self.assertEqual(API_DOCS_CSP["script-src"], [])
        self.assertEqual(API_DOCS_CSP["img-src"], [])
        [digest] = API_DOCS_CSP["style-src"]
        self.assertRegex(digest, r"^'sha256-[A-Za-z0-9+/]{43}='$")
        self.client.force_login(self.leader)
        page = self.client.get("/api/docs/").content.decode()
        # Swagger UI itself is served from our static files, not a CDN.
        self.assertNotIn(CDN, page)
        self.assertRegex(page, r'src="/static/drf_spectacular_sidecar/swagger-ui-dist/')
        # Its start-up script is a file (?script), not inline.
        self.assertRegex(page, r'<script src="/api/docs/\?script=?"></script>')


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value or "" for name, value in attrs}
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in names.items():
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if value.strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: in {name}= on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script")


class TemplateScanTests(PersonaTestCase):
    def test_no_template_holds_inline_script_style_or_event_handlers(self):
        templates = [path for folder in TEMPLATE_DIRS for path in folder.rglob("*")]
        templates = [path for path in templates if path.is_file()]
        self.assertGreater(len(templates), 40)
        found = {}
        for path in templates:
            scanner = _Scanner()
            scanner.feed(path.read_text(encoding="utf-8"))
            if scanner.found:
                found[str(path.relative_to(settings.BASE_DIR))] = scanner.found
        self.assertEqual(found, {})


VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class BrowserTests(Respondent, BrowserTestCase):
    js = True

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        settings_ = override_settings(PUBLIC_BASE_URL=self.live_server_url)
        settings_.enable()
        self.addCleanup(settings_.disable)
        self.school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        self.committee = make_unit(
            "A", Unit.Kind.COMMITTEE, self.school, "teaching", name="甲学院党委"
        )
        make_user("office", Membership.Role.OFFICE, self.school)
        self.violations: list[str] = []

    def watched(self, page):
        """The page, with every CSP violation (event or console message) noted."""
        page.expose_function(
            "reportViolation", lambda text: self.violations.append(text)
        )
        page.add_init_script(VIOLATIONS)
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and self.violations.append(message.text)
            ),
        )
        return page

    def assert_probe_is_blocked(self, page) -> None:
        """An inline script added now is refused, and the listener hears it."""
        page.evaluate(
            """() => {
                const probe = document.createElement("script");
                probe.textContent = "window.probeRan = true";
                document.head.append(probe);
            }"""
        )
        page.wait_for_timeout(200)
        self.assertFalse(page.evaluate("() => window.probeRan === true"))
        self.assertTrue(
            any("script-src" in v for v in self.violations), self.violations
        )

    def test_a_respondent_answers_and_a_ballot_is_used_with_no_violation(self):
        campaign = make_round(self.school, title="秋季评议")
        point = point_of(campaign, self.committee)
        page = self.watched(self.phone())
        response = page.goto(f"{self.live_server_url}/s/{point.token}/")
        self.assertIn("script-src 'self'", response.headers["content-security-policy"])
        self.answer(page, point)
        posts = []
        page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
        self.submit(page)
        self.assertTrue(page.get_by_role("heading", name="感谢您的评价！").is_visible())
        self.assertEqual(len(posts), 1)

        ballot_round = make_round(self.school, title="党员大会", mode="ballot")
        slip = point_of(ballot_round, self.committee)
        code = ballots_issue(point=slip, count=1)[0]
        self.assertEqual(self.open_slip(page, f"{self.live_server_url}/b/#{code}"), 200)
        self.answer(page, slip)
        self.submit(page)
        self.assertTrue(page.get_by_role("heading", name="感谢您的评价！").is_visible())
        self.assertEqual(self.violations, [])
        self.assert_probe_is_blocked(page)

    def test_the_management_pages_and_the_admin_work_with_no_violation(self):
        ballot_round = make_round(self.school, title="党员大会", mode="ballot")
        page = self.watched(self.desktop())
        self.log_in(page, "office")
        for path in (
            "/manage/",
            "/manage/campaigns/",
            "/manage/units/",
            "/manage/rectification/",
            f"/manage/campaigns/{ballot_round.pk}/",
        ):
            response = page.goto(f"{self.live_server_url}{path}")
            self.assertEqual(response.status, 200, path)
            self.assertIn(HEADER.lower(), response.headers, path)
        # On the round's page the slip count box takes its width from the
        # stylesheet, not from a style= attribute.
        em, width = page.locator("input[name=count]").first.evaluate(
            """box => [getComputedStyle(box).fontSize, getComputedStyle(box).width]
                .map(parseFloat)"""
        )
        self.assertAlmostEqual(width, 6 * em, delta=1)

        get_user_model().objects.create_superuser("root", password="pw-root")
        admin = self.watched(self.desktop())
        admin.goto(f"{self.live_server_url}/admin/login/")
        admin.fill("#id_username", "root")
        admin.fill("#id_password", "pw-root")
        with admin.expect_navigation():
            admin.click("input[type=submit]")
        self.assertEqual(admin.url, f"{self.live_server_url}/admin/")
        # The admin's own scripts run: its theme switch changes the theme.
        before = admin.evaluate("() => document.documentElement.dataset.theme")
        admin.locator("button.theme-toggle").first.click()
        after = admin.evaluate("() => document.documentElement.dataset.theme")
        self.assertNotEqual(before, after)
        for path in ("/admin/organizations/unit/", "/admin/organizations/unit/add/"):
            response = admin.goto(f"{self.live_server_url}{path}")
            self.assertEqual(response.status, 200, path)
        self.assertEqual(self.violations, [])
        self.assert_probe_is_blocked(admin)
