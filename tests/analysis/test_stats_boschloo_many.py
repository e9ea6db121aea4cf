"""Boschloo's test of many tables at once (``boschloo_greater_many``), the path
``improvement_test`` takes for a round's result rows: table by table the
single-table function's p-value, ``scipy.stats.boschloo_exact``'s, and the
definition's, computed by brute force from scipy's distributions."""

from __future__ import annotations

import itertools
from unittest import mock

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import binom, boschloo_exact, hypergeom

from analysis import stats
from analysis.stats import boschloo_many, change


def random_tables(seed: int, count: int, largest: int = 200) -> np.ndarray:
    """``(count, 4)`` tables ``(k_after, n_after, k_before, n_before)``, n 1 to
    ``largest`` a side: half near a 95% target, half anywhere, and a tenth of
    equal rounds (where mirror-image tables tie)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        n0, n1 = (int(n) for n in rng.integers(1, largest + 1, size=2))
        if rng.random() < 0.1:
            n1 = n0
        if rng.random() < 0.5:
            rate = rng.beta(57, 3)
            k0 = int(rng.binomial(n0, rate))
            k1 = int(rng.binomial(n1, min(1.0, rate + rng.uniform(-0.05, 0.1))))
        else:
            k0, k1 = int(rng.integers(0, n0 + 1)), int(rng.integers(0, n1 + 1))
        rows.append((k1, n1, k0, n0))
    return np.array(rows)


EDGES = [
    (17, 20, 12, 20),  # issue 12's table
    (10, 10, 0, 10),
    (0, 10, 10, 10),
    (5, 10, 5, 10),
    (1, 1, 0, 1),
    (0, 1, 1, 1),
    (200, 200, 0, 200),
    (0, 200, 200, 200),
    (200, 200, 200, 200),
    (0, 200, 0, 200),
    (3, 3, 1, 300),
    (45, 67, 104, 131),  # where scipy's search falls short
]


def scipy_p(k_after: int, n_after: int, k_before: int, n_before: int) -> float:
    table = [[k_after, k_before], [n_after - k_after, n_before - k_before]]
    return float(boschloo_exact(table, alternative="greater").pvalue)


def brute_force_p(k_after: int, n_after: int, k_before: int, n_before: int) -> float:
    """The definition: the extreme tables by scipy's hypergeometric p-values
    (ties within 1e-13, as scipy), the null probability of that region from
    scipy's binomial pmf, maximised over π by a grid and a bounded search."""
    a = np.arange(n_after + 1)[:, None]
    x = np.arange(n_before + 1)[None, :]
    fisher = hypergeom.sf(a - 1, n_after + n_before, a + x, n_after)
    region = (fisher <= fisher[k_after, k_before] * (1 + 1e-13)).astype(float)

    def p(pi: float) -> float:
        after = binom.pmf(np.arange(n_after + 1), n_after, pi)
        before = binom.pmf(np.arange(n_before + 1), n_before, pi)
        return float(after @ region @ before)

    grid = np.linspace(0, 1, 2001)
    values = np.array([p(pi) for pi in grid])
    best = float(values.max())
    for i in np.argsort(-values)[:6]:
        low, high = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        found = minimize_scalar(
            lambda pi: -p(pi),
            bounds=(low, high),
            method="bounded",
            options={"xatol": 1e-12},
        )
        best = max(best, -float(found.fun))
    return best


def test_it_gives_the_single_table_p_value_on_many_random_tables() -> None:
    tables = np.concatenate([random_tables(20261201, 560), np.array(EDGES)])
    ours = stats.boschloo_greater_many(*tables.T)
    stats.boschloo_greater.cache_clear()
    reference = np.array([stats.boschloo_greater(*map(int, t)) for t in tables])
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-10)
    # Both search the supremum from below; Newton's method ends at least as high.
    assert np.all(ours >= reference - 1e-12)


def test_it_agrees_with_scipy_on_a_sample() -> None:
    tables = random_tables(7, 24, largest=90)
    ours = stats.boschloo_greater_many(*tables.T)
    for table, p in zip(tables.tolist(), ours, strict=True):
        theirs = scipy_p(*table)
        # scipy's search of π can stop short of the supremum, never past it.
        assert theirs - 1e-12 <= p <= theirs + 1e-8, (table, p, theirs)


