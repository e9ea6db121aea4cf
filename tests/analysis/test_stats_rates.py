"""Rates and the score of METHODS.md §2, worked out by hand for the presets, and
the score's posterior interval against the exact Beta posterior (two levels) and
numpy's Dirichlet draws (more levels)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta

from analysis.stats import LevelInfo, rates, score_interval

THREE_DK = LevelInfo(
    codes=("satisfied", "basically", "dissatisfied", "dont_know"),
    polarities=("positive", "positive", "negative", "dont_know"),
    scores=(100, 70, 0, None),
)
LIKERT5 = LevelInfo(
    codes=("very", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"),
    polarities=("positive", "positive", "neutral", "negative", "negative"),
    scores=(100, 75, 50, 25, 0),
)
HAOCHAPING5 = LevelInfo(
    codes=("very", "satisfied", "basically", "dissatisfied", "very_dissatisfied"),
    polarities=("positive", "positive", "positive", "negative", "negative"),
    scores=(100, 80, 60, 20, 0),
)


def test_it_computes_every_rate_of_a_three_level_scale_by_hand() -> None:
    result = rates([[50, 30, 15, 5]], THREE_DK)
    assert result.n_answered.tolist() == [100]
    assert result.n_valid.tolist() == [95]
    assert result.k.tolist() == result.k_broad.tolist() == [80]
    assert result.rate[0] == result.broad[0] == pytest.approx(80 / 95)
    assert result.k_strict.tolist() == [50]
    assert result.strict[0] == pytest.approx(50 / 95)
    assert result.k_negative.tolist() == [15]
    assert result.dissatisfied[0] == pytest.approx(15 / 95)
    assert result.awareness[0] == pytest.approx(0.95)
    assert result.score[0] == pytest.approx((50 * 100 + 30 * 70) / 95)


def test_it_computes_rows_independently() -> None:
    result = rates([[50, 30, 15, 5], [1, 0, 0, 0], [0, 2, 2, 0]], THREE_DK)
    np.testing.assert_allclose(result.broad, [80 / 95, 1.0, 0.5])
    np.testing.assert_allclose(result.score, [7100 / 95, 100.0, 35.0])


def test_it_gives_nan_where_a_denominator_is_zero() -> None:
    result = rates([[0, 0, 0, 4], [0, 0, 0, 0]], THREE_DK)
    assert result.n_valid.tolist() == [0, 0]
    for rate in (result.rate, result.strict, result.dissatisfied, result.score):
        assert np.isnan(rate).all()
    assert result.awareness[0] == 0.0 and np.isnan(result.awareness[1])


def test_neutral_counts_as_satisfied_only_when_the_campaign_says_so() -> None:
    counts = [[10, 20, 30, 25, 15]]
    assert rates(counts, LIKERT5).broad[0] == pytest.approx(0.30)
    assert rates(counts, LIKERT5, neutral_satisfied=True).broad[0] == pytest.approx(
        0.60
    )
    # The strict rate does not move with the setting.
    strict = rates(counts, LIKERT5, neutral_satisfied=True).strict[0]
    assert strict == pytest.approx(0.10)


def test_it_follows_the_chosen_rate_definition() -> None:
    counts = [[10, 20, 30, 25, 15]]
    assert rates(counts, HAOCHAPING5).rate[0] == pytest.approx(0.60)
    strict = rates(counts, HAOCHAPING5, definition="strict")
    assert strict.k[0] == 10 and strict.rate[0] == pytest.approx(0.10)
    assert strict.broad[0] == pytest.approx(0.60)  # still shown beside it
    chosen = rates(
        counts,
        HAOCHAPING5,
        definition="levels",
        satisfied_levels=["very", "satisfied"],
    )
    assert chosen.k[0] == 30 and chosen.rate[0] == pytest.approx(0.30)
    assert rates(counts, HAOCHAPING5).score[0] == pytest.approx(
        (10 * 100 + 20 * 80 + 30 * 60 + 25 * 20) / 100
    )


def test_the_top_level_is_the_highest_score_unless_named() -> None:
    reordered = LevelInfo(
        codes=("dissatisfied", "basically", "satisfied"),
        polarities=("negative", "positive", "positive"),
        scores=(0, 70, 100),
    )
    assert reordered.top == 2
    assert rates([[1, 2, 3]], reordered).strict[0] == pytest.approx(0.5)
    named = LevelInfo(
        codes=reordered.codes,
        polarities=reordered.polarities,
        scores=reordered.scores,
        top_code="basically",
    )
    assert rates([[1, 2, 3]], named).strict[0] == pytest.approx(2 / 6)


@pytest.mark.parametrize(
    "levels", [["nonsense"], ["dont_know"], []], ids=["unknown", "dont_know", "empty"]
)
def test_it_refuses_a_bad_list_of_satisfied_levels(levels: list[str]) -> None:
    with pytest.raises(ValueError):
        rates([[1, 1, 1, 1]], THREE_DK, definition="levels", satisfied_levels=levels)


def test_it_refuses_a_scale_with_a_missing_score() -> None:
    with pytest.raises(ValueError):
        LevelInfo(("a", "b"), ("positive", "negative"), (100, None))
    with pytest.raises(ValueError):
        LevelInfo(("a", "b"), ("positive", "dont_know"), (100, 0))
    with pytest.raises(ValueError):
        LevelInfo(("a", "b"), ("good", "negative"), (100, 0))


def test_it_refuses_counts_that_do_not_fit_the_scale() -> None:
    with pytest.raises(ValueError):
        rates([[1, 2, 3]], THREE_DK)
    with pytest.raises(ValueError):
        rates([[1, 2, 3, -1]], THREE_DK)


def test_with_two_levels_the_interval_is_the_jeffreys_beta_posterior() -> None:
    # S = 100·θ with θ ~ Beta(k + ½, n − k + ½): the interval is exact here.
    two = np.array([100.0, 0.0])
    counts = np.array([[10, 0], [7, 3], [0, 12], [45, 5]])
    low, high = score_interval(counts, two)
    for (k, rest), lo, hi in zip(counts, low, high, strict=True):
        posterior = beta(k + 0.5, rest + 0.5)
        assert lo == pytest.approx(100 * posterior.ppf(0.025), rel=1e-9)
        assert hi == pytest.approx(100 * posterior.ppf(0.975), rel=1e-9)


@pytest.mark.parametrize(
    "counts",
    [[10, 0, 0, 0], [9, 1, 0, 2], [8, 1, 1, 0], [60, 25, 10, 5], [12, 5, 3, 0]],
)
def test_it_is_within_a_point_of_the_dirichlet_posterior(counts: list[int]) -> None:
    # Independent: quantiles of 400,000 numpy Dirichlet(k + ½) draws of the
    # scored levels' shares. The closed form matches two moments, not all.
    low, high = score_interval([counts], THREE_DK.score_array)
    draws = np.random.default_rng(7).dirichlet(np.array(counts[:3]) + 0.5, size=400_000)
    expected = np.quantile(draws @ THREE_DK.score_array[:3], [0.025, 0.975])
    assert low[0] == pytest.approx(expected[0], abs=1.0)
    assert high[0] == pytest.approx(expected[1], abs=1.0)


def test_ten_unanimous_answers_have_an_interval_with_width() -> None:
    # The percentile bootstrap gave [100, 100] here.
    low, high = score_interval([[10, 0, 0, 0]], THREE_DK.score_array)
    assert high[0] - low[0] > 15


def test_it_is_nan_without_answers_and_a_point_on_a_one_score_scale() -> None:
    low, high = score_interval([[0, 0, 0, 3], [0, 7, 0, 0]], THREE_DK.score_array)
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert np.isfinite(low[1]) and low[1] < 70 < high[1]
    low, high = score_interval([[4, 0], [0, 2]], [50.0, np.nan])
    assert low[0] == high[0] == 50.0
    assert np.isnan(low[1])


def test_it_refuses_counts_that_do_not_fit_the_scores() -> None:
    with pytest.raises(ValueError):
        score_interval([[1, 2]], THREE_DK.score_array)
    with pytest.raises(ValueError):
        score_interval([[1, -2, 0, 0]], THREE_DK.score_array)
