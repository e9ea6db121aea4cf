"""Intervals for one proportion and for a difference, against published tables
and independent implementations (scipy.stats.binomtest, statsmodels)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
)

from analysis.stats import (
    clopper_pearson_interval,
    exact_lower_bound,
    min_n_to_confirm,
    newcombe_difference_interval,
    wilson_interval,
)


@st.composite
def counts(draw: st.DrawFn, max_n: int = 2000) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=max_n))
    return draw(st.integers(min_value=0, max_value=n)), n


# Newcombe RG (1998a), "Two-sided confidence intervals for the single
# proportion: comparison of seven methods", Stat Med 17:857–872, Table I,
# method 3 (Wilson score, no continuity correction) and method 5 (Clopper–
# Pearson "exact"), four decimals as printed.
NEWCOMBE_1998A = [
    # k, n, (Wilson low, high), (Clopper–Pearson low, high)
    (81, 263, (0.2553, 0.3662), (0.2527, 0.3676)),
    (15, 148, (0.0624, 0.1605), (0.0578, 0.1617)),
    (0, 20, (0.0000, 0.1611), (0.0000, 0.1684)),
    (1, 29, (0.0061, 0.1718), (0.0009, 0.1776)),
]

# Newcombe RG (1998b), "Interval estimation for the difference between
# independent proportions: comparison of eleven methods", Stat Med 17:873–890,
# Table II, method 10 (score interval, hybrid Wilson, no continuity correction).
NEWCOMBE_1998B = [
    # k1, n1, k2, n2, (low, high)
    (56, 70, 48, 80, (0.0524, 0.3339)),
    (9, 10, 3, 10, (0.1705, 0.8090)),
    (6, 7, 2, 7, (0.0582, 0.8062)),
    (5, 56, 0, 29, (-0.0381, 0.1926)),
    (0, 10, 0, 20, (-0.1611, 0.2775)),
    (0, 10, 0, 10, (-0.2775, 0.2775)),
    (10, 10, 0, 20, (0.6791, 1.0000)),
    (10, 10, 0, 10, (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("k", "n", "wilson", "exact"), NEWCOMBE_1998A)
def test_it_reproduces_newcombe_1998a_table_1(
    k: int, n: int, wilson: tuple[float, float], exact: tuple[float, float]
) -> None:
    assert np.round(wilson_interval(k, n), 4).tolist() == list(wilson)
    assert np.round(clopper_pearson_interval(k, n), 4).tolist() == list(exact)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2", "interval"), NEWCOMBE_1998B)
def test_it_reproduces_newcombe_1998b_table_2_method_10(
    k1: int, n1: int, k2: int, n2: int, interval: tuple[float, float]
) -> None:
    difference, low, high = newcombe_difference_interval(k1, n1, k2, n2)
    assert difference == pytest.approx(k1 / n1 - k2 / n2, abs=1e-15)
    assert [round(float(low), 4), round(float(high), 4)] == list(interval)


def test_it_matches_statsmodels_intervals_across_many_units() -> None:
    rng = np.random.default_rng(20240501)
    n = rng.integers(1, 3000, size=2000)
    k = rng.binomial(n, rng.uniform(0, 1, size=n.size))
    k[:5], n[:5] = [0, 1, 7, 7, 0], [1, 1, 7, 9, 50]

    for ours, method in [
        (wilson_interval(k, n), "wilson"),
        (clopper_pearson_interval(k, n), "beta"),
    ]:
        theirs = proportion_confint(k, n, alpha=0.05, method=method)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=0, atol=1e-12)

    k2 = rng.binomial(n, 0.7)
    _, low, high = newcombe_difference_interval(k, n, k2, n)
    theirs = confint_proportions_2indep(k, n, k2, n, method="newcomb", compare="diff")
    np.testing.assert_allclose(low, theirs[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, theirs[1], rtol=0, atol=1e-12)


def test_it_matches_binomtest_one_unit_at_a_time() -> None:
    rng = np.random.default_rng(7)
    n = rng.integers(1, 800, size=150)
    k = rng.binomial(n, 0.9)
    k[:3], n[:3] = [0, 5, 12], [5, 5, 40]
    wilson = wilson_interval(k, n, 0.9)
    exact = clopper_pearson_interval(k, n, 0.99)
    lower = exact_lower_bound(k, n, 0.95)
    for i in range(n.size):
        two_sided = binomtest(int(k[i]), int(n[i]))
        w = two_sided.proportion_ci(0.9, "wilson")
        e = two_sided.proportion_ci(0.99, "exact")
        one_sided = binomtest(int(k[i]), int(n[i]), alternative="greater")
        low = one_sided.proportion_ci(0.95, "exact").low
        assert wilson[0][i] == pytest.approx(w.low, abs=1e-12)
        assert wilson[1][i] == pytest.approx(w.high, abs=1e-12)
        # binomtest finds exact limits with brentq (xtol 2e-12), not beta.ppf.
        assert exact[0][i] == pytest.approx(e.low, abs=1e-10)
        assert exact[1][i] == pytest.approx(e.high, abs=1e-10)
        assert lower[i] == pytest.approx(low, abs=1e-10)


def test_it_gives_nan_for_a_unit_without_answers() -> None:
    for low, high in [
        wilson_interval([3, 0], [4, 0]),
        clopper_pearson_interval([3, 0], [4, 0]),
    ]:
        assert np.isfinite(low[0]) and np.isfinite(high[0])
        assert np.isnan(low[1]) and np.isnan(high[1])
    assert np.isnan(exact_lower_bound(0, 0))
    difference, low, high = newcombe_difference_interval(3, 4, 0, 0)
    assert np.isnan(difference) and np.isnan(low) and np.isnan(high)


@pytest.mark.parametrize(
    ("k", "n"), [(-1, 5), (6, 5), (2.5, 5), (np.nan, 5), (1, np.inf)]
)
def test_it_refuses_impossible_counts(k: float, n: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(k, n)


def test_it_refuses_a_confidence_outside_zero_and_one() -> None:
    with pytest.raises(ValueError):
        clopper_pearson_interval(3, 4, confidence=95)


def test_it_needs_59_unanimous_answers_to_confirm_95_percent() -> None:
    assert min_n_to_confirm(0.95, 0.95) == 59
    # Independently: scipy's one-sided exact bound crosses 0.95 between 58 and 59.
    bound = binomtest(59, 59, alternative="greater").proportion_ci(0.95).low
    assert bound >= 0.95
    bound = binomtest(58, 58, alternative="greater").proportion_ci(0.95).low
    assert bound < 0.95


@pytest.mark.parametrize(("target", "confidence"), [(0.9, 0.95), (0.8, 0.99)])
def test_it_finds_the_smallest_confirmable_n(target: float, confidence: float) -> None:
    n = min_n_to_confirm(target, confidence)
    assert exact_lower_bound(n, n, confidence) >= target
    assert exact_lower_bound(n - 1, n - 1, confidence) < target


def test_it_takes_the_one_sided_bound_from_the_90_percent_interval() -> None:
    k = np.array([0, 1, 30, 58, 59, 190])
    n = np.array([10, 10, 40, 59, 59, 200])
    low, _ = clopper_pearson_interval(k, n, 0.90)
    np.testing.assert_allclose(exact_lower_bound(k, n, 0.95), low, atol=1e-15)


@settings(deadline=None)
@given(counts(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_intervals_contain_the_estimate_and_stay_in_zero_one(
    kn: tuple[int, int], confidence: float
) -> None:
    k, n = kn
    for low, high in [
        wilson_interval(k, n, confidence),
        clopper_pearson_interval(k, n, confidence),
    ]:
        assert 0.0 <= low <= k / n <= high <= 1.0
    assert 0.0 <= exact_lower_bound(k, n, confidence) <= k / n


@settings(deadline=None)
@given(st.integers(min_value=1, max_value=100_000))
def test_wilson_is_pinned_to_zero_and_one_at_the_extremes(n: int) -> None:
    low, high = wilson_interval([0, n], [n, n])
    assert low[0] == 0.0 and 0.0 < high[0] < 1.0
    assert high[1] == 1.0 and 0.0 < low[1] < 1.0


@settings(deadline=None)
@given(counts(max_n=500), counts(max_n=500))
def test_newcombe_interval_contains_the_difference_within_minus_one_and_one(
    first: tuple[int, int], second: tuple[int, int]
) -> None:
    difference, low, high = newcombe_difference_interval(*first, *second)
    assert -1.0 <= low <= difference <= high <= 1.0