@pytest.mark.parametrize(
    "table",
    [
        (17, 20, 12, 20),
        (45, 67, 104, 131),
        (9, 30, 4, 30),
        (58, 60, 50, 60),
        (3, 3, 1, 40),
        (0, 25, 12, 25),
        (30, 35, 25, 40),
    ],
)
def test_it_reaches_the_supremum_of_the_definition(table: tuple[int, ...]) -> None:
    ours = float(stats.boschloo_greater_many(*table))
    assert ours == pytest.approx(brute_force_p(*table), rel=1e-9, abs=1e-12)


def test_mirror_image_tables_tie_as_in_the_single_table_function() -> None:
    # With equal rounds, (k1, k0) and (n − k0, n − k1) have the same Fisher
    # p-value: both count as extreme, or the p-value would drop.
    n = 30
    tables = np.array(
        [(k1, n, k0, n) for k0, k1 in itertools.product(range(n + 1), repeat=2)]
    )
    ours = stats.boschloo_greater_many(*tables.T)
    reference = np.array([stats.boschloo_greater(*map(int, t)) for t in tables])
    np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-10)


def test_the_extreme_masses_are_the_single_table_ones_bit_for_bit() -> None:
    tables = np.concatenate([random_tables(3, 150), np.array(EDGES)])
    masses = boschloo_many._extreme_masses(*tables.T)
    for table, mass in zip(tables.tolist(), masses, strict=True):
        np.testing.assert_array_equal(mass, change._extreme_mass(*table))


def test_a_p_value_below_the_grids_floor_comes_from_the_single_table_path() -> None:
    # 0 of 500 to 500 of 500: p = 4⁻⁵⁰⁰ ≈ 1e-301, below the grid's floor.
    tables = np.array([(500, 500, 0, 500), (17, 20, 12, 20)])
    stats.boschloo_greater.cache_clear()
    with mock.patch.object(
        change, "boschloo_greater", wraps=change.boschloo_greater
    ) as single:
        ours = stats.boschloo_greater_many(*tables.T)
    assert [call.args for call in single.call_args_list] == [(500, 500, 0, 500)]
    assert ours[0] == stats.boschloo_greater(500, 500, 0, 500)
    assert 0 < ours[0] < 1e-300
    assert ours[1] == pytest.approx(stats.boschloo_greater(17, 20, 12, 20), abs=1e-12)


def test_it_broadcasts_and_gives_nan_without_answers() -> None:
    p = stats.boschloo_greater_many([[5, 0], [3, 4]], [[10, 0], [4, 4]], 2, 10)
    assert p.shape == (2, 2)
    assert np.isnan(p[0, 1])
    assert p[0, 0] == pytest.approx(stats.boschloo_greater(5, 10, 2, 10), abs=1e-12)
    assert np.isnan(stats.boschloo_greater_many(1, 1, 0, 0))


@pytest.mark.parametrize(
    "counts",
    [(11, 10, 5, 10), (-1, 10, 5, 10), (5, 10, 5.5, 10), (5, 10, 5, -3)],
)
def test_it_refuses_counts_that_are_no_table(counts: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        stats.boschloo_greater_many(*counts)


def test_improvement_test_computes_many_tables_together() -> None:
    tables = random_tables(11, 40, largest=60)
    k1, n1, k0, n0 = tables.T
    with (
        mock.patch.object(
            change, "boschloo_greater_many", wraps=change.boschloo_greater_many
        ) as many,
        mock.patch.object(change, "boschloo_greater") as single,
    ):
        p = stats.improvement_test(k0, n0, k1, n1)
    assert many.call_count == 1 and single.call_count == 0
    assert len(many.call_args.args[0]) == len(np.unique(tables, axis=0))
    np.testing.assert_allclose(
        p,
        [stats.boschloo_greater(*map(int, t)) for t in tables],
        rtol=1e-8,
        atol=1e-10,
    )
    few = tables[: change.BOSCHLOO_BATCH - 1]
    with mock.patch.object(change, "boschloo_greater_many") as many:
        stats.improvement_test(few[:, 2], few[:, 3], few[:, 0], few[:, 1])
    many.assert_not_called()
