"""The one-pass answer patterns (analysis.aggregate) against the slow, obvious way.

A round whose branches answer version 1 and whose committees answer version 2 of
one questionnaire (issue 12, defect 3), with random answers: skipped items, 不了解,
straight-liners. Level counts are compared with a plain GROUP BY, α with numpy
over each version's respondent × item matrices (listwise deletion), and the
straight-lining counts with the rule applied response by response.
"""

from collections import Counter, defaultdict

import numpy as np
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.aggregate import answer_patterns, campaign_counts
from analysis.models import Result
from analysis.quality import campaign_quality, round_quality
from organizations.models import Unit
from questionnaires.models import (
    Answer,
    CampaignQuestionnaire,
    CollectionPoint,
    Question,
    Response,
    ScaleLevel,
)
from questionnaires.services import (
    campaign_open,
    questionnaire_new_version,
    questionnaire_publish,
)
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import builtin, make_round

from .synthetic import analysed


def obvious_alpha(matrix: np.ndarray) -> tuple[float | None, int]:
    """Cronbach's α written out: complete rows only, sample variances."""
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    n, k = complete.shape
    if k < 2 or n < 2:
        return None, n
    total = complete.sum(axis=1)
    if np.var(total, ddof=1) == 0:
        return None, n
    items = sum(np.var(complete[:, j], ddof=1) for j in range(k))
    return k / (k - 1) * (1 - items / np.var(total, ddof=1)), n


class TwoVersionRoundTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        v1 = builtin("wuhao-branch")
        v2 = questionnaire_new_version(questionnaire=v1)
        questionnaire_publish(questionnaire=v2)
        cls.versions = {v1.pk: v1, v2.pk: v2}
        for i in range(2):
            make_unit(f"X{i}", Unit.Kind.BRANCH, cls.unit_a, "student")
        cls.campaign = make_round(cls.school, open_it=False, kinds={})
        CampaignQuestionnaire.objects.create(
            campaign=cls.campaign, unit_kind="branch", questionnaire=v1
        )
        CampaignQuestionnaire.objects.create(
            campaign=cls.campaign, unit_kind="committee", questionnaire=v2
        )
        campaign_open(campaign=cls.campaign)
        cls.campaign.refresh_from_db()
        rng = np.random.default_rng(20261201)
        # What was given, kept to check against: response -> [(question, level)]
        cls.sheets: dict[int, list[tuple[Question, ScaleLevel]]] = {}
        cls.point_of_sheet: dict[int, CollectionPoint] = {}
        answers = []
        today = timezone.localdate()
        for point in CollectionPoint.objects.filter(campaign=cls.campaign):
            questions = list(
                Question.objects.filter(
                    questionnaire=point.questionnaire, kind="scale"
                ).select_related("scale")
            )
            for _ in range(int(rng.integers(15, 40))):
                response = Response.objects.create(
                    point=point, questionnaire=point.questionnaire, submitted_on=today
                )
                sheet = []
                straight = rng.random() < 0.15
                mood = rng.random()
                for question in questions:
                    levels = list(question.scale.levels.order_by("order"))
                    if straight:
                        level = levels[0 if mood < 0.8 else -1]
                    elif rng.random() < 0.06:
                        continue  # skipped
                    else:
                        pick = min(len(levels) - 1, int(mood * 2.2 + rng.random()))
                        level = levels[pick]
                    sheet.append((question, level))
                    answers.append(
                        Answer(
                            response=response,
                            point=point,
                            question=question,
                            level=level,
                        )
                    )
                cls.sheets[response.pk] = sheet
                cls.point_of_sheet[response.pk] = point
        Answer.objects.bulk_create(answers)

    def test_level_counts_equal_a_plain_group_by(self):
        counts = campaign_counts(self.campaign.pk)
        self.assertTrue(counts.patterns.exact)
        expected = defaultdict(dict)
        for unit_id, question_id, level_id, n in (
            Answer.objects.filter(point__campaign=self.campaign, level__isnull=False)
            .order_by()
            .values_list("point__unit_id", "question_id", "level_id")
            .annotate(n=Count("*"))
        ):
            expected[(unit_id, question_id)][level_id] = n
        self.assertEqual(counts.levels, dict(expected))

    def test_alpha_of_every_dimension_of_both_versions_equals_numpy(self):
        quality = campaign_quality(self.campaign.pk)
        report = quality.alpha_report()
        self.assertEqual(len(report), 10)  # 5 dimensions × 2 versions
        for questionnaire_id, version in self.versions.items():
            for dimension in version.dimensions.all():
                items = list(
                    Question.objects.filter(dimension=dimension, kind="scale").order_by(
                        "order", "id"
                    )
                )
                matrix = []
                for response_id, sheet in self.sheets.items():
                    point = self.point_of_sheet[response_id]
                    if point.questionnaire_id != questionnaire_id:
                        continue
                    given = {q.pk: level for q, level in sheet}
                    matrix.append(
                        [
                            np.nan
                            if q.pk not in given or given[q.pk].score is None
                            else float(given[q.pk].score)
                            for q in items
                        ]
                    )
                alpha, n = obvious_alpha(np.array(matrix))
                found = report[f"wuhao-branch@v{version.version}:{dimension.code}"]
                self.assertEqual(found["n"], n)
                self.assertGreater(n, 20)
                self.assertEqual(found["items"], len(items))
                self.assertIsNotNone(found["alpha"])
                self.assertAlmostEqual(found["alpha"], alpha, places=10)

    def test_straight_lining_counts_follow_todays_rule(self):
        # Today's rule: at least 8 level answers, all one level (不了解 included).
        expected = Counter()
        for response_id, sheet in self.sheets.items():
            if len(sheet) >= 8 and len({level.pk for _q, level in sheet}) == 1:
                expected[self.point_of_sheet[response_id].pk] += 1
        self.assertGreater(sum(expected.values()), 5)
        quality = campaign_quality(self.campaign.pk)
        self.assertEqual(quality.straight_lining, dict(expected))

    def test_the_run_gives_each_version_its_alpha(self):
        run = analysed(self.campaign)
        keys = set(run.quality["alpha"])
        self.assertIn("wuhao-branch@v1:leadership", keys)
        self.assertIn("wuhao-branch@v2:leadership", keys)
        dimension_rows = run.results.filter(level=Result.Level.DIMENSION)
        self.assertTrue(dimension_rows.exists())
        for row in dimension_rows:
            self.assertIsNotNone(row.alpha, (row.unit_id, row.dimension_code))

    def test_one_query_for_the_answers_however_many_dimensions(self):
        with CaptureQueriesContext(connection) as queries:
            patterns = answer_patterns(self.campaign.pk)
        answer_table = Answer._meta.db_table
        reading_answers = [
            q for q in queries.captured_queries if answer_table in q["sql"]
        ]
        self.assertEqual(len(reading_answers), 1)
        # Besides: points, questions and scale levels (and savepoints, SET LOCAL).
        statements = [
            q
            for q in queries.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL"))
        ]
        self.assertLessEqual(len(statements), 4)
        # α and straight-lining are computed from the patterns with no query.
        with CaptureQueriesContext(connection) as queries:
            round_quality(patterns)
        self.assertEqual(queries.captured_queries, [])
        # Bounded: one row per distinct (point, pattern), never more than responses.
        self.assertLessEqual(patterns.weights.size, len(self.sheets))
        self.assertEqual(int(patterns.weights.sum()), len(self.sheets))

    def test_a_response_with_two_answers_to_one_question_falls_back(self):
        response_id, sheet = next(
            (pk, sheet) for pk, sheet in self.sheets.items() if len(sheet) > 3
        )
        question, level = sheet[0]
        other = question.scale.levels.exclude(pk=level.pk).first()
        Answer.objects.create(
            response_id=response_id,
            point=self.point_of_sheet[response_id],
            question=question,
            level=other,
        )
        counts = campaign_counts(self.campaign.pk)
        self.assertFalse(counts.patterns.exact)
        found = counts.levels[(self.point_of_sheet[response_id].unit_id, question.pk)]
        plain = dict(
            Answer.objects.filter(
                point=self.point_of_sheet[response_id], question=question
            )
            .order_by()
            .values_list("level_id")
            .annotate(n=Count("*"))
        )
        self.assertEqual(found, plain)
        # The broken response is left out of α and straight-lining, no more.
        self.assertEqual(int(counts.patterns.weights.sum()), len(self.sheets) - 1)
