"""analyze_campaign on rounds with known truth."""

import io

from django.core.management import CommandError, call_command

from analysis.models import AnalysisRun, Finding, Result
from organizations.models import Unit
from questionnaires.services import campaign_close
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill


class KnownTruthTests(PersonaTestCase):
    """Branches: four at 0.97, three at 0.85, two with fewer than 10 answers."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.good = [
            make_unit(f"G{i}", Unit.Kind.BRANCH, cls.unit_a, "staff") for i in range(4)
        ]
        cls.bad = [
            make_unit(f"R{i}", Unit.Kind.BRANCH, cls.unit_b, "student")
            for i in range(3)
        ]
        cls.small = [
            make_unit(f"S{i}", Unit.Kind.BRANCH, cls.unit_a, "student")
            for i in range(2)
        ]
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        for unit in cls.good:
            fill(point_of(cls.campaign, unit), n=200, satisfied=194)
        for unit in cls.bad:
            fill(point_of(cls.campaign, unit), n=200, satisfied=170)
        fill(point_of(cls.campaign, cls.small[0]), n=8, satisfied=4)  # 50%, but only 8
        fill(point_of(cls.campaign, cls.small[1]), n=6, satisfied=6)

    def unit_results(self, run):
        return {
            r.unit.code: r
            for r in run.results.filter(level=Result.Level.UNIT).select_related("unit")
        }

    def test_the_red_list_is_exactly_the_low_units_with_enough_answers(self):
        run = analysed(self.campaign)
        results = self.unit_results(run)
        red = {code for code, r in results.items() if r.flag == "RED"}
        self.assertEqual(red, {"R0", "R1", "R2"})
        self.assertEqual({results[u.code].flag for u in self.small}, {"GREY"})
        for unit in self.good:
            self.assertIn(results[unit.code].flag, {"GREEN", "GREEN_CONFIRMED"})
        self.assertAlmostEqual(results["R0"].rate, 0.85)
        self.assertEqual(results["R0"].source, "headline")

    def test_findings_name_the_red_units_and_a_second_run_adds_none(self):
        analysed(self.campaign)
        findings = Finding.objects.filter(campaign=self.campaign)
        self.assertEqual(
            {f.unit.code for f in findings.filter(dimension_code="")},
            {"R0", "R1", "R2"},
        )
        # Every dimension of a red unit is red too (every item is at 85%).
        self.assertEqual(findings.filter(unit__code="R0").count(), 1 + 5)
        self.assertFalse(findings.filter(unit__code__in=["S0", "S1", "G0"]).exists())
        evidence = findings.get(unit__code="R0", dimension_code="").evidence
        before = findings.count()
        analysed(self.campaign)
        self.assertEqual(Finding.objects.filter(campaign=self.campaign).count(), before)
        self.assertEqual(
            findings.get(unit__code="R0", dimension_code="").evidence, evidence
        )
        self.assertEqual(AnalysisRun.objects.filter(campaign=self.campaign).count(), 2)

    def test_the_settings_used_are_stored_with_the_run(self):
        run = analysed(self.campaign)
        self.assertEqual(run.settings["min_group_size"], 5)
        self.assertEqual(run.settings["target"], 0.95)
        self.assertEqual(run.settings["rate_definition"], "broad")

    def test_the_school_row_pools_every_unit(self):
        run = analysed(self.campaign)
        school = run.results.get(level=Result.Level.SCHOOL)
        self.assertEqual(school.n_valid, 4 * 200 + 3 * 200 + 8 + 6)
        self.assertEqual(school.n_satisfied, 4 * 194 + 3 * 170 + 4 + 6)


class CommandTests(PersonaTestCase):
    def test_it_refuses_an_unknown_or_unopened_round(self):
        with self.assertRaises(CommandError):
            call_command("analyze_campaign", "99999")
        draft = make_round(self.school, open_it=False)
        with self.assertRaises(CommandError):
            call_command("analyze_campaign", str(draft.pk))

    def test_it_reports_the_school_rate_and_the_flags(self):
        campaign = make_round(self.school, kinds={"branch": "wuhao-branch"})
        fill(point_of(campaign, self.branch_a), n=50, satisfied=49)
        out = io.StringIO()
        with self.assertRaisesMessage(CommandError, "still open"):
            call_command("analyze_campaign", str(campaign.pk), stdout=out)
        self.assertFalse(AnalysisRun.objects.filter(campaign=campaign).exists())
        campaign_close(campaign=campaign)
        call_command("analyze_campaign", str(campaign.pk), stdout=out)
        self.assertIn("98.0%", out.getvalue())


class ThemeFindingTests(PersonaTestCase):
    COMPLAINTS = [
        "报销流程太繁琐，排队时间太长",
        "报销要排队很久，流程繁琐",
        "财务报销排队时间太长了",
        "报销流程繁琐，跑好几趟",
        "报销排队太久，流程太复杂",
        "报销流程繁琐排队时间长",
    ]

    def test_a_mostly_negative_theme_becomes_a_candidate_once(self):
        campaign = make_round(self.school, kinds={"branch": "wuhao-branch"})
        point = point_of(campaign, self.branch_b)
        # The first 40 respondents are satisfied; the complaints come from the last six.
        fill(point, n=46, satisfied=40)
        from questionnaires.models import Answer, Question, Response

        text_question = Question.objects.get(
            questionnaire=point.questionnaire, kind="text"
        )
        unhappy = Response.objects.filter(
            point=point, answers__level__code="dissatisfied"
        ).distinct()
        for response, text in zip(unhappy, self.COMPLAINTS, strict=True):
            Answer.objects.create(
                response=response, point=point, question=text_question, text=text
            )
        analysed(campaign)
        themes = Finding.objects.filter(
            campaign=campaign, trigger=Finding.Trigger.THEME
        )
        self.assertEqual(themes.count(), 1)
        finding = themes.get()
        self.assertEqual(finding.unit, self.branch_b)
        self.assertIn("报销", finding.title)
        self.assertEqual(finding.evidence["negative_share"], 1.0)
        analysed(campaign)
        self.assertEqual(
            Finding.objects.filter(campaign=campaign, trigger="theme").count(), 1
        )

    def test_no_theme_findings_below_the_comment_threshold(self):
        campaign = make_round(self.school, kinds={"branch": "wuhao-branch"})
        fill(
            point_of(campaign, self.branch_b),
            n=8,
            satisfied=2,
            comments=self.COMPLAINTS,
        )
        analysed(campaign)
        self.assertFalse(
            Finding.objects.filter(campaign=campaign, trigger="theme").exists()
        )


class ParticipationTests(PersonaTestCase):
    def test_ballot_mode_reports_used_over_issued(self):
        from questionnaires.services import ballots_issue, response_submit
        from tests.questionnaires.helpers import full_answers

        campaign = make_round(
            self.school, mode="ballot", kinds={"branch": "wuhao-branch"}
        )
        point = point_of(campaign, self.branch_a)
        codes = ballots_issue(point=point, count=8)
        for i, code in enumerate(codes[:6]):
            response_submit(
                point=point,
                answers=full_answers(point),
                nonce=f"participation-{i:08d}",
                ballot=code,
                client_address="x",
            )
        run = analysed(campaign)
        unit = run.results.get(level=Result.Level.UNIT, unit=self.branch_a)
        self.assertEqual((unit.ballots_issued, unit.ballots_used), (8, 6))
        school = run.results.get(level=Result.Level.SCHOOL)
        self.assertEqual((school.ballots_issued, school.ballots_used), (8, 6))


class BeforeAfterTests(PersonaTestCase):
    def test_the_unit_row_compares_the_whole_scale_with_the_baseline(self):
        spring = make_round(self.school, title="春", kinds={"branch": "wuhao-branch"})
        fill(point_of(spring, self.branch_a), n=100, satisfied=80)
        analysed(spring)
        autumn = make_round(
            self.school, title="秋", kinds={"branch": "wuhao-branch"}, baseline=spring
        )
        fill(point_of(autumn, self.branch_a), n=100, satisfied=95)
        row = analysed(autumn).results.get(level=Result.Level.UNIT, unit=self.branch_a)
        # Only 满意 and 不满意 are used: P(after > before) − P(after < before)
        # = 0.95 × 0.20 − 0.05 × 0.80 = 0.15.
        self.assertAlmostEqual(row.rank_biserial, 0.15)
        self.assertLess(row.mw_p, 0.01)
        self.assertAlmostEqual(row.diff, 0.15)
        self.assertEqual((row.baseline_n_valid, row.verdict), (100, "IMPROVED"))
