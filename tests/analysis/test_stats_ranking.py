"""Beta-binomial shrinkage and funnel limits, against simulation, brute force and
Spiegelhalter's (2005) definitions written out independently."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import betaln, gammaln
from scipy.stats import binom, norm, spearmanr

from analysis.stats import beta_binomial_shrinkage, funnel_limits


def beta_binomial_log_likelihood(
    k: np.ndarray, n: np.ndarray, a: float, b: float
) -> float:
    """log L from the closed form C(n, k)·B(k + a, n − k + b) / B(a, b)."""
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return float(np.sum(log_choose + betaln(k + a, n - k + b) - betaln(a, b)))


def simulate(
    seed: int, units: int, a: float, b: float
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = rng.integers(20, 400, size=units)
    return rng.binomial(n, rng.beta(a, b, size=units)), n


def test_it_recovers_the_prior_of_simulated_units() -> None:
    k, n = simulate(seed=2005, units=4000, a=30.0, b=2.0)
    fit = beta_binomial_shrinkage(k, n)
    assert fit.status == "fitted"
    assert fit.alpha == pytest.approx(30.0, rel=0.15)
    assert fit.beta == pytest.approx(2.0, rel=0.15)
    assert fit.prior_mean == pytest.approx(30 / 32, abs=0.005)


def log_posterior(k: np.ndarray, n: np.ndarray, a: float, b: float) -> float:
    """log L plus the weak prior −½·log(1 + α + β) on the concentration."""
    return beta_binomial_log_likelihood(k, n, a, b) - 0.5 * np.log1p(a + b)


@pytest.mark.parametrize("units", [300, 4])
def test_it_finds_the_maximum_of_the_penalised_likelihood(units: int) -> None:
    k, n = simulate(seed=1, units=units, a=12.0, b=1.5)
    fit = beta_binomial_shrinkage(k, n)
    assert fit.status == "fitted"
    best = log_posterior(k, n, fit.alpha, fit.beta)
    for a in fit.alpha * np.exp(np.linspace(-0.3, 0.3, 31)):
        for b in fit.beta * np.exp(np.linspace(-0.3, 0.3, 31)):
            assert log_posterior(k, n, a, b) <= best + 1e-7


def test_it_computes_posterior_means_from_the_fitted_prior() -> None:
    k, n = simulate(seed=2, units=200, a=8.0, b=2.0)
    fit = beta_binomial_shrinkage(k, n)
    expected = (k + fit.alpha) / (n + fit.alpha + fit.beta)
    np.testing.assert_allclose(fit.posterior_mean, expected, rtol=1e-12)


def test_units_whose_rates_are_identical_are_pooled_strongly_not_completely() -> None:
    # Maximum likelihood alone would pool them completely (α + β → ∞); the prior
    # keeps a finite concentration, and the unit with more answers ranks higher.
    fit = beta_binomial_shrinkage([9, 18, 27, 90], [10, 20, 30, 100])
    assert fit.status == "fitted"
    assert fit.pooling > 0.7
    np.testing.assert_allclose(fit.posterior_mean, 0.9, atol=0.005)
    assert list(np.argsort(fit.posterior_mean)) == [0, 1, 2, 3]


def test_units_that_differ_less_than_binomial_noise_are_pooled_strongly() -> None:
    fit = beta_binomial_shrinkage([45, 46, 44, 45, 46], [50, 50, 50, 50, 50])
    assert fit.status == "fitted" and fit.pooling > 0.7
    np.testing.assert_allclose(fit.posterior_mean, 226 / 250, atol=0.01)


def test_many_identical_units_are_reported_as_pooled_almost_completely() -> None:
    # 2,000 units exactly at 90%: the prior still keeps α + β finite, and the
    # pooling share says what the ranking is worth.
    fit = beta_binomial_shrinkage([90] * 2000, [100] * 2000)
    assert fit.pooling > 0.999
    np.testing.assert_allclose(fit.posterior_mean, 0.9, rtol=1e-5)


def test_with_three_to_five_units_rankings_stay_meaningful() -> None:
    """40 simulated sets of 3–5 units (true rates Beta(36, 4), n 20–100):
    brute-force maximum likelihood on a grid pools about half of them completely
    (every unit tied); the fitted prior pools none, and its posterior means are
    nearer the true rates than the raw rates and rank them about as well."""
    rng = np.random.default_rng(12)
    pooled_by_ml = 0
    correlations, shrunk_error, raw_error = [], [], []
    mu, m = np.meshgrid(np.linspace(0.5, 0.999, 120), np.geomspace(0.1, 1e6, 80))
    a, b = (mu * m).ravel()[:, None], ((1 - mu) * m).ravel()[:, None]
    for _ in range(40):
        units = int(rng.integers(3, 6))
        n = rng.integers(20, 101, size=units)
        truth = rng.beta(36, 4, size=units)
        k = rng.binomial(n, truth)
        pooled = k.sum() / n.sum()
        at_infinity = float(binom.logpmf(k, n, pooled).sum())
        log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
        on_grid = log_choose + betaln(k + a, n - k + b) - betaln(a, b)
        best_finite = float(on_grid.sum(axis=1).max())
        pooled_by_ml += at_infinity >= best_finite - 1e-9
        fit = beta_binomial_shrinkage(k, n)
        assert fit.status == "fitted"
        assert len(set(np.round(fit.posterior_mean, 6))) > 1
        correlations.append(spearmanr(fit.posterior_mean, truth).statistic)
        shrunk_error.append(np.mean((fit.posterior_mean - truth) ** 2))
        raw_error.append(np.mean((k / n - truth) ** 2))
    assert pooled_by_ml >= 12
    assert np.mean(shrunk_error) < np.mean(raw_error)
    assert np.nanmean(correlations) > 0.5


def test_it_leaves_units_without_answers_out_of_the_fit() -> None:
    k, n = simulate(seed=3, units=100, a=20.0, b=3.0)
    with_empty = beta_binomial_shrinkage(np.append(k, [0, 0]), np.append(n, [0, 0]))
    without = beta_binomial_shrinkage(k, n)
    assert np.isnan(with_empty.posterior_mean[-2:]).all()
    assert with_empty.alpha == without.alpha and with_empty.beta == without.beta
    np.testing.assert_array_equal(
        with_empty.posterior_mean[:-2], without.posterior_mean
    )


unit_counts = st.lists(
    st.integers(min_value=1, max_value=300).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    min_size=2,
    max_size=40,
)


@settings(deadline=None)
@given(unit_counts)
def test_shrinkage_pulls_each_rate_toward_the_prior_mean_and_less_for_large_n(
    units: list[tuple[int, int]],
) -> None:
    k, n = (np.array(column, dtype=float) for column in zip(*units, strict=True))
    fit = beta_binomial_shrinkage(k, n)
    rate = k / n
    posterior = fit.posterior_mean
    tolerance = 1e-12
    assert np.all(posterior >= np.minimum(rate, fit.prior_mean) - tolerance)
    assert np.all(posterior <= np.maximum(rate, fit.prior_mean) + tolerance)
    if fit.status == "fitted":
        # The share of the way to the prior mean, M / (n + M), falls with n.
        moved = np.abs(rate - fit.prior_mean) > 1e-9
        share = (posterior - rate)[moved] / (fit.prior_mean - rate)[moved]
        order = np.argsort(n[moved], kind="stable")
        n_sorted, share_sorted = n[moved][order], share[order]
        larger = np.diff(n_sorted) > 0
        assert np.all(np.diff(share_sorted)[larger] < 1e-12)


def spiegelhalter_limit(prob: float, n: int, target: float) -> float:
    """Inverse of the binomial CDF joined by straight lines between integers,
    which is what Spiegelhalter's (2005) interpolation amounts to."""
    counts = np.arange(-1, n + 1)
    cdf = binom.cdf(counts, n, target)
    return float(np.clip(np.interp(prob, cdf, counts) / n, 0, 1))


