"""The results pages: the overview of a round and a unit's report, by every persona."""

import re
import xml.etree.ElementTree as ET

from django.test import Client, SimpleTestCase

from analysis.models import AnalysisRun
from analysis.templatetags import result_format
from organizations.models import Unit
from questionnaires.services import campaign_close
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill
from .synthetic import published as publish_round

SVG = "{http://www.w3.org/2000/svg}"
HIDDEN = "样本不足，不予显示"


def svg_of(html: str, css: str) -> ET.Element:
    match = re.search(rf'<svg [^>]*class="chart {css}".*?</svg>', html, re.S)
    assert match, f"no {css} chart"
    return ET.fromstring(match.group(0))


class PageTestCase(PersonaTestCase):
    """Teaching category: A-1 (120 answers, 83.3%, RED), A-2 (4 answers, 75.0%,
    under the threshold), A-3 (30 answers, 96.7%, hidden so that the category
    total minus A-1 cannot give A-2). Administration: B-1 (60, 98.3%) and B-2
    (8 of 8: shown, but too few for a flag or a breakdown). A baseline round had
    A-1 at 70%."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.tiny = make_unit(
            "A-2", Unit.Kind.BRANCH, cls.unit_a, "staff", name="甲小支部"
        )
        cls.third = make_unit(
            "A-3", Unit.Kind.BRANCH, cls.unit_a, "staff", name="<script>甲三支部"
        )
        cls.small_b = make_unit(
            "B-2", Unit.Kind.BRANCH, cls.unit_b, "staff", name="乙小支部"
        )
        kinds = {"branch": "wuhao-branch"}
        cls.baseline = make_round(cls.school, title="上一轮", kinds=kinds)
        fill(point_of(cls.baseline, cls.branch_a), n=100, satisfied=70)
        fill(point_of(cls.baseline, cls.branch_b), n=60, satisfied=58)
        analysed(cls.baseline)
        cls.campaign = make_round(cls.school, kinds=kinds, baseline=cls.baseline)
        fill(
            point_of(cls.campaign, cls.branch_a),
            n=120,
            satisfied=100,
            comments=["窗口电话13812345678总是没人接", "办事太慢", "办事效率低"],
        )
        fill(point_of(cls.campaign, cls.tiny), n=4, satisfied=3)
        fill(point_of(cls.campaign, cls.third), n=30, satisfied=29)
        fill(point_of(cls.campaign, cls.branch_b), n=60, satisfied=59)
        fill(point_of(cls.campaign, cls.small_b), n=8, satisfied=8)
        analysed(cls.campaign)
        cls.overview = f"/manage/campaigns/{cls.campaign.pk}/results/"

    def report(self, unit) -> str:
        return f"/manage/campaigns/{self.campaign.pk}/units/{unit.pk}/report/"

    def publish(self) -> None:
        publish_round(self.campaign)

    def page(self, user, url: str, status: int = 200, **params) -> str:
        self.client.force_login(user)
        response = self.client.get(url, params)
        self.assertEqual(response.status_code, status, url)
        return response.content.decode()


class PersonaTests(PageTestCase):
    def test_every_persona_on_both_pages_before_and_after_publication(self):
        # (overview, report of A-1) before publication, then after.
        expected = {
            "leader": ((200, 200), (200, 200)),
            "manager_a": ((403, 403), (200, 200)),
            "manager_b": ((403, 404), (200, 404)),
            "reviewer": ((403, 403), (200, 200)),
            "anonymous": ((302, 302), (302, 302)),
        }
        for published in (False, True):
            if published:
                self.publish()
            for persona, statuses in expected.items():
                self.client.logout()
                if persona != "anonymous":
                    self.client.force_login(getattr(self, persona))
                got = tuple(
                    self.client.get(url).status_code
                    for url in (self.overview, self.report(self.branch_a))
                )
                with self.subTest(persona=persona, published=published):
                    self.assertEqual(got, statuses[published])

    def test_anonymous_visitors_are_sent_to_the_login(self):
        for url in (self.overview, self.report(self.branch_a)):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302)
            self.assertIn("/accounts/login/", response["Location"])

    def test_the_office_reads_both_pages_before_publication(self):
        html = self.page(self.leader, self.overview)
        self.assertIn("甲学院学生党支部", html)
        self.assertIn("83.3%", html)
        self.assertIn("结果尚未发布", html)
        report = self.page(self.leader, self.report(self.branch_a))
        self.assertIn("83.3%", report)
        self.assertIn("flag-RED", report)

    def test_managers_and_reviewers_wait_for_publication(self):
        for user in (self.manager_a, self.manager_b, self.reviewer):
            html = self.page(user, self.overview, status=403)
            self.assertIn("本轮结果尚未发布", html)
            self.assertNotIn("83.3%", html)
        self.page(self.manager_a, self.report(self.branch_a), status=403)
        self.page(self.reviewer, self.report(self.branch_a), status=403)

    def test_a_unit_outside_the_readers_scope_is_404_before_and_after_publication(
        self,
    ):
        self.page(self.manager_b, self.report(self.branch_a), status=404)
        self.publish()
        self.page(self.manager_b, self.report(self.branch_a), status=404)
        self.page(self.manager_a, self.report(self.branch_b), status=404)

    def test_after_publication_each_manager_reads_its_own_units(self):
        self.publish()
        html_a = self.page(self.manager_a, self.overview)
        self.assertIn("甲学院学生党支部", html_a)
        self.assertIn("83.3%", html_a)
        self.assertNotIn("乙机关教工党支部", html_a)
        html_b = self.page(self.manager_b, self.overview)
        self.assertIn("乙机关教工党支部", html_b)
        self.assertNotIn("甲学院学生党支部", html_b)
        report = self.page(self.manager_a, self.report(self.branch_a))
        self.assertIn("83.3%", report)

    def test_after_publication_the_reviewer_reads_the_whole_school(self):
        self.publish()
        html = self.page(self.reviewer, self.overview)
        self.assertIn("甲学院学生党支部", html)
        self.assertIn("乙机关教工党支部", html)
        self.assertNotIn("立即重新统计", html)
        self.page(self.reviewer, self.report(self.branch_b))

    def test_a_unit_not_evaluated_in_the_round_has_no_report(self):
        self.page(self.leader, self.report(self.unit_a), status=404)

    def test_a_round_of_another_organiser_is_404(self):
        other = make_round(
            self.unit_b, title="乙内部", kinds={"branch": "wuhao-branch"}
        )
        self.page(self.manager_a, f"/manage/campaigns/{other.pk}/results/", 404)

    def test_the_office_sees_an_empty_round_with_the_button_to_analyse(self):
        fresh = make_round(
            self.school, title="新一轮", kinds={"branch": "wuhao-branch"}
        )
        url = f"/manage/campaigns/{fresh.pk}/results/"
        # While it runs: no analysis, and no button for one.
        html = self.page(self.leader, url)
        self.assertIn("评议进行中：结束后才能统计", html)
        self.assertNotIn("立即统计", html)
        campaign_close(campaign=fresh)
        html = self.page(self.leader, url)
        self.assertIn("本轮尚未统计", html)
        self.assertIn("立即统计", html)


class AnonymityTests(PageTestCase):
    def test_a_unit_under_the_threshold_shows_no_figures_to_a_manager(self):
        self.publish()
        overview = self.page(self.manager_a, self.overview)
        report = self.page(self.manager_a, self.report(self.tiny))
        for html in (overview, report):
            self.assertIn("甲小支部", html)
            self.assertIn(HIDDEN, html)
            self.assertNotIn("75.0%", html)
            self.assertNotIn("n = 4", html)
        self.assertNotIn('id="dimensions"', report)

    def test_the_office_default_view_hides_too_and_the_raw_view_shows(self):
        self.assertNotIn("75.0%", self.page(self.leader, self.overview))
        raw = self.page(self.leader, self.overview, raw="1")
        self.assertIn("75.0%", raw)
        self.assertIn("原始视图", raw)
        self.assertIn("75.0%", self.page(self.leader, self.report(self.tiny), raw="1"))

    def test_only_the_office_gets_the_raw_view(self):
        self.publish()
        html = self.page(self.manager_a, self.overview, raw="1")
        self.assertNotIn("75.0%", html)
        self.assertNotIn("原始视图：", html)

    def test_the_category_total_cannot_reveal_the_hidden_unit(self):
        # Teaching = A-1 + A-2 + A-3. With only A-2 hidden, the category total minus
        # would give A-2 away, so A-3 is hidden too.
        self.publish()
        html = self.page(self.manager_a, self.overview)
        self.assertIn("教学院部", html)
        self.assertIn("85.7%", html)  # the category: 132 of 154
        for hidden in ("96.7%", "75.0%", "n = 30", "n = 4"):
            self.assertNotIn(hidden, html)
        report = self.page(self.manager_a, self.report(self.third))
        self.assertIn(HIDDEN, report)
        self.assertNotIn("96.7%", report)
        # Neither its dimensions nor its 总体评价 question give it back.
        self.assertNotIn('id="dimensions"', report)

    def test_a_unit_under_the_flag_threshold_shows_its_rate_but_no_breakdown(self):
        self.publish()
        html = self.page(self.manager_b, self.report(self.small_b))
        self.assertIn("100.0%", html)
        self.assertIn("flag-GREY", html)
        breakdown = html.split('id="dimensions"')[1].split("</section>")[0]
        self.assertIn("不作分维度、分题目展示", breakdown)
        self.assertNotIn("<svg", breakdown)
        self.assertNotIn("<table", breakdown)

    def test_comments_are_masked_and_shown_only_with_enough_answers(self):
        self.publish()
        html = self.page(self.manager_a, self.report(self.branch_a))
        self.assertIn("［电话］", html)
        self.assertNotIn("13812345678", html)
        self.assertIn("办事太慢", html)
        small = self.page(self.manager_b, self.report(self.small_b))
        self.assertIn("意见不予显示", small)

    def test_a_unit_name_is_escaped_in_the_pages_and_the_charts(self):
        for html in (
            self.page(self.leader, self.overview, raw="1"),
            self.page(self.leader, self.report(self.third), raw="1"),
        ):
            self.assertIn("&lt;script&gt;甲三支部", html)
            self.assertNotIn("<script>", html)


class FigureTests(PageTestCase):
    def test_the_funnel_has_the_limits_and_one_point_per_unit_shown(self):
        html = self.page(self.leader, self.overview)
        funnel = svg_of(html, "funnel")
        points = [c for c in funnel.iter(f"{SVG}circle") if c.get("class") == "point"]
        # Shown: A-1, B-1, B-2. Hidden: A-2 (under the threshold), A-3 (protects it).
        self.assertEqual(len(points), 3)
        classes = [p.get("class") for p in funnel.iter(f"{SVG}polyline")]
        self.assertEqual(classes.count("limit limit-95"), 2)
        self.assertEqual(classes.count("limit limit-998"), 2)
        titles = " ".join(p.find(f"{SVG}title").text for p in points)
        self.assertIn("甲学院学生党支部", titles)
        self.assertNotIn("甲小支部", titles)
        raw = svg_of(self.page(self.leader, self.overview, raw="1"), "funnel")
        self.assertEqual(
            len([c for c in raw.iter(f"{SVG}circle") if c.get("class") == "point"]),
            5,
        )

    def test_the_ranking_is_by_the_shrunken_estimate(self):
        html = self.page(self.leader, self.overview)
        ranking = html.split('id="ranking"')[1].split("</section>")[0]
        # On raw rates B-2 (8 of 8) would lead; shrinkage pulls its few answers
        # towards the other units, below B-1 (59 of 60).
        names = re.findall(r'report/">([^<]+)</a>', ranking)
        self.assertEqual(names, ["乙机关教工党支部", "乙小支部", "甲学院学生党支部"])
        # The estimates ranked on are in the collapsed section, in the same order.
        checks = html.split('id="unit-checks"')[1].split("</table>")[0]
        rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([\d.]+)%", checks)
        self.assertEqual([name for name, _ in rows], names)
        estimates = [float(value) for _, value in rows]
        self.assertEqual(estimates, sorted(estimates, reverse=True))
        self.assertIn("收缩估计", checks)

    def test_each_page_states_its_definitions_once(self):
        for url in (self.overview, self.report(self.branch_a)):
            html = self.page(self.leader, url)
            with self.subTest(url=url):
                self.assertGreaterEqual(len(re.findall(r"<figure>", html)), 1)
                # Once, before the figures, and not again under each of them.
                self.assertEqual(html.count("口径："), 1)
                basis = re.search(r'<p class="footnote" id="basis">(.*?)</p>', html)
                self.assertIn("满意率（‘满意’‘基本满意’计为满意）", basis.group(1))
                self.assertIn("不了解", basis.group(1))
                self.assertLess(basis.start(), html.index("<figure>"))
                # The method names live in the collapsed section only.
                methods = html.split('<details class="card methods" id="methods">')
                self.assertNotIn("Benjamini–Hochberg", methods[0])
                self.assertIn("Benjamini–Hochberg", methods[1])
                self.assertIn("口径与方法", methods[1])

    def test_the_before_after_section_names_regression_to_the_mean(self):
        html = self.page(self.leader, self.overview)
        change = html.split('id="change"')[1].split("</section>")[0]
        self.assertIn("均值回归", change)
        self.assertIn("+13.3", change)  # 70.0% → 83.3%
        self.assertIn("Newcombe", change)
        svg_of(change, "intervals")

    def test_the_unit_report_says_where_its_rate_comes_from_and_what_its_flag_means(
        self,
    ):
        html = self.page(self.leader, self.report(self.branch_a))
        self.assertIn("“总体评价”题", html)
        self.assertIn("已列为问题清单候选", html)
        self.assertIn("总体满意率显著低于目标", html)  # its finding, without figures
        self.assertIn("83.3%", html)
        svg_of(html, "intervals")

    def test_the_report_explains_why_a_unit_is_not_confirmed(self):
        def note(unit) -> str:
            html = self.page(self.leader, self.report(unit)).split("口径与方法")[0]
            found = re.search(r'<p class="note confirm-note">(.*?)</p>', html, re.S)
            return found.group(1) if found else ""

        # 8 of 8 is GREY: even all satisfied, 59 answers are needed to confirm.
        self.assertIn("至少需要 59 个有效回答", note(self.small_b))
        self.assertIn("本单位有 8 个", note(self.small_b))
        # 59 of 60 is GREEN, but its exact lower bound is under the target.
        self.assertIn("尚不能确认达标", note(self.branch_b))
        self.assertEqual(note(self.branch_a), "")  # RED


class AnalyzeButtonTests(PageTestCase):
    def url(self) -> str:
        return f"{self.overview}analyze/"

    def test_the_office_runs_the_analysis_from_the_page(self):
        before = AnalysisRun.objects.filter(campaign=self.campaign).count()
        self.client.force_login(self.leader)
        response = self.client.post(self.url())
        self.assertRedirects(response, self.overview)
        self.assertEqual(
            AnalysisRun.objects.filter(campaign=self.campaign).count(), before + 1
        )
        self.assertIn("立即重新统计", self.page(self.leader, self.overview))

    def test_nobody_else_may_run_it(self):
        for user in (self.manager_a, self.reviewer):
            self.client.force_login(user)
            self.assertEqual(self.client.post(self.url()).status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.post(self.url()).status_code, 302)

    def test_it_needs_a_post_with_a_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.leader)
        runs = AnalysisRun.objects.filter(campaign=self.campaign).count()
        self.assertEqual(client.get(self.url()).status_code, 200)  # it asks first
        self.assertEqual(client.post(self.url()).status_code, 403)
        self.assertEqual(
            AnalysisRun.objects.filter(campaign=self.campaign).count(), runs
        )


class CampaignPageLinkTests(PageTestCase):
    def test_the_round_page_links_to_the_results_for_those_who_may_read_them(self):
        detail = f"/manage/campaigns/{self.campaign.pk}/"
        self.assertIn(self.overview, self.page(self.leader, detail))
        self.assertIn(self.report(self.branch_a), self.page(self.leader, detail))
        self.assertNotIn(self.overview, self.page(self.manager_a, detail))
        self.publish()
        html = self.page(self.manager_a, detail)
        self.assertIn(self.overview, html)
        self.assertIn(self.report(self.branch_a), html)


class FormatTests(SimpleTestCase):
    def test_figures_are_formatted_for_reading(self):
        self.assertEqual(result_format.pct(0.83333), "83.3%")
        self.assertEqual(result_format.pct(0.95, 0), "95%")
        self.assertEqual(result_format.pct(None), "—")
        self.assertEqual(result_format.points(0.1333), "+13.3")
        self.assertEqual(result_format.points(-0.035), "-3.5")
        self.assertEqual(result_format.pvalue(0.0004), "< 0.001")
        self.assertEqual(result_format.p_relation(0.0004), "< 0.001")
        self.assertEqual(result_format.p_relation(0.0456), "= 0.046")
        self.assertEqual(result_format.flag_label("GREEN_CONFIRMED"), "确认达标")
        self.assertEqual(result_format.verdict_label("IMPROVED"), "达标或显著提高")
