"""How the results pages present units: in tree order, with codes where names
repeat, percentages and Chinese dates, and a manager's school-wide rank, which
is shown only when it tells nothing about a hidden unit (docs/methods.md §6).

Four branches, 40 answers each, every one shown: 甲学院学生党支部 (A-1, 50%) and
图书馆党支部 (LIB-01, 75%) under committee A; 乙机关教工党支部 (B-1, 60%) and a second
图书馆党支部 (LIB-02, 70%) under committee B. By code the database lists A-1,
B-1, LIB-01, LIB-02; the tree lists A-1, LIB-01, B-1, LIB-02.
"""

from __future__ import annotations

import re

from analysis.models import AnalysisRun
from organizations.models import Unit
from organizations.templatetags.present import cn_date, cn_period
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill, published

KINDS = {"branch": "wuhao-branch"}


class PresentationTestCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.library_a = make_unit(
            "LIB-01", Unit.Kind.BRANCH, cls.unit_a, "staff", name="图书馆党支部"
        )
        cls.library_b = make_unit(
            "LIB-02", Unit.Kind.BRANCH, cls.unit_b, "staff", name="图书馆党支部"
        )

    def make_results(self, extra: dict | None = None):
        campaign = make_round(self.school, kinds=KINDS)
        for unit, satisfied in (
            (self.branch_a, 20),
            (self.library_a, 30),
            (self.branch_b, 24),
            (self.library_b, 28),
        ):
            fill(point_of(campaign, unit), n=40, satisfied=satisfied)
        for unit, (n, satisfied) in (extra or {}).items():
            fill(point_of(campaign, unit), n=n, satisfied=satisfied)
        analysed(campaign)
        published(campaign)
        self.campaign = campaign
        return campaign

    def page(self, user, url: str, status: int = 200) -> str:
        self.client.force_login(user)
        response = self.client.get(url)
        self.assertEqual(response.status_code, status, url)
        return response.content.decode()

    def overview(self) -> str:
        return f"/manage/campaigns/{self.campaign.pk}/results/"

    def report(self, unit) -> str:
        return f"/manage/campaigns/{self.campaign.pk}/units/{unit.pk}/report/"


def section(html: str, anchor: str) -> str:
    found = re.search(
        rf'<section class="card[^"]*" id="{anchor}">(.*?)</section>', html, re.S
    )
    assert found, anchor
    return found.group(1)


def ranking_cells(html: str) -> list[tuple[str, str]]:
    """(rank cell, unit) of every row in the ranking tables, in page order."""
    return [
        (re.sub(r"<[^>]+>", "", rank).strip(), unit)
        for rank, unit in re.findall(
            r'<tr><td class="num">(.*?)</td><td class="name"><a href="[^"]+">(.*?)</a>',
            section(html, "ranking"),
        )
    ]


class TreeOrderAndCodesTests(PresentationTestCase):
    def test_units_follow_the_tree_not_the_codes(self):
        self.make_results()
        html = section(self.page(self.leader, self.overview()), "attention")
        names = re.findall(r'<li><a href="[^"]+">(.*?)</a>', html)
        self.assertEqual(
            names,
            [
                "甲学院学生党支部",
                "图书馆党支部（LIB-01）",
                "乙机关教工党支部",
                "图书馆党支部（LIB-02）",
            ],
        )

    def test_repeated_names_carry_their_codes_in_tables_and_charts(self):
        self.make_results()
        html = self.page(self.leader, self.overview())
        ranking = [unit for _, unit in ranking_cells(html)]
        self.assertIn("图书馆党支部（LIB-01）", ranking)
        self.assertIn("图书馆党支部（LIB-02）", ranking)
        funnel = re.search(r'<svg [^>]*class="chart funnel".*?</svg>', html, re.S)
        self.assertIn("图书馆党支部（LIB-02）", funnel.group(0))
        findings = section(html, "findings")
        self.assertIn("图书馆党支部（LIB-01）", findings)
        # A unique name stays as it is.
        self.assertNotIn("甲学院学生党支部（", html)

    def test_a_name_unique_among_the_units_shown_has_no_code(self):
        self.make_results()
        html = self.page(self.manager_a, self.overview())
        self.assertIn("图书馆党支部", html)
        self.assertNotIn("LIB-0", section(html, "ranking"))

    def test_the_report_names_the_units_code(self):
        self.make_results()
        html = self.page(self.leader, self.report(self.library_b))
        self.assertIn("编码 LIB-02", html)


