"""How the results pages say their results (issue 12, items 11–13): verdicts in
words beside their colour, the rate named from the scale's own labels, the
statistics in one collapsed section, one sentence where two verdicts look
contradictory. Expected figures are worked by hand or with scipy, as noted.
"""

from __future__ import annotations

import re

from django.utils import timezone

from analysis.templatetags import result_format
from organizations.models import Unit
from questionnaires.models import Answer, Question, Response, ScaleLevel
from tests.base import make_unit
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill
from .test_presentation import KINDS, PresentationTestCase, section

VERDICTS = {
    "RED": "显著低于目标（列入问题清单）",
    "AMBER": "未达标（需关注）",
    "GREEN": "达到目标",
    "GREEN_CONFIRMED": "达到目标（已确认）",
    "GREY": "样本不足（仅供参考）",
}
# Statistics that belong in the collapsed section only.
METHOD_WORDS = ("区间", "Jeffreys", "Benjamini", "Wilson", "收缩", "α", "q ≤", "p =")


def answer(point, groups: list[tuple[int, str, dict[str, str]]]) -> None:
    """``count`` responses per group, each answering ``code`` to every scale
    question except those named in the group's ``{question code: level code}``;
    levels are looked up on each question's own scale."""
    questions = list(
        Question.objects.filter(
            questionnaire=point.questionnaire, kind=Question.Kind.SCALE
        )
    )
    levels = {
        (level.scale_id, level.code): level
        for level in ScaleLevel.objects.filter(
            scale_id__in={q.scale_id for q in questions}
        )
    }
    today = timezone.localdate()
    answers = []
    for count, code, overrides in groups:
        responses = Response.objects.bulk_create(
            Response(point=point, questionnaire=point.questionnaire, submitted_on=today)
            for _ in range(count)
        )
        for response in responses:
            for question in questions:
                level = levels[(question.scale_id, overrides.get(question.code, code))]
                answers.append(
                    Answer(
                        response=response, point=point, question=question, level=level
                    )
                )
    Answer.objects.bulk_create(answers, batch_size=2000)


def before_methods(html: str) -> str:
    """The page above the collapsed section, without the charts' own labels."""
    head = html.split('<details class="card methods" id="methods">')[0]
    return re.sub(r"<svg .*?</svg>", "", head, flags=re.S)


def methods(html: str) -> str:
    found = re.findall(
        r'<details class="card methods" id="methods">(.*)</details>', html, re.S
    )
    assert len(found) == 1
    return found[0]


