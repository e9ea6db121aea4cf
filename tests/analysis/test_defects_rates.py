"""Issue 12, defects 1 and 2: the rate of a row over several items, and the
flag decided on that rate unrounded.

Every expected figure comes from the definitions (METHODS.md §2: the mean of the
item rates; §3: RED needs p̂ ≤ target − 5 points) and from scipy's binomtest, or
from a numerical integral of the beta density, never from the code under test.
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from scipy.integrate import quad
from scipy.stats import beta, binomtest

from analysis.models import Finding, Result
from analysis.results import compute_statistics
from analysis.rows import Row, _respondent_scale
from questionnaires.models import (
    Answer,
    Campaign,
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
from tests.analysis.synthetic import analysed
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of


def item(k: int, n_valid: int, dont_know: int = 0, code: str = "") -> Row:
    """A question row of a unit: ``k`` satisfied of ``n_valid``, no top-box split,
    ``dont_know`` 不了解 beside them, no dissatisfied beyond ``n_valid − k``."""
    return Row(
        level=Result.Level.QUESTION,
        unit_kind="branch",
        dimension_code="d",
        question_code=code,
        n_answered=n_valid + dont_know,
        n_valid=n_valid,
        k=k,
        k_strict=k,
        k_negative=n_valid - k,
        n_dont_know=dont_know,
        score_total=100.0 * k,
    )


def pooled(level: str, items: list[Row], *, average: bool) -> Row:
    row = Row(level=level, unit_kind="branch", source="items" if average else "")
    for one in items:
        row.add(one)
    _respondent_scale(row, items, average=average)
    return row


def assessed(*rows: Row, target: str = "0.950") -> list[Row]:
    campaign = Campaign(target=target, min_flag_size=10)
    compute_statistics(list(rows), campaign)
    return list(rows)


def beta_tail(k: float, n: float, target: float) -> float:
    """P(Beta(k + 1, n − k) ≥ target) by numerical integration: the binomial
    P(X ≤ k) at whole k, and its continuation between them."""
    value, _error = quad(beta(k + 1, n - k).pdf, target, 1, epsabs=1e-14)
    return value


# --- Defect 1: a unit without a 总体评价 question ----------------------------------


def test_a_unit_without_a_headline_question_averages_its_item_rates() -> None:
    # The case: 99/100 and 12/20 with 80 不了解. Pooling gives
    # 111/120 = 0.925; METHODS §2 gives (0.99 + 0.60) / 2 = 0.795.
    unit = pooled(
        Result.Level.UNIT, [item(99, 100), item(12, 20, dont_know=80)], average=True
    )
    (unit,) = assessed(unit)
    assert unit.stats["rate"] == pytest.approx((99 / 100 + 12 / 20) / 2, abs=1e-12)
    assert unit.stats["rate"] == pytest.approx(0.795, abs=1e-12)
    # The strict and dissatisfied rates and 知晓率 are means too.
    assert unit.stats["rate_negative"] == pytest.approx((1 / 100 + 8 / 20) / 2)
    assert unit.stats["awareness"] == pytest.approx((1 + 20 / 100) / 2)
    assert unit.stats["score"] == pytest.approx(79.5)


def test_its_n_is_the_effective_respondents_of_a_mean() -> None:
    unit = pooled(
        Result.Level.UNIT, [item(99, 100), item(12, 20, dont_know=80)], average=True
    )
    # 1 / (½·(1/√100 + 1/√20))² = 38.2: the n at which a binomial rate has the
    # largest standard error the mean can have (each person answering alike).
    assert unit.n_valid == round(1 / (0.5 * (1 / 10 + 1 / math.sqrt(20))) ** 2)
    assert unit.n_valid == 38
    assert unit.n_answered == 100  # people who answered
    # With equal item n it is simply the respondents.
    same = pooled(Result.Level.UNIT, [item(14, 15), item(15, 15)], average=True)
    assert same.n_valid == 15


def test_the_unit_is_tested_on_the_mean_rate_and_that_n() -> None:
    unit = pooled(
        Result.Level.UNIT, [item(99, 100), item(12, 20, dont_know=80)], average=True
    )
    (unit,) = assessed(unit)
    k = 0.795 * 38
    assert unit.stats["p_value"] == pytest.approx(beta_tail(k, 38, 0.95), rel=1e-6)
    # Between the whole counts around it, by scipy's exact test.
    low = binomtest(30, 38, 0.95, alternative="less").pvalue
    high = binomtest(31, 38, 0.95, alternative="less").pvalue
    assert low < unit.stats["p_value"] < high
    assert unit.stats["flag"] == "RED"  # 79.5% is far below 95%


# --- Defect 2: the flag reads the rate unrounded -----------------------------------


def test_a_dimension_at_90_25_percent_is_not_red() -> None:
    # Four items at 91, 90, 90, 90 of 100: the page shows 90.25%, above the RED
    # line at 95% − 5 points. Rounded to 90/100 it was RED (p = 0.028).
    dimension = pooled(
        Result.Level.DIMENSION,
        [item(91, 100), item(90, 100), item(90, 100), item(90, 100)],
        average=False,
    )
    (dimension,) = assessed(dimension)
    assert dimension.n_valid == 100
    assert dimension.stats["rate"] == pytest.approx(361 / 400, abs=1e-12)
    rounded = binomtest(90, 100, 0.95, alternative="less").pvalue
    assert rounded == pytest.approx(0.028, abs=5e-4)  # the figure
    p = dimension.stats["p_value"]
    assert p == pytest.approx(beta_tail(90.25, 100, 0.95), rel=1e-6)
    assert rounded < p < binomtest(91, 100, 0.95, alternative="less").pvalue
    assert dimension.stats["flag"] == "AMBER"


def test_the_shown_rate_and_the_flag_agree_on_a_dimension_of_15() -> None:
    # The demo's 土木工程学院党委, 工作机制好: 58 of 60 answers of 15 people.
    # The page showed 96.7% with an amber badge: the flag used 14/15 = 93.3%.
    dimension = pooled(
        Result.Level.DIMENSION,
        [item(15, 15), item(15, 15), item(14, 15), item(14, 15)],
        average=False,
    )
    (dimension,) = assessed(dimension)
    assert dimension.n_valid == 15
    assert dimension.stats["rate"] == pytest.approx(58 / 60, abs=1e-12)
    assert dimension.stats["rate"] >= 0.95
    assert dimension.stats["flag"] == "GREEN"
    # The figures of the flag come from the same p̂ = 58/60 and n = 15.
    assert dimension.stats["p_value"] == pytest.approx(
        beta_tail(15 * 58 / 60, 15, 0.95), rel=1e-6
    )


def test_the_interval_of_a_mean_uses_its_rate_and_n() -> None:
    unit = pooled(Result.Level.UNIT, [item(91, 100), item(90, 100)], average=True)
    (unit,) = assessed(unit)
    # Wilson's interval needs only p̂ and n: statsmodels' formula, written out.
    p, n, z = 0.905, 100, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert unit.stats["ci_low"] == pytest.approx(centre - half, rel=1e-12)
    assert unit.stats["ci_high"] == pytest.approx(centre + half, rel=1e-12)


def test_a_category_adds_its_units_unrounded() -> None:
    a = pooled(Result.Level.UNIT, [item(91, 100), item(90, 100)], average=True)
    b = pooled(Result.Level.UNIT, [item(45, 50), item(46, 50)], average=True)
    category = Row(level=Result.Level.CATEGORY, unit_kind="")
    category.add(a)
    category.add(b)
    (category,) = assessed(category)
    assert category.n_valid == 150
    assert category.stats["rate"] == pytest.approx((90.5 + 45.5) / 150, abs=1e-12)


def test_whole_counts_keep_scipys_exact_test() -> None:
    question = item(90, 100)
    (question,) = assessed(question)
    assert question.stats["p_value"] == pytest.approx(
        binomtest(90, 100, 0.95, alternative="less").pvalue, rel=1e-12
    )
    assert question.stats["flag"] == "RED"


@pytest.mark.parametrize("k", [0.3, 4.5, 10.1, 19.9, 26.25, 29.7])
def test_the_fractional_test_continues_the_binomial(k: float) -> None:
    from analysis.stats import test_against_target

    p = test_against_target(k, 30, 0.9, fractional=True)
    assert p == pytest.approx(beta_tail(k, 30, 0.9), rel=1e-6, abs=1e-15)
    below, above = (
        binomtest(j, 30, 0.9, alternative="less").pvalue
        for j in (math.floor(k), math.ceil(k))
    )
    assert below < p < above


def test_fractional_counts_are_refused_unless_asked_for() -> None:
    from analysis.stats import test_against_target, wilson_interval

    with pytest.raises(ValueError):
        test_against_target(2.5, 5, 0.9)
    with pytest.raises(ValueError):
        wilson_interval(2.5, 5)


# --- The same through a real round: answers written, analysed, stored --------------


class AveragedUnitTests(PersonaTestCase):
    """A branch questionnaire without a 总体评价 question: two dimensions, d1 with
    q1 and q2, d2 with q3–q6. At branch A: q1 99 满意 of 100; q2 12 满意, 8 不满意
    and 80 不了解; q3 91 of 100 and q4–q6 90 of 100."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()

        def question(i: int) -> dict:
            return {
                "code": f"q{i}",
                "kind": "scale",
                "text": f"第{i}题",
                "scale": "three_dk",
                "required": False,
            }

        questionnaire = questionnaire_create(
            spec={
                "key": "averaged",
                "title": "无总体评价题的问卷",
                "target_kind": "branch",
                "dimensions": [
                    {
                        "code": "d1",
                        "title": "维度一",
                        "questions": [question(1), question(2)],
                    },
                    {
                        "code": "d2",
                        "title": "维度二",
                        "questions": [question(i) for i in (3, 4, 5, 6)],
                    },
                ],
                "questions": [],
            }
        )
        questionnaire_publish(questionnaire=questionnaire)
        cls.campaign = make_round(cls.school, kinds={}, open_it=False)
        CampaignQuestionnaire.objects.create(
            campaign=cls.campaign, unit_kind="branch", questionnaire=questionnaire
        )
        campaign_open(campaign=cls.campaign)
        cls.campaign.refresh_from_db()
        point = point_of(cls.campaign, cls.branch_a)
        levels = {
            level.code: level
            for level in ScaleLevel.objects.filter(scale__key="three_dk")
        }
        questions = {
            q.code: q for q in Question.objects.filter(questionnaire=questionnaire)
        }
        responses = Response.objects.bulk_create(
            Response(
                point=point, questionnaire=questionnaire, submitted_on=date.today()
            )
            for _ in range(100)
        )
        satisfied = {"q1": 99, "q2": 12, "q3": 91, "q4": 90, "q5": 90, "q6": 90}
        answers = []
        for i, response in enumerate(responses):
            for code, question in questions.items():
                level = "satisfied" if i < satisfied[code] else "dissatisfied"
                if code == "q2" and i >= 20:
                    level = "dont_know"
                answers.append(
                    Answer(
                        response=response,
                        point=point,
                        question=question,
                        level=levels[level],
                    )
                )
        Answer.objects.bulk_create(answers)
        cls.analysis = analysed(cls.campaign)

    def result(self, **where) -> Result:
        return self.analysis.results.get(unit=self.branch_a, **where)

    def test_the_unit_row_is_the_mean_of_its_item_rates(self):
        unit = self.result(level=Result.Level.UNIT)
        self.assertEqual(unit.source, "items")
        rates = [0.99, 0.60, 0.91, 0.90, 0.90, 0.90]
        self.assertAlmostEqual(unit.rate, sum(rates) / 6, places=12)
        sizes = [100, 20, 100, 100, 100, 100]
        n = round(1 / (sum(1 / math.sqrt(s) for s in sizes) / 6) ** 2)
        self.assertEqual(unit.n_valid, n)
        self.assertEqual(unit.n_satisfied, round(unit.rate * n))
        expected = beta_tail(unit.rate * n, n, 0.95)
        self.assertAlmostEqual(unit.p_value / expected, 1, places=6)

    def test_the_dimension_is_flagged_on_the_rate_it_shows(self):
        dimension = self.result(level=Result.Level.DIMENSION, dimension_code="d2")
        self.assertAlmostEqual(dimension.rate, 361 / 400, places=12)
        self.assertEqual(dimension.n_valid, 100)
        self.assertEqual(dimension.flag, "AMBER")
        self.assertFalse(
            Finding.objects.filter(campaign=self.campaign, dimension_code="d2").exists()
        )
        # d1: 111 of 120 answers pooled, n = 1 / (Σ w/√n)² with w = 100/120, 20/120.
        d1 = self.result(level=Result.Level.DIMENSION, dimension_code="d1")
        self.assertAlmostEqual(d1.rate, 111 / 120, places=12)
        w = [100 / 120, 20 / 120]
        self.assertEqual(d1.n_valid, round(1 / (w[0] / 10 + w[1] / math.sqrt(20)) ** 2))
