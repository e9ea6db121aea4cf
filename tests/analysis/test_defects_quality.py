"""Issue 12, defect 6: one straight-lining rule for both implementations.

METHODS.md §5: "all scale answers identical across ≥ 8 items". 不了解 is an answer
on the scale, so 10 × 满意 and one 不了解 is not a straight line and 11 × 不了解
is. ``stats.straight_liners`` (a matrix of levels) and the round's pass over its
answer patterns (``analysis.quality.campaign_quality``) must agree with each
other and with a brute-force reading of the rule, on the issue's sheets and on
random ones, answered in a real round.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from django.utils import timezone

from analysis.quality import campaign_quality
from analysis.stats import straight_liners
from questionnaires.models import (
    Answer,
    CampaignQuestionnaire,
    Question,
    Response,
    ScaleLevel,
)
from questionnaires.services import (
    campaign_open,
    questionnaire_create,
    questionnaire_publish,
)
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of

ITEMS = 11
# three_dk by rank; 0 = left blank.
CODES = ["", "satisfied", "basically_satisfied", "dissatisfied", "dont_know"]
ISSUE = [1] * 10 + [4]  # 10 × 满意 + 1 × 不了解
HAND_MADE = [
    (ISSUE, False),
    ([4] * 11, True),  # 不了解 throughout is one answer throughout
    ([1] * 10 + [0], True),  # a blank is no answer
    ([1] * 7 + [0] * 4, False),  # seven answered: not judged
    ([2] * 8 + [0] * 3, True),
]


def by_hand(sheet: list[int], min_items: int = 8) -> bool:
    """The rule read literally: every answered item has the same level, and at
    least ``min_items`` were answered (blanks ignored)."""
    answered = [rank for rank in sheet if rank]
    return len(answered) >= min_items and len(set(answered)) == 1


def random_sheets(seed: int, count: int) -> list[list[int]]:
    """Many near-straight sheets, so that both outcomes are common."""
    rng = np.random.default_rng(seed)
    sheets = []
    for _ in range(count):
        sheet = np.full(ITEMS, int(rng.integers(1, 5)))
        changed = rng.random(ITEMS) < rng.choice([0.0, 0.05, 0.3])
        sheet[changed] = rng.integers(0, 5, size=int(changed.sum()))
        sheets.append(sheet.tolist())
    return sheets


class StraightLiningTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        questionnaire = questionnaire_create(
            spec={
                "key": "straight-lining",
                "title": "十一题问卷",
                "target_kind": "branch",
                "questions": [
                    {
                        "code": f"q{i}",
                        "kind": "scale",
                        "text": f"第{i}题",
                        "scale": "three_dk",
                        "required": False,
                    }
                    for i in range(1, ITEMS + 1)
                ],
            }
        )
        questionnaire_publish(questionnaire=questionnaire)
        cls.campaign = make_round(cls.school, kinds={}, open_it=False)
        CampaignQuestionnaire.objects.create(
            campaign=cls.campaign, unit_kind="branch", questionnaire=questionnaire
        )
        campaign_open(campaign=cls.campaign)
        cls.points = [
            point_of(cls.campaign, cls.branch_a),
            point_of(cls.campaign, cls.branch_b),
        ]
        cls.questions = list(
            Question.objects.filter(questionnaire=questionnaire).order_by("order")
        )
        cls.levels = {
            level.code: level
            for level in ScaleLevel.objects.filter(scale__key="three_dk")
        }
        cls.level_ids = [None, *(cls.levels[code].pk for code in CODES[1:])]

    def answer(self, sheets: list[list[int]]) -> list[int]:
        """Each sheet as one response, at the two points in turn; returns the
        point id of each sheet."""
        at = [self.points[i % 2] for i in range(len(sheets))]
        responses = Response.objects.bulk_create(
            Response(
                point=point,
                questionnaire=point.questionnaire,
                submitted_on=timezone.localdate(),
            )
            for point in at
        )
        Answer.objects.bulk_create(
            Answer(
                response=response,
                point=point,
                question=question,
                level=self.levels[CODES[rank]],
            )
            for response, point, sheet in zip(responses, at, sheets, strict=True)
            for question, rank in zip(self.questions, sheet, strict=True)
            if rank
        )
        return [point.pk for point in at]

    def assert_both_count(self, sheets: list[list[int]]) -> None:
        points = self.answer(sheets)
        expected = Counter(
            p for p, sheet in zip(points, sheets, strict=True) if by_hand(sheet)
        )
        ids = np.array([np.nan if i is None else i for i in self.level_ids])
        mask = straight_liners(ids[np.array(sheets)])
        direct = Counter(p for p, liner in zip(points, mask, strict=True) if liner)
        self.assertEqual(dict(direct), dict(expected))
        found = campaign_quality(self.campaign.pk).straight_lining
        self.assertEqual(found, dict(expected))

    def test_both_rules_read_the_issues_sheets_alike(self):
        for sheet, expected in HAND_MADE:
            self.assertIs(by_hand(sheet), expected)
        self.assert_both_count([sheet for sheet, _ in HAND_MADE])

    def test_the_issues_sheet_is_not_a_straight_line(self):
        points = self.answer([ISSUE])
        self.assertEqual(campaign_quality(self.campaign.pk).straight_lining, {})
        ids = np.array([np.nan if i is None else i for i in self.level_ids])
        self.assertFalse(straight_liners(ids[np.array([ISSUE])])[0])
        self.assertEqual(len(points), 1)

    def test_both_rules_agree_with_brute_force_on_random_sheets(self):
        sheets = random_sheets(seed=12, count=300)
        liners = sum(by_hand(sheet) for sheet in sheets)
        self.assertTrue(50 < liners < 250, liners)
        self.assert_both_count(sheets)