class VerdictWordsTests(PresentationTestCase):
    """One unit of each verdict: A-1 83.3% of 120 (RED), LIB-01 92.5% of 40
    (AMBER), B-3 59 of 60 (GREEN), B-1 60 of 60 (GREEN_CONFIRMED), LIB-02 8 of
    8 (GREY)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.green = make_unit(
            "B-3", Unit.Kind.BRANCH, cls.unit_b, "staff", name="乙三支部"
        )
        cls.campaign = make_round(cls.school, kinds=KINDS)
        for unit, n, satisfied in (
            (cls.branch_a, 120, 100),
            (cls.library_a, 40, 37),
            (cls.green, 60, 59),
            (cls.branch_b, 60, 60),
            (cls.library_b, 8, 8),
        ):
            fill(point_of(cls.campaign, unit), n=n, satisfied=satisfied)
        analysed(cls.campaign)
        cls.flags = {
            "RED": cls.branch_a,
            "AMBER": cls.library_a,
            "GREEN": cls.green,
            "GREEN_CONFIRMED": cls.branch_b,
            "GREY": cls.library_b,
        }

    def test_every_verdict_is_said_in_words_beside_its_colour(self):
        html = self.page(self.leader, self.overview())
        ranking = section(html, "ranking")
        for flag, words in VERDICTS.items():
            with self.subTest(flag=flag):
                badge = f'<span class="flag flag-{flag}">{words}</span>'
                self.assertIn(badge, ranking)
                report = self.page(self.leader, self.report(self.flags[flag]))
                self.assertIn(badge, section(report, "headline"))
        # No badge carries its meaning in colour alone.
        for text in re.findall(r'<span class="flag flag-\w+">([^<]*)</span>', html):
            self.assertTrue(text.strip(), "a badge without words")
        self.assertNotIn(">红色<", before_methods(html))

    def test_the_funnels_legend_names_its_colours_in_the_same_words(self):
        html = self.page(self.leader, self.overview())
        funnel = re.search(r'<svg [^>]*class="chart funnel".*?</svg>', html, re.S)
        legend = re.search(r'<g class="legend">.*?</svg>', funnel.group(0), re.S)
        texts = re.findall(r"<text [^>]*>([^<]*)</text>", legend.group(0))
        for words in VERDICTS.values():
            self.assertIn(words, texts)
        self.assertNotIn("红色", funnel.group(0))

    def test_the_tables_lead_with_the_rate_the_sample_and_the_verdict(self):
        html = self.page(self.leader, self.overview())
        heads = re.findall(r"<thead><tr>(.*?)</tr></thead>", section(html, "ranking"))
        self.assertTrue(heads)
        for head in heads:
            self.assertEqual(
                re.findall(r"<th[^>]*>(.*?)</th>", head),
                ["名次", "单位", "满意率", "有效样本", "是否达标"],
            )
        school = section(html, "school")
        labels = re.findall(r'<div class="tile-label">(.*?)</div>', school)
        self.assertEqual(labels[:3], ["满意率", "有效样本", "是否达标"])

    def test_the_statistics_are_only_in_one_collapsed_section(self):
        for url in (self.overview(), self.report(self.branch_a)):
            html = self.page(self.leader, url)
            with self.subTest(url=url):
                head = before_methods(html)
                for word in METHOD_WORDS:
                    i = head.find(word)
                    self.assertNotIn(word, head, head[max(0, i - 200) : i + 50])
                found = methods(html)
                self.assertIn(
                    "<summary><h2>统计方法说明（供核查）</h2></summary>", found
                )
                for word in ("区间", "Jeffreys", "Benjamini", "收缩估计", "q"):
                    self.assertIn(word, found)
                # Closed until the reader opens it; a <details> needs no script.
                self.assertEqual(html.count('<details class="card methods"'), 1)
                self.assertNotIn('id="methods" open', html)

    def test_the_collapsed_section_holds_each_units_figures(self):
        html = methods(self.page(self.leader, self.overview()))
        checks = html.split('id="unit-checks"')[1].split("</table>")[0]
        self.assertIn("甲学院学生党支部", checks)
        self.assertIn("83.3%", checks)  # its strict rate: every answer was 满意
        self.assertIn("&lt; 0.001", checks)  # its p and q
        report = methods(self.page(self.leader, self.report(self.branch_a)))
        for label in ("对目标的单侧检验 p", "多重校正后 q", "收缩估计（用于排名）"):
            self.assertIn(label, report)

    def test_the_report_says_how_many_answers_a_confirmation_needs(self):
        html = section(self.page(self.leader, self.report(self.green)), "headline")
        note = re.search(r'<p class="note confirm-note">(.*?)</p>', html, re.S)
        # 59 of 60: its exact one-sided lower bound (scipy: beta.ppf(0.05, 59, 2))
        # is 92.3%, under the 95% target.
        self.assertIn("可能低至 92.3%", note.group(1))
        self.assertIn("尚不能确认达标", note.group(1))


class RateDefinitionPageTests(PresentationTestCase):
    def test_a_round_on_the_good_scale_says_haopinglv(self):
        campaign = make_round(self.school, kinds={"branch": "wugemofan"})
        for unit, good in (
            (self.branch_a, 30),
            (self.library_a, 36),
            (self.branch_b, 38),
            (self.library_b, 34),
        ):
            answer(
                point_of(campaign, unit),
                [(good, "good", {}), (5, "fairly_good", {}), (45 - good, "poor", {})],
            )
        analysed(campaign)
        self.campaign = campaign
        for url in (self.overview(), self.report(self.branch_a)):
            html = self.page(self.leader, url)
            with self.subTest(url=url):
                self.assertIn("口径：好评率（‘好’‘较好’计为好评）", html)
                self.assertIn("总体好评率显著低于目标", section(html, "findings"))
                self.assertNotIn("满意率", html)
                self.assertNotIn("‘满意’", html)
                self.assertNotIn("基本满意", html)
        html = self.page(self.leader, self.overview())
        self.assertIn("<h2>全校与各类别好评率</h2>", html)
        self.assertIn('<th class="num">好评率</th>', section(html, "ranking"))
        self.assertIn("<title>全校与各类别好评率</title>", html)
        report = self.page(self.leader, self.report(self.branch_a))
        self.assertIn("<h2>总体好评率</h2>", report)

    def test_a_satisfaction_round_names_its_own_levels(self):
        self.make_results()
        html = self.page(self.leader, self.overview())
        self.assertIn("口径：满意率（‘满意’‘基本满意’计为满意）", html)
        self.assertNotIn("好评率", html)


class ContradictionTests(PresentationTestCase):
    def test_a_red_category_without_a_red_unit_is_explained(self):
        # Teaching: three branches of 30 at 26 satisfied (86.7%): alone each is
        # not significant (scipy: binom.cdf(26, 30, 0.95) = 0.061), pooled 78 of
        # 90 is (binom.cdf(78, 90, 0.95) = 0.0018).
        third = make_unit(
            "A-3", Unit.Kind.BRANCH, self.unit_a, "staff", name="甲三支部"
        )
        campaign = make_round(self.school, kinds=KINDS)
        for unit in (self.branch_a, self.library_a, third):
            fill(point_of(campaign, unit), n=30, satisfied=26)
        for unit in (self.branch_b, self.library_b):
            fill(point_of(campaign, unit), n=40, satisfied=39)
        analysed(campaign)
        self.campaign = campaign
        html = self.page(self.leader, self.overview())
        school = section(html, "school")
        self.assertRegex(
            school,
            r"<td>教学院部</td><td class=\"num\">86.7%</td><td class=\"num\">90</td>"
            r"<td class=\"verdict-cell\"><span class=\"flag flag-RED\">",
        )
        notes = re.findall(r'<p class="note pooled-red">(.*?)</p>', school, re.S)
        self.assertEqual(len(notes), 1)
        self.assertIn("“教学院部”整体显著低于目标", notes[0])
        self.assertIn("样本更大，检验更灵敏", notes[0])
        self.assertNotIn("flag-RED", section(html, "ranking"))

    def test_a_category_red_with_a_red_unit_needs_no_explanation(self):
        self.make_results()  # every unit RED, both categories RED
        html = self.page(self.leader, self.overview())
        self.assertIn("flag-RED", section(html, "school"))
        self.assertNotIn("pooled-red", html)

    def test_a_unit_not_red_overall_with_red_dimensions_says_why(self):
        # 60 answers: the 总体评价 all 满意, every other question 45 满意 of 60.
        campaign = make_round(self.school, kinds=KINDS)
        items = [
            q.code
            for q in Question.objects.filter(
                questionnaire=point_of(campaign, self.branch_a).questionnaire,
                kind=Question.Kind.SCALE,
                headline=False,
            )
        ]
        answer(
            point_of(campaign, self.branch_a),
            [
                (45, "satisfied", {}),
                (15, "satisfied", dict.fromkeys(items, "dissatisfied")),
            ],
        )
        for unit in (self.library_a, self.branch_b, self.library_b):
            fill(point_of(campaign, unit), n=40, satisfied=39)
        analysed(campaign)
        self.campaign = campaign
        html = self.page(self.leader, self.report(self.branch_a))
        headline = section(html, "headline")
        self.assertNotIn("flag-RED", headline.split("</div>\n  </div>")[0])
        note = re.search(r'<p class="note red-dimensions">(.*?)</p>', headline, re.S)
        self.assertIsNotNone(note)
        self.assertEqual(
            note.group(1),
            "总体未达“显著低于目标”的标准，但 5 个维度显著低于目标，已列入问题清单。",
        )
        self.assertEqual(section(html, "dimensions").count("flag flag-RED"), 5 + 10)
        # A unit RED overall needs no such sentence.
        self.make_results()
        self.assertNotIn(
            "red-dimensions", self.page(self.leader, self.report(self.branch_a))
        )


class AlphaWordsTests(PresentationTestCase):
    def test_the_alpha_column_says_what_it_is_and_a_negative_alpha_in_words(self):
        # α is the round's, per questionnaire version and dimension. Everywhere
        # leadership's two questions are answered against each other: 10 ×
        # (满意, 不满意), 10 × (不满意, 满意), 10 × (满意, 满意). By hand: each
        # item's variance is 2/9 and the total's 2/9, so α = 2·(1 − 4/9 ÷ 2/9) = −2.
        campaign = make_round(self.school, kinds=KINDS)
        for unit in (self.branch_a, self.library_a, self.branch_b, self.library_b):
            answer(
                point_of(campaign, unit),
                [
                    (10, "satisfied", {"leadership_integrity": "dissatisfied"}),
                    (10, "satisfied", {"leadership_unity": "dissatisfied"}),
                    (10, "satisfied", {}),
                ],
            )
        analysed(campaign)
        self.campaign = campaign
        html = self.page(self.leader, self.report(self.branch_a))
        self.assertNotIn("α", before_methods(html))
        found = methods(html)
        self.assertIn('<th class="num">题目一致性（Cronbach α）</th>', found)
        cell = re.search(
            r"<td>领导班子好</td>.*?<td class=\"num alpha\">(.*?)</td>", found, re.S
        )
        self.assertEqual(cell.group(1), "题目一致性差（α = -2.00）")

    def test_the_filter_words_only_a_negative_alpha(self):
        self.assertEqual(result_format.alpha_words(0.834), "0.83")
        self.assertEqual(result_format.alpha_words(0.0), "0.00")
        self.assertEqual(result_format.alpha_words(None), "—")
        self.assertEqual(result_format.alpha_words(-0.1), "题目一致性差（α = -0.10）")
        self.assertEqual(result_format.flag_verdict("AMBER"), "未达标（需关注）")
        self.assertEqual(result_format.flag_verdict("nope"), "—")
        self.assertEqual(result_format.point_size(0.05), "5")
        self.assertEqual(result_format.point_size(0.025), "2.5")


class OtherPagesVerdictTests(PresentationTestCase):
    def test_the_managers_workbench_says_the_verdict_in_words(self):
        self.make_results()  # published; A-1 is RED
        html = self.page(self.manager_a, "/manage/")
        results = re.search(
            r'<section class="card" id="my-results">(.*?)</section>', html, re.S
        )
        self.assertIn("<th>是否达标</th>", results.group(1))
        self.assertIn(
            '<span class="flag flag-RED">显著低于目标（列入问题清单）</span>',
            results.group(1),
        )
        self.assertNotIn(">红色<", results.group(1))
