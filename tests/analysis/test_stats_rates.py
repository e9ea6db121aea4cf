"""Rates and the score of METHODS.md §2, worked out by hand for the presets, and
the bootstrap interval of the score against scipy.stats.bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import bootstrap

from analysis.stats import LevelInfo, bootstrap_score_interval, rates

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


def test_the_bootstrap_interval_agrees_with_scipy_bootstrap() -> None:
    counts = np.array([[60, 25, 10, 5], [12, 5, 3, 0]])
    scores = THREE_DK.score_array
    low, high = bootstrap_score_interval(
        counts, scores, n_boot=20_000, rng=np.random.default_rng(1)
    )
    for i in range(len(counts)):
        sample = np.repeat(scores[:3], counts[i, :3])
        expected = bootstrap(
            (sample,),
            np.mean,
            n_resamples=20_000,
            method="percentile",
            rng=np.random.default_rng(2),
        ).confidence_interval
        # Two independent Monte Carlo runs: equal up to resampling noise.
        assert low[i] == pytest.approx(expected.low, abs=1.0)
        assert high[i] == pytest.approx(expected.high, abs=1.0)
        assert low[i] < rates(counts[i], THREE_DK).score[0] < high[i]


def test_the_bootstrap_is_reproducible_from_the_seed() -> None:
    counts = np.array([[60, 25, 10, 5]] * 3)
    first = bootstrap_score_interval(
        counts, THREE_DK.score_array, rng=np.random.default_rng(42)
    )
    second = bootstrap_score_interval(
        counts, THREE_DK.score_array, rng=np.random.default_rng(42)
    )
    np.testing.assert_array_equal(first, second)


def test_the_bootstrap_handles_empty_and_unanimous_groups() -> None:
    low, high = bootstrap_score_interval(
        [[0, 0, 0, 3], [0, 7, 0, 0]], THREE_DK.score_array, rng=np.random.default_rng()
    )
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert low[1] == high[1] == 70.0
