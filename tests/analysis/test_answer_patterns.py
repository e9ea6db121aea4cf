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
from django.db.models import Count, F
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.aggregate import answer_patterns, campaign_counts
from analysis.models import Result
from analysis.quality import campaign_quality, round_quality
from organizations.models import Unit
from questionnaires.forms_spec import form_spec
from questionnaires.models import (
    Answer,
    CampaignQuestionnaire,
    CollectionPoint,
    Question,
    Response,
    Scale,
    ScaleLevel,
)
from questionnaires.patterns import MIN_CHECK_BITS, layout_of, layouts
from questionnaires.services import (
    campaign_close,
    campaign_open,
    questionnaire_new_version,
    questionnaire_publish,
    response_submit,
)
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import builtin, make_round, point_of

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


# --- Patterns stored when the responses are written -------------------------------


def plain_level_counts(campaign) -> dict:
    """(unit, question) -> {level: n} by the plain GROUP BY over the answers."""
    expected = defaultdict(dict)
    for unit_id, question_id, level_id, n in (
        Answer.objects.filter(point__campaign=campaign, level__isnull=False)
        .order_by()
        .values_list("point__unit_id", "question_id", "level_id")
        .annotate(n=Count("*"))
    ):
        expected[(unit_id, question_id)][level_id] = n
    return dict(expected)