class SchoolRankTests(PresentationTestCase):
    def test_a_manager_sees_its_units_place_in_the_whole_school(self):
        self.make_results()
        html = self.page(self.manager_a, self.overview())
        self.assertEqual(
            ranking_cells(html),
            [
                ("第1名（共4个）", "图书馆党支部"),
                ("第4名（共4个）", "甲学院学生党支部"),
            ],
        )
        self.assertIn("全校名次", html)
        report = self.page(self.manager_a, self.report(self.branch_a))
        self.assertIn("全校党支部第4名（共4个）", report)
        report = self.page(self.manager_b, self.report(self.library_b))
        self.assertIn("全校党支部第2名（共4个）", report)

    def test_the_office_reads_the_whole_ranking(self):
        self.make_results()
        html = self.page(self.leader, self.overview())
        self.assertEqual(
            ranking_cells(html),
            [
                ("1", "图书馆党支部（LIB-01）"),
                ("2", "图书馆党支部（LIB-02）"),
                ("3", "乙机关教工党支部"),
                ("4", "甲学院学生党支部"),
            ],
        )

    def test_no_place_is_given_when_a_unit_of_the_kind_is_hidden(self):
        # A fifth branch under B with 3 answers is hidden (and so is a sibling,
        # against subtraction): a place "of 4" or "of 2" would say so.
        tiny = make_unit("B-9", Unit.Kind.BRANCH, self.unit_b, "staff", name="乙小支部")
        self.make_results({tiny: (3, 3)})
        html = self.page(self.manager_a, self.overview())
        cells = ranking_cells(html)
        self.assertTrue(cells)
        self.assertEqual({rank for rank, _ in cells}, {"—"})
        self.assertNotIn("名（共", html)
        report = self.page(self.manager_a, self.report(self.branch_a))
        self.assertNotIn("名（共", report)
        self.assertIn("不显示：全校同类单位中有样本不足的单位", report)

    def test_no_place_is_given_when_the_units_do_not_differ(self):
        campaign = make_round(self.school, kinds=KINDS)
        for unit in (self.branch_a, self.library_a, self.branch_b, self.library_b):
            fill(point_of(campaign, unit), n=40, satisfied=30)
        analysed(campaign)
        published(campaign)
        self.campaign = campaign
        # Equal answers everywhere: completely pooled, no order to tell.
        html = self.page(self.manager_a, self.overview())
        self.assertNotIn("名（共", html)


class FiguresTests(PresentationTestCase):
    def test_the_target_is_a_percentage_and_the_run_a_chinese_date(self):
        self.make_results()
        html = self.page(self.leader, self.overview())
        run = AnalysisRun.objects.filter(campaign=self.campaign).first()
        self.assertIn(f"统计时间 {cn_date(run.created_at)}", html)
        self.assertRegex(html, r"统计时间 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d")
        self.assertIn('<div class="muted">目标 95%</div>', section(html, "school"))
        period = cn_period(self.campaign.opens_at, self.campaign.closes_at)
        self.assertRegex(period, r"^\d{4}年\d{1,2}月\d{1,2}日—")
        self.assertIn(f"评议时间 {period}。", html)
        report = self.page(self.leader, self.report(self.branch_a))
        self.assertIn(f"（{period}）", report)

    def test_the_findings_link_opens_the_rectification_page_not_the_api(self):
        self.make_results()
        html = self.page(self.leader, self.overview())
        self.assertNotIn("/api/", section(html, "findings"))
        self.assertIn('href="/manage/rectification/"', section(html, "findings"))
        self.assertNotIn("在接口中", html)


class AnalyzeConfirmationTests(PresentationTestCase):
    def url(self) -> str:
        return f"/manage/campaigns/{self.campaign.pk}/results/analyze/"

    def test_it_asks_before_replacing_published_results(self):
        self.make_results()
        runs = AnalysisRun.objects.filter(campaign=self.campaign).count()
        html = self.page(self.leader, self.url())
        self.assertIn("<h1>重新统计</h1>", html)
        self.assertIn("各单位看到的数字将立即改为新的统计结果", html)
        self.assertIn(f'action="{self.url()}"', html)
        self.assertIn("确认重新统计", html)
        self.assertEqual(
            AnalysisRun.objects.filter(campaign=self.campaign).count(), runs
        )
        # The overview's button is a link to this page, not a form that acts.
        overview = self.page(self.leader, self.overview())
        self.assertIn(
            f'<a class="button" href="{self.url()}">立即重新统计</a>', overview
        )

    def test_it_refuses_an_open_round_with_the_reason(self):
        self.campaign = make_round(self.school, kinds=KINDS)
        html = self.page(self.leader, self.url())
        self.assertIn("评议结束后才能统计", html)
        self.assertNotIn("确认统计", html)
        self.assertNotIn(f'action="{self.url()}"', html)

    def test_only_the_office_may_open_it(self):
        self.make_results()
        for user in (self.manager_a, self.reviewer):
            self.page(user, self.url(), status=403)


class ResultsDownloadTests(PresentationTestCase):
    def test_the_exports_are_files_from_the_pages_own_address(self):
        self.make_results()
        html = section(self.page(self.leader, self.overview()), "exports")
        self.assertNotIn("/api/", html)
        url = f"/manage/campaigns/{self.campaign.pk}/results/export.csv?level=unit"
        self.assertIn(url.replace("&", "&amp;"), html)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment;", response["Content-Disposition"])
        body = response.content.decode("utf-8-sig")
        self.assertIn("LIB-02", body)

    def test_a_manager_downloads_only_its_own_units(self):
        self.make_results()
        self.client.force_login(self.manager_a)
        url = f"/manage/campaigns/{self.campaign.pk}/results/export.csv?level=unit"
        body = self.client.get(url).content.decode("utf-8-sig")
        self.assertIn("LIB-01", body)
        self.assertNotIn("LIB-02", body)
        self.assertNotIn("乙机关教工党支部", body)

    def test_an_unknown_level_or_file_type_is_not_found(self):
        self.make_results()
        self.client.force_login(self.leader)
        base = f"/manage/campaigns/{self.campaign.pk}/results/export"
        self.assertEqual(self.client.get(f"{base}.csv?level=nope").status_code, 404)
        self.assertEqual(self.client.get(f"{base}.pdf").status_code, 404)
