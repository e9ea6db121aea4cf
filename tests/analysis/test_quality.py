"""Cronbach's α and straight-lining from SQL aggregates, checked against the matrix path."""

import numpy as np
from django.utils import timezone

from analysis import stats
from analysis.quality import campaign_alphas, dimension_alpha, straight_lining_by_point
from questionnaires.models import Answer, Question, Response, ScaleLevel
from tests.analysis.synthetic import analysed
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of


class QualityTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        cls.point = point_of(cls.campaign, cls.branch_a)
        questionnaire = cls.point.questionnaire
        cls.scale_items = list(
            Question.objects.filter(questionnaire=questionnaire, kind="scale").order_by(
                "order"
            )
        )
        cls.leadership = [
            q
            for q in cls.scale_items
            if q.dimension and q.dimension.code == "leadership"
        ]
        levels = {
            level.code: level
            for level in ScaleLevel.objects.filter(scale__key="three_dk")
        }
        cls.codes = ["satisfied", "basically_satisfied", "dissatisfied", "dont_know"]
        rng = np.random.default_rng(7)
        cls.matrix = []  # respondents × leadership items, scores (NaN for 不了解 or blank)
        answers = []
        for i in range(60):
            response = Response.objects.create(
                point=cls.point,
                questionnaire=questionnaire,
                submitted_on=timezone.localdate(),
            )
            mood = rng.integers(0, 3)
            row = []
            for question in cls.scale_items:
                if i < 5:
                    code = "satisfied"  # five straight-liners across all 11 items
                else:
                    code = (
                        cls.codes[min(2, max(0, mood + rng.integers(-1, 2)))]
                        if rng.random() > 0.05
                        else "dont_know"
                    )
                if question in cls.leadership:
                    score = levels[code].score
                    row.append(np.nan if score is None else float(score))
                answers.append(
                    Answer(
                        response=response,
                        point=cls.point,
                        question=question,
                        level=levels[code],
                    )
                )
            cls.matrix.append(row)
        Answer.objects.bulk_create(answers)

    def test_alpha_from_sql_equals_alpha_from_the_matrix(self):
        alpha, n = dimension_alpha(self.campaign.pk, [q.pk for q in self.leadership])
        matrix = np.array(self.matrix)
        complete = matrix[~np.isnan(matrix).any(axis=1)]
        self.assertEqual(n, len(complete))
        self.assertAlmostEqual(alpha, stats.cronbach_alpha(matrix), places=10)

    def test_every_dimension_gets_an_alpha(self):
        alphas = campaign_alphas(self.campaign.pk)
        self.assertEqual(
            set(alphas),
            {
                f"wuhao-branch:{code}"
                for code in (
                    "leadership",
                    "members",
                    "mechanism",
                    "performance",
                    "reputation",
                )
            },
        )
        self.assertEqual(alphas["wuhao-branch:leadership"]["items"], 2)

    def test_straight_liners_are_counted_per_point(self):
        straight = straight_lining_by_point(self.campaign.pk)
        matrix_rows = [
            [a.level_id for a in Answer.objects.filter(response=r)]
            for r in Response.objects.filter(point=self.point)
        ]
        expected = sum(1 for row in matrix_rows if len(row) >= 8 and len(set(row)) == 1)
        self.assertGreaterEqual(expected, 5)
        self.assertEqual(straight, {self.point.pk: expected})

    def test_the_run_records_the_quality_figures(self):

        run = analysed(self.campaign)
        self.assertIn("wuhao-branch:leadership", run.quality["alpha"])
        self.assertEqual(set(run.quality["straight_lining"]), {str(self.point.pk)})
