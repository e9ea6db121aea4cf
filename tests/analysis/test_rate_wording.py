"""What a round's rate is called and what it counts, from the scale's own labels
(analysis/rate_wording.py), on every built-in scale and on custom ones.

The expected sentences are written out by hand from the scales in
questionnaires/builtin.py; the counted labels are also checked against the levels
the statistics count (``LevelInfo.satisfied``), so that the page says what the
figures are.
"""

from __future__ import annotations

from django.test import SimpleTestCase

from analysis.rate_wording import Level, RateWording, rate_wording, round_wording
from analysis.stats import LevelInfo
from questionnaires.builtin import SCALES

BUILTIN = {
    key: [Level(code, label, polarity, score) for code, label, polarity, score in rows]
    for key, _name, rows in SCALES
}


def scale(*levels: tuple[str, str, str, float | None]) -> list[Level]:
    return [Level(*level) for level in levels]


class BuiltinScaleTests(SimpleTestCase):
    def test_the_good_scale_is_a_rate_of_good_answers(self):
        # The 五个模范 questionnaire: 好/较好/一般/差 has no “满意” in it.
        wording = rate_wording(BUILTIN["good4"])
        self.assertEqual(wording.noun, "好评率")
        self.assertEqual(wording.definition, "好评率（‘好’‘较好’计为好评）")
        self.assertNotIn("满意", wording.definition)

    def test_the_satisfaction_scales_name_their_own_positive_levels(self):
        expected = {
            "three_dk": "满意率（‘满意’‘基本满意’计为满意）",
            "four": "满意率（‘满意’‘比较满意’‘基本满意’计为满意）",
            "haochaping5": "满意率（‘非常满意’‘满意’‘基本满意’计为满意）",
            "likert5": "满意率（‘非常满意’‘满意’计为满意）",
        }
        for key, definition in expected.items():
            with self.subTest(scale=key):
                self.assertEqual(rate_wording(BUILTIN[key]).definition, definition)
        self.assertEqual(set(expected) | {"good4"}, set(BUILTIN))

    def test_a_neutral_level_counted_as_satisfied_is_named(self):
        wording = rate_wording(BUILTIN["likert5"], neutral_counts_as_satisfied=True)
        self.assertEqual(wording.definition, "满意率（‘非常满意’‘满意’‘一般’计为满意）")
        wording = rate_wording(BUILTIN["good4"], neutral_counts_as_satisfied=True)
        self.assertEqual(wording.definition, "好评率（‘好’‘较好’‘一般’计为好评）")

    def test_the_strict_rate_names_the_top_level_only(self):
        self.assertEqual(
            rate_wording(BUILTIN["good4"], definition="strict").definition,
            "好评率（仅‘好’计为好评，严口径）",
        )
        self.assertEqual(
            rate_wording(BUILTIN["haochaping5"], definition="strict").definition,
            "满意率（仅‘非常满意’计为满意，严口径）",
        )

    def test_listed_levels_are_named_and_unknown_ones_fall_back_to_broad(self):
        wording = rate_wording(
            BUILTIN["four"], definition="levels", rate_levels=["satisfied"]
        )
        self.assertEqual(wording.definition, "满意率（‘满意’计为满意）")
        # The codes of another scale: the statistics use the broad rate here.
        wording = rate_wording(
            BUILTIN["good4"], definition="levels", rate_levels=["fairly_satisfied"]
        )
        self.assertEqual(wording.definition, "好评率（‘好’‘较好’计为好评）")

    def test_the_labels_named_are_the_levels_the_statistics_count(self):
        settings = [
            ("broad", (), False),
            ("broad", (), True),
            ("strict", (), False),
            ("levels", ("satisfied", "good"), False),
        ]
        for key, levels in BUILTIN.items():
            info = LevelInfo(
                codes=tuple(level.code for level in levels),
                polarities=tuple(level.polarity for level in levels),
                scores=tuple(level.score for level in levels),
            )
            for definition, chosen, neutral in settings:
                chosen = [code for code in chosen if code in info.codes]
                used = definition if definition != "levels" or chosen else "broad"
                mask = info.satisfied(used, levels=chosen, neutral_satisfied=neutral)
                counted = tuple(
                    level.label for level, on in zip(levels, mask, strict=True) if on
                )
                wording = rate_wording(
                    levels,
                    definition=definition,
                    rate_levels=chosen,
                    neutral_counts_as_satisfied=neutral,
                )
                with self.subTest(scale=key, definition=definition, neutral=neutral):
                    self.assertEqual(wording.counted, counted)


class CustomScaleTests(SimpleTestCase):
    def test_a_custom_scale_takes_the_root_of_its_positive_labels(self):
        levels = scale(
            ("agree", "认可", "positive", 100),
            ("mostly", "基本认可", "positive", 70),
            ("disagree", "不认可", "negative", 0),
            ("unknown", "不清楚", "dont_know", None),
        )
        wording = rate_wording(levels)
        self.assertEqual(wording.noun, "认可率")
        self.assertEqual(wording.definition, "认可率（‘认可’‘基本认可’计为认可）")

    def test_labels_without_a_shared_root_get_a_neutral_noun(self):
        levels = scale(
            ("excellent", "优秀", "positive", 100),
            ("good", "良好", "positive", 80),
            ("pass", "合格", "positive", 60),
            ("fail", "不合格", "negative", 0),
        )
        wording = rate_wording(levels)
        self.assertEqual(
            wording.definition, "正面评价率（‘优秀’‘良好’‘合格’计为正面评价）"
        )

    def test_the_top_level_is_the_highest_score_not_the_first_listed(self):
        levels = scale(
            ("fair", "较好", "positive", 80),
            ("good", "好", "positive", 100),
            ("poor", "差", "negative", 0),
        )
        self.assertEqual(rate_wording(levels, definition="strict").counted, ("好",))


class RoundWordingTests(SimpleTestCase):
    def test_one_scale_gives_its_own_noun(self):
        wording = round_wording([rate_wording(BUILTIN["good4"])] * 3)
        self.assertEqual(wording.noun, "好评率")
        self.assertEqual(wording.definition, "好评率（‘好’‘较好’计为好评）")

    def test_scales_with_one_noun_list_each_rule_once(self):
        wording = round_wording(
            [rate_wording(BUILTIN["three_dk"]), rate_wording(BUILTIN["four"])]
        )
        self.assertEqual(wording.noun, "满意率")
        self.assertEqual(
            wording.definition,
            "满意率（‘满意’‘基本满意’计为满意；‘满意’‘比较满意’‘基本满意’计为满意）",
        )

    def test_scales_with_two_nouns_are_named_together_with_each_rule(self):
        wording = round_wording(
            [rate_wording(BUILTIN["three_dk"]), rate_wording(BUILTIN["good4"])]
        )
        self.assertEqual(wording.noun, "正面评价率")
        self.assertEqual(
            wording.definition,
            "正面评价率（满意率：‘满意’‘基本满意’计为满意；"
            "好评率：‘好’‘较好’计为好评）",
        )

    def test_a_round_without_scale_questions_keeps_the_methods_noun(self):
        self.assertEqual(round_wording([]).noun, "满意率")
        self.assertIsInstance(rate_wording(BUILTIN["four"]), RateWording)
