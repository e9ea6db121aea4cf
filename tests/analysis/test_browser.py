"""The results pages in a real browser: headless Chromium through Playwright.

Logs in through the real login form, opens the overview and a unit report, checks
that the key text is visible and the charts have a size, presses the analyse
button (through its confirmation page), checks on a 375 px phone, with and without
JavaScript, that nothing is wider than the screen and that the collapsed
统计方法说明 opens, and saves screenshots (see tests/browser.py for Chromium and
where they go).
"""

from __future__ import annotations

from playwright.sync_api import expect

from analysis.models import AnalysisRun
from organizations.models import Membership, Unit
from tests.base import make_unit, make_user
from tests.browser import SCREENSHOTS, BrowserTestCase
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill, published

PREFIX = "BROWSER-"
USERNAME = "browser-leader"


class BrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
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
        analysed(self.campaign)
        self.page = self.desktop()

    def assert_chart_drawn(self, selector: str) -> None:
        box = self.page.locator(selector).first.bounding_box()
        self.assertIsNotNone(box, selector)
        self.assertGreater(box["width"], 300, selector)
        self.assertGreater(box["height"], 100, selector)

    def test_it_shows_the_overview_and_a_unit_report(self):
        self.log_in(self.page, USERNAME)
        base = f"{self.live_server_url}/manage/campaigns/{self.campaign.pk}"
        self.page.goto(f"{base}/results/")
        for text in (
            "全校与各类别满意率",
            "漏斗图：满意率与样本量",
            "统计方法说明（供核查）",
        ):
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

        # The collapsed methods section states φ (four branches are too few to
        # estimate it) and how far the shrinkage pooled them.
        self.page.locator("details#methods > summary").click()
        phi = self.page.locator("#method-state #phi-table")
        expect(phi).to_be_visible()
        expect(phi).to_contain_text("未估计")
        expect(phi).to_contain_text("合并")

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

    def test_the_analyse_button_asks_then_runs_the_statistics_again(self):
        published(self.campaign)
        self.log_in(self.page, USERNAME)
        results = f"{self.live_server_url}/manage/campaigns/{self.campaign.pk}/results/"
        self.page.goto(results)
        runs = AnalysisRun.objects.filter(campaign=self.campaign).count()

        # The button opens a confirmation page; leaving it changes nothing.
        with self.page.expect_navigation():
            self.page.get_by_role("link", name="立即重新统计").click()
        self.assertEqual(self.page.url, f"{results}analyze/")
        expect(self.page.locator("h1")).to_have_text("重新统计")
        expect(self.page.locator("#explanation")).to_contain_text(
            "各单位看到的数字将立即改为新的统计结果"
        )
        expect(self.page.locator("nav[aria-label=breadcrumb]")).to_contain_text(
            "统计结果"
        )
        with self.page.expect_navigation():
            self.page.get_by_role("link", name="返回，不做更改").click()
        self.assertEqual(self.page.url, results)
        self.assertEqual(
            AnalysisRun.objects.filter(campaign=self.campaign).count(), runs
        )

        # Confirmed, it runs, and says so.
        with self.page.expect_navigation():
            self.page.get_by_role("link", name="立即重新统计").click()
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="确认重新统计").click()
        self.assertEqual(self.page.url, results)
        self.assertEqual(
            AnalysisRun.objects.filter(campaign=self.campaign).count(), runs + 1
        )
        expect(self.page.locator("ul.messages")).to_contain_text("统计完成")
        self.assertTrue(self.page.get_by_text("83.3%").first.is_visible())

    def test_the_pages_fit_a_phone_and_the_methods_open_without_a_script(self):
        base = f"{self.live_server_url}/manage/campaigns/{self.campaign.pk}"
        for js in (True, False):
            page = self.phone(js=js)
            self.log_in(page, USERNAME)
            for url in (
                f"{base}/results/",
                f"{base}/units/{self.branches[0].pk}/report/",
            ):
                with self.subTest(js=js, url=url):
                    page.goto(url)
                    self.assert_fits_the_screen(page)
                    expect(page.locator("#basis")).to_contain_text("口径：满意率")
                    methods = page.locator("details#methods")
                    definitions = methods.get_by_role("heading", name="口径与方法")
                    expect(definitions).to_be_hidden()
                    methods.locator(":scope > summary").click()
                    expect(methods).to_have_attribute("open", "")
                    expect(definitions).to_be_visible()
                    # Opened, its wide tables still scroll inside their own box.
                    self.assert_fits_the_screen(page)
            page.screenshot(
                path=SCREENSHOTS / f"report_phone_js{int(js)}.png", full_page=True
            )

    def assert_fits_the_screen(self, page) -> None:
        width = page.viewport_size["width"]
        self.assertLessEqual(
            page.evaluate("document.documentElement.scrollWidth"), width
        )
        wide = page.evaluate(
            """width => [...document.querySelectorAll("main *")]
                .filter(n => n.getClientRects().length
                    && n.getBoundingClientRect().right > width + 0.5
                    && !n.closest(".table"))
                .map(n => n.tagName + "." + n.className)""",
            width,
        )
        self.assertEqual(wide, [])

    def assert_fits_a4_when_printed(self) -> None:
        """With print styles at the width of A4 (210 mm at 96 dpi, less the page
        margins), no chart runs past the page and the navigation is gone."""
        self.page.emulate_media(media="print")
        self.page.set_viewport_size({"width": 703, "height": 900})
        try:
            self.assertFalse(self.page.locator(".topbar nav").is_visible())
            self.assertFalse(self.page.locator(".toolbar").first.is_visible())
            # The collapsed methods section prints whole, open or not.
            methods = self.page.locator("details#methods")
            expect(methods.get_by_role("heading", name="口径与方法")).to_be_visible()
            for box in self.page.locator("svg.chart").evaluate_all(
                "nodes => nodes.map(n => n.getBoundingClientRect().right)"
            ):
                self.assertLessEqual(box, 703)
        finally:
            self.page.emulate_media(media="screen")
            self.page.set_viewport_size({"width": 1280, "height": 900})
