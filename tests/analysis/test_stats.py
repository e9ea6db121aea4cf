"""The per-round path over many units at once — rates, intervals, test, BH,
colours, Jeffreys, shrinkage — equals the same numbers computed one unit at a
time with scipy's scalar functions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta, binomtest

from analysis import stats
from analysis.stats import LevelInfo

THREE_DK = LevelInfo(
    codes=("satisfied", "basically", "dissatisfied", "dont_know"),
    polarities=("positive", "positive", "negative", "dont_know"),
    scores=(100, 70, 0, None),
)


def a_round(units: int, seed: int) -> np.ndarray:
    """Per-unit counts of a three_dk question, a few units nearly empty."""
    rng = np.random.default_rng(seed)
    answered = rng.integers(0, 400, size=units)
    answered[:4] = [0, 3, 9, 10]
    satisfaction = rng.beta(25, 1.5, size=units)
    shares = np.column_stack(
        [
            0.6 * satisfaction,
            0.4 * satisfaction,
            0.95 * (1 - satisfaction),
            0.05 * (1 - satisfaction),
        ]
    )
    return rng.multinomial(answered, shares)


def test_the_vectorised_path_equals_the_scalar_one_unit_by_unit() -> None:
    counts = a_round(units=400, seed=51)
    result = stats.rates(counts, THREE_DK)
    k = result.k.astype(int)
    n = result.n_valid.astype(int)
    assessment = stats.assess_units(k, n, 0.95)
    shrinkage = stats.beta_binomial_shrinkage(k, n)

    eligible_p = []
    for i in range(len(counts)):
        if n[i] == 0:
            assert np.isnan(assessment.rate[i])
            assert np.isnan(assessment.wilson_low[i])
            assert np.isnan(assessment.p_value[i])
            assert np.isnan(assessment.prob_below_target[i])
            assert np.isnan(shrinkage.posterior_mean[i])
            continue
        test = binomtest(int(k[i]), int(n[i]), 0.95, alternative="less")
        wilson = binomtest(int(k[i]), int(n[i])).proportion_ci(0.95, "wilson")
        bound = binomtest(int(k[i]), int(n[i]), alternative="greater")
        assert assessment.rate[i] == pytest.approx(
            counts[i, :2].sum() / counts[i, :3].sum(), abs=1e-12
        )
        assert assessment.wilson_low[i] == pytest.approx(wilson.low, abs=1e-12)
        assert assessment.wilson_high[i] == pytest.approx(wilson.high, abs=1e-12)
        assert assessment.exact_lower[i] == pytest.approx(
            bound.proportion_ci(0.95, "exact").low, abs=1e-10
        )
        assert assessment.p_value[i] == pytest.approx(test.pvalue, rel=1e-12)
        assert assessment.prob_below_target[i] == pytest.approx(
            beta(k[i] + 0.5, n[i] - k[i] + 0.5).cdf(0.95), abs=1e-12
        )
        assert shrinkage.posterior_mean[i] == pytest.approx(
            (k[i] + shrinkage.alpha) / (n[i] + shrinkage.alpha + shrinkage.beta),
            abs=1e-12,
        )
        if n[i] >= 10:
            eligible_p.append((i, test.pvalue))

    # Benjamini–Hochberg by hand: sort, scale by m / rank, cumulative minimum
    # from the largest p down.
    index, p = (np.array(column) for column in zip(*eligible_p, strict=True))
    order = np.argsort(p)
    scaled = p[order] * len(p) / np.arange(1, len(p) + 1)
    q_sorted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1)
    q = np.empty_like(p)
    q[order] = q_sorted
    np.testing.assert_allclose(assessment.q_value[index], q, rtol=1e-12)
    assert np.isnan(np.delete(assessment.q_value, index)).all()
    assert set(assessment.flag[n < 10]) == {"GREY"}
    assert shrinkage.status == "fitted"


def test_the_public_api_is_importable_from_the_package() -> None:
    for name in stats.__all__:
        assert getattr(stats, name) is not None
