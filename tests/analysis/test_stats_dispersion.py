"""Over-dispersion φ (Spiegelhalter 2005) and the tests and intervals it widens:
against scipy's winsorising, numerical integration, scipy's exact tests on whole
effective counts, Spiegelhalter's normal-approximation limits, and a simulation
of respondents who answer in correlated groups."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import beta, binomtest, chi2, mstats, norm

from analysis.stats import assess_units, funnel_limits, overdispersion
from analysis.stats.dispersion import (
    effective_counts,
    exact_lower_bound_phi,
    jeffreys_prob_below_phi,
    test_against_target_phi,
    wilson_interval_phi,
    winsor_consistency,
)

TARGET = 0.95


def test_the_consistency_factor_is_the_mean_winsorised_square_of_a_normal() -> None:
    a = norm.ppf(0.9)
    inside, _error = quad(lambda z: z * z * norm.pdf(z), -a, a)
    assert winsor_consistency(0.1) == pytest.approx(inside + 2 * 0.1 * a * a, abs=1e-9)
    assert winsor_consistency(0.1) == pytest.approx(0.679, abs=5e-4)


def test_phi_is_the_mean_square_of_scipys_winsorised_z_scores() -> None:
    rng = np.random.default_rng(5)
    n = rng.integers(10, 300, size=57).astype(float)
    k = rng.binomial(n.astype(int), rng.uniform(0.8, 0.99, size=57)).astype(float)
    pooled = k.sum() / n.sum()
    z = (k / n - pooled) / np.sqrt(pooled * (1 - pooled) / n)
    winsorised = np.asarray(mstats.winsorize(z, limits=(0.1, 0.1)))
    expected = np.mean(winsorised**2) / winsor_consistency(0.1)
    found = overdispersion(k, n)
    assert found.phi == pytest.approx(expected, rel=1e-12)
    assert found.units == 57
    assert found.threshold == pytest.approx(chi2.ppf(0.95, 56) / 57, rel=1e-12)
    assert found.applied == (found.phi > max(1.0, found.threshold))


def test_it_is_not_estimated_from_fewer_than_ten_units() -> None:
    found = overdispersion([1, 9, 5, 10, 2, 8, 3, 9, 4], [10] * 9)
    assert np.isnan(found.phi) and not found.applied and found.factor == 1.0
    assert found.units == 9


def test_it_is_not_estimated_when_every_answer_is_satisfied() -> None:
    found = overdispersion([20] * 12, [20] * 12)
    assert np.isnan(found.phi) and not found.applied


@pytest.mark.parametrize("phi", [0.5, np.nan, np.inf])
def test_it_refuses_a_phi_below_one_or_not_finite(phi: float) -> None:
    with pytest.raises(ValueError, match="phi"):
        effective_counts([5], [10], phi)
    with pytest.raises(ValueError, match="phi"):
        funnel_limits([10], TARGET, phi=phi)


def test_with_phi_the_figures_are_scipys_on_the_effective_counts() -> None:
    # φ = 2: 36 of 40 are worth 18 of 20 independent answers.
    k, n, phi = np.array([36.0, 40.0, 0.0]), np.array([40.0, 40.0, 40.0]), 2.0
    p = test_against_target_phi(k, n, TARGET, phi)
    low, high = wilson_interval_phi(k, n, phi)
    lower = exact_lower_bound_phi(k, n, phi)
    jeffreys = jeffreys_prob_below_phi(k, n, TARGET, phi)
    for i, whole in enumerate([18, 20, 0]):
        test = binomtest(whole, 20, TARGET, alternative="less")
        assert p[i] == pytest.approx(test.pvalue, rel=1e-10)
        wilson = binomtest(whole, 20).proportion_ci(0.95, "wilson")
        assert low[i] == pytest.approx(wilson.low, abs=1e-12)
        assert high[i] == pytest.approx(wilson.high, abs=1e-12)
        exact = binomtest(whole, 20, alternative="greater").proportion_ci(0.95, "exact")
        assert lower[i] == pytest.approx(exact.low, abs=1e-10)
        assert jeffreys[i] == pytest.approx(
            beta.cdf(TARGET, whole + 0.5, 20 - whole + 0.5), rel=1e-10
        )


def test_widened_funnel_limits_approach_spiegelhalters_normal_limits() -> None:
    n, phi = np.array([20_000.0]), 1.8
    for level in (0.95, 0.998):
        low, high = funnel_limits(n, TARGET, (level,), phi=phi)[level]
        z = norm.ppf((1 + level) / 2)
        half = z * np.sqrt(phi * TARGET * (1 - TARGET) / n)
        assert low[0] == pytest.approx(TARGET - half[0], abs=2e-4)
        assert high[0] == pytest.approx(TARGET + half[0], abs=2e-4)


def test_phi_of_one_leaves_the_funnel_limits_unchanged() -> None:
    n = np.arange(0, 300, 7)
    plain = funnel_limits(n, TARGET)
    same = funnel_limits(n, TARGET, phi=1.0)
    for level in plain:
        np.testing.assert_array_equal(plain[level][0], same[level][0])
        np.testing.assert_array_equal(plain[level][1], same[level][1])


# --- Simulation: respondents answering in correlated groups ----------------------

CLUSTER, ICC, UNITS = 15, 0.05, 200


def a_round(
    rng: np.random.Generator, *, bad_share: float, icc: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """200 units, n from 10 to 200; ``bad_share`` of them truly at 75–88%, the
    rest exactly at the target. Answers come in groups of 15 whose own rate is
    Beta around the unit's with intra-cluster correlation ``icc``."""
    n = rng.integers(10, 201, size=UNITS)
    truth = np.where(
        rng.random(UNITS) < bad_share, rng.uniform(0.75, 0.88, UNITS), TARGET
    )
    groups = -(-n // CLUSTER)
    unit_of = np.repeat(np.arange(UNITS), groups)
    sizes = np.full(unit_of.size, CLUSTER)
    last = np.cumsum(groups) - 1
    sizes[last] = n - (groups - 1) * CLUSTER
    p = truth[unit_of]
    if icc > 0:
        m = 1 / icc - 1
        p = rng.beta(p * m, (1 - p) * m)
    k = np.bincount(unit_of, weights=rng.binomial(sizes, p), minlength=UNITS)
    return k, n.astype(float), truth


def red_counts(
    seed: int, rounds: int, *, bad_share: float, icc: float, adjust: bool
) -> tuple[int, int, int, int]:
    """(REDs, false REDs, rounds with a false RED, rounds with φ applied)."""
    rng = np.random.default_rng(seed)
    reds = false = rounds_false = applied = 0
    for _ in range(rounds):
        k, n, truth = a_round(rng, bad_share=bad_share, icc=icc)
        assessed = assess_units(k, n, TARGET, adjust_overdispersion=adjust)
        red = assessed.flag == "RED"
        wrong = red & (truth >= TARGET)
        reds += int(red.sum())
        false += int(wrong.sum())
        rounds_false += bool(wrong.any())
        applied += assessed.overdispersion.applied
    return reds, false, rounds_false, applied


def test_with_clustered_respondents_phi_keeps_false_reds_within_five_percent() -> None:
    reds, false, _rounds, applied = red_counts(
        12, 40, bad_share=0.15, icc=ICC, adjust=False
    )
    assert false / reds > 0.08  # the problem: without φ, too many false REDs
    reds, false, _rounds, applied = red_counts(
        12, 40, bad_share=0.15, icc=ICC, adjust=True
    )
    assert applied == 40
    assert reds > 0
    assert false / reds <= 0.05


def test_with_every_unit_at_the_target_phi_removes_most_false_reds() -> None:
    _reds, _false, without, _applied = red_counts(
        13, 60, bad_share=0.0, icc=ICC, adjust=False
    )
    assert without / 60 > 0.35  # the "54% of rounds"
    _reds, _false, with_phi, applied = red_counts(
        13, 60, bad_share=0.0, icc=ICC, adjust=True
    )
    assert applied >= 55
    assert with_phi / 60 <= 0.2


def test_without_clustering_phi_stays_unapplied_most_of_the_time() -> None:
    _reds, _false, _rounds, applied = red_counts(
        14, 100, bad_share=0.0, icc=0.0, adjust=True
    )
    assert applied <= 10


def test_assessed_with_phi_each_unit_gets_the_figures_of_its_own_counts() -> None:
    # Computed once per distinct (k, n) and spread back: the same as unit by unit.
    rng = np.random.default_rng(8)
    n = rng.integers(10, 60, size=400).astype(float)
    k = rng.binomial(n.astype(int), rng.uniform(0.5, 1.0, size=400)).astype(float)
    assessed = assess_units(k, n, TARGET, adjust_overdispersion=True)
    phi = assessed.overdispersion.phi
    assert assessed.overdispersion.applied
    for i in range(0, 400, 37):
        one_k, one_n = k[i : i + 1], n[i : i + 1]
        assert (
            assessed.p_value[i] == test_against_target_phi(one_k, one_n, TARGET, phi)[0]
        )
        low, high = wilson_interval_phi(one_k, one_n, phi)
        assert (assessed.wilson_low[i], assessed.wilson_high[i]) == (low[0], high[0])
        assert assessed.exact_lower[i] == exact_lower_bound_phi(one_k, one_n, phi)[0]
        assert (
            assessed.prob_below_target[i]
            == jeffreys_prob_below_phi(one_k, one_n, TARGET, phi)[0]
        )
