"""Power of the RED and 达标 rules against brute force: every count out of n
tested with scipy.stats.binomtest, the power summed from scipy.stats.binom."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import binom, binomtest

from analysis.stats import minimum_detectable_rate, red_power, respondents_needed
from analysis.stats.power import confirm_cutoff, red_cutoff

TARGET, MARGIN, Q, MIN_N = 0.95, 0.05, 0.05, 10


@cache
def red_counts(n: int) -> tuple[int, ...]:
    """The counts out of n that are RED when tested alone (BH of one test)."""
    if n < MIN_N:
        return ()
    return tuple(
        k
        for k in range(n + 1)
        if binomtest(k, n, TARGET, alternative="less").pvalue <= Q
        and k / n <= TARGET - MARGIN + 1e-9
    )


@cache
def confirmed_counts(n: int) -> tuple[int, ...]:
    if n < MIN_N:
        return ()
    return tuple(
        k
        for k in range(n + 1)
        if binomtest(k, n, alternative="greater").proportion_ci(0.95, "exact").low
        >= TARGET
    )


def brute_red_power(rate: float, n: int) -> float:
    return float(sum(binom.pmf(k, n, rate) for k in red_counts(n)))


def brute_confirm_power(rate: float, n: int) -> float:
    return float(sum(binom.pmf(k, n, rate) for k in confirmed_counts(n)))


SIZES = [5, 9, 10, 15, 20, 29, 30, 50, 100, 137, 400]


def test_the_red_cutoff_is_the_largest_red_count() -> None:
    cut = red_cutoff(SIZES, TARGET, min_n=MIN_N, red_margin=MARGIN, q_threshold=Q)
    for n, found in zip(SIZES, cut, strict=True):
        reds = red_counts(n)
        assert found == (max(reds) if reds else -1)
        assert reds == tuple(range(len(reds)))  # every count below is RED too


def test_the_confirm_cutoff_is_the_smallest_confirmed_count() -> None:
    cut = confirm_cutoff(SIZES, TARGET, min_n=MIN_N)
    for n, found in zip(SIZES, cut, strict=True):
        confirmed = confirmed_counts(n)
        assert found == (min(confirmed) if confirmed else n + 1)


@pytest.mark.parametrize("rate", [0.6, 0.8, 0.85, 0.9])
def test_red_power_is_the_brute_force_sum(rate: float) -> None:
    power = red_power(rate, SIZES, TARGET)
    for n, found in zip(SIZES, power, strict=True):
        assert found == pytest.approx(brute_red_power(rate, n), abs=1e-10)


def test_the_minimum_detectable_rate_is_flagged_with_80_percent_power() -> None:
    detectable = minimum_detectable_rate(SIZES, TARGET)
    for n, rate in zip(SIZES, detectable, strict=True):
        if not red_counts(n):
            assert np.isnan(rate)
            continue
        # Brute force: the rate where the summed power crosses 0.8.
        expected = brentq(lambda p, m=n: brute_red_power(p, m) - 0.8, 1e-9, TARGET)
        assert rate == pytest.approx(expected, abs=1e-7)


def test_small_units_can_only_show_large_shortfalls() -> None:
    # The point: with under 30 answers a unit truly at 85% is mostly
    # missed, even in the best case of a single test.
    detectable = minimum_detectable_rate([20, 30, 100], TARGET)
    assert detectable[0] < 0.76 and detectable[1] < 0.8 and detectable[2] > 0.85
    assert brute_red_power(0.85, 20) < 0.4


def test_it_is_computed_once_per_distinct_n_and_spread_back() -> None:
    n = np.array([[30, 10], [30, 200]])
    found = minimum_detectable_rate(n, TARGET)
    assert found.shape == (2, 2)
    assert found[0, 0] == found[1, 0]
    assert found[0, 1] == minimum_detectable_rate(10, TARGET)


@pytest.mark.parametrize("rate", [0.5, 0.7, 0.8, 0.85, 0.88])
def test_respondents_needed_to_be_red_reach_80_percent_power(rate: float) -> None:
    n = int(respondents_needed(rate, TARGET))
    assert brute_red_power(rate, n) >= 0.8
    assert brute_red_power(rate, n - 1) < 0.8


@pytest.mark.parametrize("rate", [0.97, 0.99, 1.0])
def test_respondents_needed_to_be_confirmed_reach_80_percent_power(
    rate: float,
) -> None:
    n = int(respondents_needed(rate, TARGET))
    assert brute_confirm_power(rate, n) >= 0.8
    assert brute_confirm_power(rate, n - 1) < 0.8


def test_a_unit_within_the_margin_can_get_no_verdict() -> None:
    # 90–95%: never RED (the margin) and never confirmed (below the target);
    # exactly at 90% RED is a coin toss at best, so 80% is never reached.
    assert np.isnan(respondents_needed([0.9, 0.92, 0.95], TARGET)).all()


def test_with_phi_more_respondents_are_needed_and_less_is_detectable() -> None:
    plain = minimum_detectable_rate([30, 100], TARGET)
    widened = minimum_detectable_rate([30, 100], TARGET, phi=1.7)
    assert (widened < plain).all()
    assert respondents_needed(0.85, TARGET, phi=1.7) > respondents_needed(0.85, TARGET)


@pytest.mark.parametrize("phi", [0.9, float("nan")])
def test_it_refuses_a_phi_below_one(phi: float) -> None:
    with pytest.raises(ValueError, match="phi"):
        minimum_detectable_rate([30], TARGET, phi=phi)
    with pytest.raises(ValueError, match="phi"):
        respondents_needed([0.8], TARGET, phi=phi)


@pytest.mark.parametrize("target", [0.0, 1.0, 1.2])
def test_it_refuses_a_target_outside_the_open_interval(target: float) -> None:
    with pytest.raises(ValueError, match="target"):
        minimum_detectable_rate([30], target)
