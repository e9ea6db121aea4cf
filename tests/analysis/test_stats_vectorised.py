"""The shortcuts that make 10,000 units cheap give the numbers of the plain
computation: funnel limits once per distinct n, the beta-binomial likelihood with
its constant computed once, distinct (k, n) pairs found by one integer key, one
exact lower bound for both the figure and the flag."""

from __future__ import annotations

import numpy as np
from scipy.stats import betabinom

from analysis.stats import assess_units, flag_colours, funnel_limits, ranking


def units(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 400, size=count).astype(float)
    k = rng.binomial(n.astype(int), rng.beta(25, 2, size=count)).astype(float)
    return k, n


def test_funnel_limits_of_many_units_are_those_of_each_unit_alone() -> None:
    _k, n = units(1, 3000)
    together = funnel_limits(n, 0.95)
    for i in np.random.default_rng(2).choice(n.size, 200, replace=False):
        alone = funnel_limits(n[i], 0.95)
        for level, (low, high) in together.items():
            np.testing.assert_array_equal(low[i], alone[level][0])
            np.testing.assert_array_equal(high[i], alone[level][1])


def test_funnel_limits_keep_the_shape_of_n() -> None:
    grid = funnel_limits([[10, 20], [20, 0]], 0.9)[0.95][0]
    assert grid.shape == (2, 2) and np.isnan(grid[1, 1])
    assert grid[0, 1] == grid[1, 0]
    assert funnel_limits(50, 0.95)[0.95][0].shape == ()


def test_the_likelihood_is_scipys_betabinom_logpmf_to_the_last_bit() -> None:
    k, n = units(3, 2000)
    k, n = k[n > 0], n[n > 0]
    weight = np.random.default_rng(4).integers(1, 5, size=k.size).astype(float)
    log_choose = ranking._log_choose(k, n)
    for theta in ([2.0, 3.0], [3.5, 1.0], [-1.0, 8.0]):
        mu = 1 / (1 + np.exp(-theta[0]))
        m = np.exp(theta[1])
        expected = -float(np.sum(weight * betabinom.logpmf(k, n, mu * m, (1 - mu) * m)))
        value, _gradient = ranking._negative_log_likelihood(
            np.array(theta), k, n, weight, log_choose
        )
        assert value == expected


def test_distinct_pairs_by_integer_key_are_those_of_unique_rows() -> None:
    k, n = units(5, 5000)
    rows, counts = np.unique(np.stack([k, n], axis=1), axis=0, return_counts=True)
    k_fit, n_fit, weight = ranking._distinct_pairs(k, n)
    np.testing.assert_array_equal(k_fit, rows[:, 0])
    np.testing.assert_array_equal(n_fit, rows[:, 1])
    np.testing.assert_array_equal(weight, counts)


def test_assessed_flags_are_flag_colours_of_the_same_units() -> None:
    k, n = units(6, 4000)
    for target in (0.8, 0.95, 0.999):  # 1.0 is refused (docs/methods.md §3)
        assessed = assess_units(k, n, target)
        alone = flag_colours(k, n, target, assessed.q_value)
        np.testing.assert_array_equal(assessed.flag, alone)