@pytest.mark.parametrize("n", [10, 37, 100, 250, 1000])
@pytest.mark.parametrize("target", [0.8, 0.95])
def test_funnel_limits_are_spiegelhalters_interpolated_quantiles(
    n: int, target: float
) -> None:
    limits = funnel_limits(n, target)
    for level, (low, high) in limits.items():
        assert low == pytest.approx(
            spiegelhalter_limit((1 - level) / 2, n, target), abs=1e-12
        )
        assert high == pytest.approx(
            spiegelhalter_limit((1 + level) / 2, n, target), abs=1e-12
        )


def test_funnel_limits_approach_the_normal_approximation() -> None:
    n = np.array([20_000, 100_000])
    limits = funnel_limits(n, 0.95)
    for level, (low, high) in limits.items():
        half = norm.ppf((1 + level) / 2) * np.sqrt(0.95 * 0.05 / n)
        np.testing.assert_allclose(low, 0.95 - half, atol=2e-4)
        np.testing.assert_allclose(high, 0.95 + half, atol=2e-4)


def test_funnel_limits_are_nan_without_answers() -> None:
    low, high = funnel_limits([0, 10], 0.95)[0.95]
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert 0 <= low[1] < 0.95 < high[1] <= 1


@settings(deadline=None)
@given(
    st.integers(min_value=10, max_value=20_000),
    st.floats(min_value=0.5, max_value=0.99),
)
def test_funnel_narrows_as_n_grows(n: int, target: float) -> None:
    small = funnel_limits(n, target)
    large = funnel_limits(2 * n, target)
    for level in (0.95, 0.998):
        low_small, high_small = small[level]
        low_large, high_large = large[level]
        assert low_small <= low_large and high_large - low_large < (
            high_small - low_small
        )
        assert low_large <= target <= high_large
    assert small[0.998][0] <= small[0.95][0] and small[0.95][1] <= small[0.998][1]