@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=4)
class StoredPatternTests(PersonaTestCase):
    """Responses submitted through the service, written by the pool with their
    patterns; counted from them without reading an answer."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school)
        rng = np.random.default_rng(20261202)
        cls.points = [
            point_of(cls.campaign, unit)
            for unit in (cls.unit_a, cls.branch_a, cls.window_a)
        ]
        for p, point in enumerate(cls.points):
            spec = form_spec(point.questionnaire)
            for i in range(int(rng.integers(14, 24))):
                straight = rng.random() < 0.2
                answers = []
                for q in spec.questions:
                    if q.kind == "scale":
                        if not straight and not q.required and rng.random() < 0.2:
                            continue  # skipped
                        pick = 0 if straight else int(rng.integers(len(q.levels)))
                        answers.append({"question": q.id, "level": q.levels[pick].code})
                    elif q.kind in ("single", "multiple"):
                        answers.append({"question": q.id, "options": [q.options[0].id]})
                    elif rng.random() < 0.3:
                        answers.append({"question": q.id, "text": "希望多听取意见"})
                outcome = response_submit(
                    point=point,
                    answers=answers,
                    nonce=f"stored-pattern-{p}-{i:04d}",
                    client_address="10.9.8.7",
                )
                assert outcome.stored
        campaign_close(campaign=cls.campaign)

    def test_a_pattern_written_at_submit_unpacks_to_the_answers_stored(self):
        found = layouts(
            Response.objects.filter(point__campaign=self.campaign).values_list(
                "questionnaire_id", flat=True
            )
        )
        stored = defaultdict(dict)
        for response_id, question_id, level_id in Answer.objects.filter(
            point__campaign=self.campaign, level__isnull=False
        ).values_list("response_id", "question_id", "level_id"):
            stored[response_id][question_id] = level_id
        responses = Response.objects.filter(point__campaign=self.campaign)
        self.assertGreater(responses.count(), 40)
        for response in responses:
            with self.subTest(response=response.pk):
                self.assertIsNotNone(response.answer_pattern)
                layout = found[response.questionnaire_id]
                self.assertEqual(
                    layout.unpack(response.answer_pattern), stored[response.pk]
                )

    def test_counting_reads_no_answer_and_equals_a_plain_group_by(self):
        with CaptureQueriesContext(connection) as queries:
            counts = answer_patterns(self.campaign.pk)
        self.assertEqual(counts.from_answers, [])
        answer_table = Answer._meta.db_table
        self.assertFalse(
            [q for q in queries.captured_queries if answer_table in q["sql"]]
        )
        self.assertEqual(
            campaign_counts(self.campaign.pk).levels, plain_level_counts(self.campaign)
        )
        self.assertEqual(
            int(counts.weights.sum()),
            Response.objects.filter(
                point__campaign=self.campaign, answers__level__isnull=False
            )
            .distinct()
            .count(),
        )

    def test_alpha_and_straight_lining_equal_those_counted_from_the_answers(self):
        stored = campaign_quality(self.campaign.pk)
        self.assertTrue(stored.straight_lining)
        Response.objects.filter(point__campaign=self.campaign).update(
            answer_pattern=None
        )
        patterns = answer_patterns(self.campaign.pk)
        self.assertEqual(
            sorted(patterns.from_answers), sorted(p.pk for p in self.points)
        )
        read = round_quality(patterns)
        self.assertEqual(stored.straight_lining, read.straight_lining)
        self.assertEqual(stored.alpha_report().keys(), read.alpha_report().keys())
        for key, value in stored.alpha_report().items():
            other = read.alpha_report()[key]
            self.assertEqual(value["n"], other["n"], key)
            if value["alpha"] is None:
                self.assertIsNone(other["alpha"], key)
            else:
                self.assertAlmostEqual(value["alpha"], other["alpha"], places=12)

    def test_a_response_without_a_pattern_sends_its_point_to_the_answers(self):
        point = self.points[1]
        one = Response.objects.filter(point=point).first()
        Response.objects.filter(pk=one.pk).update(answer_pattern=None)
        with CaptureQueriesContext(connection) as queries:
            counts = campaign_counts(self.campaign.pk)
        self.assertEqual(counts.patterns.from_answers, [point.pk])
        answer_table = Answer._meta.db_table
        self.assertTrue(
            [q for q in queries.captured_queries if answer_table in q["sql"]]
        )
        self.assertTrue(counts.patterns.exact)
        self.assertEqual(counts.levels, plain_level_counts(self.campaign))

    def test_a_pattern_of_another_layout_is_not_read(self):
        point = self.points[0]
        one = Response.objects.filter(point=point).first()
        # The highest bit of the check flipped: as if packed with another layout.
        Response.objects.filter(pk=one.pk).update(
            answer_pattern=F("answer_pattern").bitxor(1 << 62)
        )
        counts = campaign_counts(self.campaign.pk)
        self.assertEqual(counts.patterns.from_answers, [point.pk])
        self.assertEqual(counts.levels, plain_level_counts(self.campaign))

    def test_reordered_scale_levels_send_the_points_using_them_to_the_answers(self):
        # The stored ranks no longer name the same levels: they must not be read.
        scale = Scale.objects.get(key="three_dk")
        first, second = scale.levels.order_by("order", "id")[:2]
        ScaleLevel.objects.filter(pk=first.pk).update(order=second.order)
        ScaleLevel.objects.filter(pk=second.pk).update(order=first.order)
        users = set(
            Question.objects.filter(scale=scale).values_list(
                "questionnaire_id", flat=True
            )
        )
        expected = sorted(p.pk for p in self.points if p.questionnaire_id in users)
        self.assertTrue(expected)
        counts = campaign_counts(self.campaign.pk)
        self.assertEqual(counts.patterns.from_answers, expected)
        self.assertEqual(counts.levels, plain_level_counts(self.campaign))


class LayoutTests(TestCase):
    """Packing refuses what it cannot hold (NULL, and the point is counted from
    its answers); made-up ids, no query."""

    def layout(self, questions: int, levels: int = 4):
        return layout_of(
            7,
            [
                (100 + q, None, [(1000 + 10 * q + r, None) for r in range(levels)])
                for q in range(questions)
            ],
        )

    def test_pack_then_unpack_gives_the_answers_back(self):
        layout = self.layout(11)
        answers = {100 + q: 1000 + 10 * q + (q % 4) for q in range(0, 11, 2)}
        pattern = layout.pack([*answers.items(), (200, None)])  # a text: ignored
        self.assertTrue(layout.valid(pattern))
        self.assertEqual(layout.unpack(pattern), answers)
        self.assertGreaterEqual(63 - layout.field_bits, MIN_CHECK_BITS)
        self.assertEqual(layout.unpack(layout.pack([])), {})

    def test_two_answers_to_one_question_are_not_packed(self):
        layout = self.layout(3)
        self.assertIsNone(layout.pack([(100, 1000), (100, 1001)]))

    def test_a_level_outside_the_questions_scale_is_not_packed(self):
        layout = self.layout(3)
        self.assertIsNone(layout.pack([(100, 1010)]))  # question 101's level
        self.assertIsNone(layout.pack([(999, 1000)]))  # not a question of it

    def test_a_version_too_long_for_one_word_and_a_check_is_not_packed(self):
        fits, too_long = self.layout(15), self.layout(16)  # 3 bits each
        self.assertTrue(fits.packed)
        self.assertFalse(too_long.packed)
        self.assertIsNone(too_long.pack([(100, 1000)]))
        self.assertFalse(too_long.valid(0))
        self.assertEqual(too_long.words, 1)
        self.assertEqual(self.layout(30).words, 2)

    def test_another_layout_does_not_read_the_pattern(self):
        pattern = self.layout(5).pack([(100, 1000)])
        other = layout_of(
            7, [(100 + q, None, [(2000 + r, None) for r in range(4)]) for q in range(5)]
        )
        self.assertFalse(other.valid(pattern))
        with self.assertRaises(ValueError):
            other.unpack(pattern)
