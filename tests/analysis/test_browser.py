"""The results pages in a real browser: headless Chromium through Playwright.

Logs in through the real login form, opens the overview and a unit report, checks
that the key text is visible and the charts have a size, and saves screenshots
(to ``$SCREENSHOT_DIR``, by default ``<tmp>/survey_service_screenshots``).

Chromium is not downloaded by Playwright: the system's ``/usr/bin/chromium`` (or
``$CHROMIUM``) is used. Without it the test is skipped, unless
``REQUIRE_BROWSER_TESTS=1`` (set by .ci/run), where its absence is a failure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from unittest import SkipTest

from django.contrib.auth import get_user_model
from django.contrib.staticfiles.testing import StaticLiveServerTestCase

from analysis.models import AnalysisRun, Finding
from analysis.services import campaign_analyze
from organizations.models import Membership, Unit
from questionnaires.models import Answer, Campaign, Response
from tests.base import make_unit, make_user
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import fill

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PREFIX = "BROWSER-"
USERNAME = "browser-leader"
SCREENSHOTS = Path(
    os.environ.get(
        "SCREENSHOT_DIR",
        Path(tempfile.gettempdir()) / "survey_service_screenshots",
    )
)


class BrowserTests(StaticLiveServerTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        if not Path(CHROMIUM).exists():
            if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
                raise AssertionError(f"Chromium is required but {CHROMIUM} is missing")
            raise SkipTest(
                f"no Chromium at {CHROMIUM}: install it (apt-get install chromium) "
                "or set CHROMIUM to run the browser tests"
            )
        # Playwright's sync API runs an event loop in this thread; the test's own
        # database calls happen between its calls, never inside the loop.
        cls.async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        super().setUpClass()
        from playwright.sync_api import sync_playwright

        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()
        if cls.async_unsafe is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls.async_unsafe

    def setUp(self) -> None:
        school = make_unit(f"{PREFIX}S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit(
            f"{PREFIX}A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        self.branches = [
            make_unit(
                f"{PREFIX}A-{i}",
                Unit.Kind.BRANCH,
                committee,
                "student",
                name=f"甲学院第{i}党支部",
            )
            for i in range(1, 5)
        ]
        make_user(USERNAME, Membership.Role.OFFICE, school)
        self.campaign = make_round(school, kinds={"branch": "wuhao-branch"})
        for branch, (n, satisfied) in zip(
            self.branches, [(120, 100), (80, 78), (60, 58), (40, 39)], strict=True
        ):
            fill(
                point_of(self.campaign, branch),
                n=n,
                satisfied=satisfied,
                comments=["办事效率高", "排队时间太长", "服务热情周到"],
            )
        campaign_analyze(campaign=self.campaign)
        self.page = self.browser.new_page(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def tearDown(self) -> None:
        self.page.close()

    def _fixture_teardown(self) -> None:
        # Not Django's flush of every table: on SQLite its DELETEs trip the freeze
        # triggers of published questionnaires (migration 0003), and on PostgreSQL
        # its TRUNCATE would wipe the built-in questionnaires later tests need.
        campaigns = Campaign.objects.filter(organizer__code=f"{PREFIX}S")
        Finding.objects.filter(campaign__in=campaigns).delete()
        AnalysisRun.objects.filter(campaign__in=campaigns).delete()
        Answer.objects.filter(point__campaign__in=campaigns).delete()
        Response.objects.filter(point__campaign__in=campaigns).delete()
        campaigns.delete()
        get_user_model().objects.filter(username=USERNAME).delete()
        for kind in (Unit.Kind.BRANCH, Unit.Kind.COMMITTEE, Unit.Kind.SCHOOL):
            Unit.objects.filter(code__startswith=PREFIX, kind=kind).delete()

    def log_in(self) -> None:
        self.page.goto(f"{self.live_server_url}/accounts/login/")
        self.page.fill("#id_username", USERNAME)
        self.page.fill("#id_password", f"pw-{USERNAME}")
        self.page.click("form button[type=submit]")
        self.page.wait_for_url(f"{self.live_server_url}/manage/**")

    def assert_chart_drawn(self, selector: str) -> None:
        box = self.page.locator(selector).first.bounding_box()
        self.assertIsNotNone(box, selector)
        self.assertGreater(box["width"], 300, selector)
        self.assertGreater(box["height"], 100, selector)

    def test_it_shows_the_overview_and_a_unit_report(self):
        self.log_in()
        base = f"{self.live_server_url}/manage/campaigns/{self.campaign.pk}"
        self.page.goto(f"{base}/results/")
        for text in ("全校与各类别满意率", "漏斗图：满意率与样本量", "口径与方法"):
            self.assertTrue(
                self.page.get_by_role("heading", name=text).is_visible(), text
            )
        self.assertTrue(self.page.get_by_text("83.3%").first.is_visible())
        self.assert_chart_drawn("svg.chart.funnel")
        self.assert_chart_drawn("svg.chart.histogram")
        points = self.page.locator("svg.chart.funnel circle.point")
        self.assertEqual(points.count(), 4)
        self.page.screenshot(path=SCREENSHOTS / "overview.png", full_page=True)
        self.assert_fits_a4_when_printed()

        # The funnel's dots link to the units' reports.
        points.first.click()
        self.page.wait_for_url(f"{base}/units/**/report/")
        self.assertTrue(
            self.page.get_by_role("heading", name="总体满意率").is_visible()
        )
        self.assertTrue(self.page.get_by_text("排队时间太长").is_visible())
        self.assert_chart_drawn("svg.chart.intervals")
        self.page.screenshot(path=SCREENSHOTS / "unit_report.png", full_page=True)
        self.assert_fits_a4_when_printed()
        self.page.pdf(path=SCREENSHOTS / "unit_report.pdf", format="A4")

    def assert_fits_a4_when_printed(self) -> None:
        """With print styles at the width of A4 (210 mm at 96 dpi, less the page
        margins), no chart runs past the page and the navigation is gone."""
        self.page.emulate_media(media="print")
        self.page.set_viewport_size({"width": 703, "height": 900})
        try:
            self.assertFalse(self.page.locator(".topbar nav").is_visible())
            self.assertFalse(self.page.locator(".toolbar").first.is_visible())
            for box in self.page.locator("svg.chart").evaluate_all(
                "nodes => nodes.map(n => n.getBoundingClientRect().right)"
            ):
                self.assertLessEqual(box, 703)
        finally:
            self.page.emulate_media(media="screen")
            self.page.set_viewport_size({"width": 1280, "height": 900})
