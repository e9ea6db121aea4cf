"""Before/after comparisons, against scipy's tests on explicit tables and
samples, a brute-force Boschloo test and closed-form values of Cohen's h."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, fisher_exact, hypergeom, mannwhitneyu

from analysis.stats import (
    Verdict,
    cohens_h,
    improvement_test,
    improvement_verdict,
    mann_whitney,
    newcombe_difference_interval,
)


def test_it_reproduces_the_boschloo_example_of_the_scipy_documentation() -> None:
    # scipy.stats.boschloo_exact docs, data of Saari et al. (2004): 74 of 117
    # professors vs 31 of 63 scientists very satisfied; one-sided p 0.0355,
    # Fisher's one-sided p (Boschloo's statistic) 0.0483, printed to four
    # decimals without rounding.
    assert 0.0355 <= improvement_test(31, 63, 74, 117) < 0.0356
    assert 0.0483 <= improvement_test(31, 63, 74, 117, "fisher") < 0.0484


def test_it_tests_for_a_higher_later_rate_not_a_lower_one() -> None:
    better = improvement_test(50, 100, 90, 100)
    worse = improvement_test(90, 100, 50, 100)
    assert better < 1e-6 and worse > 0.999
    assert improvement_test(50, 100, 90, 100, "fisher") < 1e-6
    assert improvement_test(90, 100, 50, 100, "fisher") > 0.999


def test_fisher_matches_scipy_fisher_exact_table_by_table() -> None:
    rng = np.random.default_rng(5)
    n_before = rng.integers(1, 300, size=300)
    n_after = rng.integers(1, 300, size=300)
    k_before = rng.binomial(n_before, 0.8)
    k_after = rng.binomial(n_after, 0.85)
    p = improvement_test(k_before, n_before, k_after, n_after, "fisher")
    for i in range(p.size):
        table = [
            [k_after[i], k_before[i]],
            [n_after[i] - k_after[i], n_before[i] - k_before[i]],
        ]
        expected = fisher_exact(table, alternative="greater").pvalue
        assert p[i] == pytest.approx(expected, rel=1e-12, abs=1e-300)


def brute_force_boschloo(
    k_before: int, n_before: int, k_after: int, n_after: int
) -> float:
    """Boschloo (1970) from its definition: the largest probability, over a
    common rate π, of a table whose one-sided Fisher p-value is at most the
    observed one (grid over π, all tables enumerated)."""
    after = np.arange(n_after + 1)[:, None]
    before = np.arange(n_before + 1)[None, :]
    fisher_p = hypergeom.sf(after - 1, n_after + n_before, after + before, n_after)
    observed = fisher_p[k_after, k_before]
    extreme = fisher_p <= observed * (1 + 1e-7)
    best = 0.0
    for pi in np.linspace(0, 1, 20001):
        probability = np.outer(
            binom.pmf(np.arange(n_after + 1), n_after, pi),
            binom.pmf(np.arange(n_before + 1), n_before, pi),
        )
        best = max(best, float(probability[extreme].sum()))
    return best


@pytest.mark.parametrize(
    ("k_before", "n_before", "k_after", "n_after"),
    [(3, 10, 8, 10), (5, 12, 9, 11), (7, 10, 10, 10), (2, 6, 6, 9), (4, 8, 4, 8)],
)
def test_boschloo_matches_a_brute_force_of_its_definition(
    k_before: int, n_before: int, k_after: int, n_after: int
) -> None:
    expected = brute_force_boschloo(k_before, n_before, k_after, n_after)
    assert improvement_test(k_before, n_before, k_after, n_after) == pytest.approx(
        expected, abs=1e-4
    )


@settings(deadline=None, max_examples=40)
@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
)
def test_boschloo_is_never_less_powerful_than_fisher(
    before: tuple[int, int], after: tuple[int, int]
) -> None:
    boschloo = improvement_test(*before, *after, method="boschloo")
    fisher = improvement_test(*before, *after, method="fisher")
    assert boschloo <= fisher + 1e-7


def test_it_gives_no_p_value_when_a_round_has_no_answers() -> None:
    p = improvement_test([0, 5], [0, 10], [3, 0], [4, 0], "fisher")
    assert np.isnan(p).all()
    assert np.isnan(improvement_test(0, 0, 3, 4)).all()


def test_it_refuses_an_unknown_method() -> None:
    with pytest.raises(ValueError):
        improvement_test(1, 2, 1, 2, "barnard")  # type: ignore[arg-type]


def test_newcombe_difference_is_positive_for_an_improvement() -> None:
    difference, low, high = newcombe_difference_interval(90, 100, 50, 100)
    assert difference == pytest.approx(0.4) and 0 < low < 0.4 < high


def test_cohens_h_has_the_values_of_cohens_arcsine_table() -> None:
    # φ = 2·asin√p (Cohen 1988, Table 6.2.1): φ(0.25) = π/3, φ(0.5) = π/2,
    # φ(0.75) = 2π/3, φ(1) = π.
    assert cohens_h(0.75, 0.25) == pytest.approx(math.pi / 3, abs=1e-15)
    assert cohens_h(0.5, 0.25) == pytest.approx(math.pi / 6, abs=1e-15)
    assert cohens_h(1.0, 0.0) == pytest.approx(math.pi, abs=1e-15)
    np.testing.assert_allclose(
        cohens_h([0.25, 0.9], [0.75, 0.9]), [-math.pi / 3, 0.0], atol=1e-15
    )


def expand(level_counts: np.ndarray, order: list[int]) -> np.ndarray:
    """Answers as a sample of ranks (0 = worst) from counts per level."""
    return np.repeat(np.arange(len(order)), level_counts[order].astype(int))


def test_mann_whitney_matches_scipy_on_expanded_samples() -> None:
    rng = np.random.default_rng(9)
    units = 200
    order = [3, 2, 1, 0]  # columns stored best first, as on the form
    before = rng.multinomial(rng.integers(1, 120, size=units), [0.5, 0.3, 0.15, 0.05])
    after = rng.multinomial(rng.integers(1, 120, size=units), [0.55, 0.3, 0.1, 0.05])
    result = mann_whitney(before, after, order)
    for i in range(units):
        x, y = expand(after[i], order), expand(before[i], order)
        expected = mannwhitneyu(x, y, alternative="greater", method="asymptotic")
        assert result.u[i] == pytest.approx(expected.statistic, rel=1e-12)
        assert result.pvalue[i] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)
        # Rank-biserial = P(after > before) − P(after < before) over all pairs.
        sign = np.sign(x[:, None] - y[None, :])
        assert result.rank_biserial[i] == pytest.approx(sign.mean(), abs=1e-12)


def test_mann_whitney_leaves_out_unlisted_levels() -> None:
    # Column 3 is 不了解: not part of the order, not part of the test.
    result = mann_whitney([[2, 3, 5, 40]], [[6, 3, 1, 0]], [2, 1, 0])
    expected = mannwhitneyu(
        [2] * 6 + [1] * 3 + [0] * 1,
        [2] * 2 + [1] * 3 + [0] * 5,
        alternative="greater",
        method="asymptotic",
    )
    assert result.u[0] == expected.statistic
    assert result.pvalue[0] == pytest.approx(expected.pvalue, rel=1e-12)
    assert result.rank_biserial[0] > 0


def test_mann_whitney_finds_no_shift_when_everyone_gives_one_answer() -> None:
    result = mann_whitney([[5, 0], [0, 0]], [[7, 0], [3, 0]], [1, 0])
    assert result.pvalue[0] == 1.0 and result.rank_biserial[0] == 0.0
    assert np.isnan(result.pvalue[1]) and np.isnan(result.u[1])


@pytest.mark.parametrize(
    ("k_before", "n_before", "k_after", "n_after", "verdict"),
    [
        (5, 9, 9, 9, Verdict.INSUFFICIENT_DATA),  # baseline under 10
        (10, 20, 9, 9, Verdict.INSUFFICIENT_DATA),  # re-survey under 10
        (19, 20, 19, 20, Verdict.IMPROVED),  # at target, however it got there
        (10, 20, 18, 20, Verdict.IMPROVED),  # not at target but significant
        (17, 20, 18, 20, Verdict.NOT_IMPROVED),
        (18, 20, 15, 20, Verdict.NOT_IMPROVED),
    ],
)
def test_it_gives_the_resurvey_verdict_of_the_methods(
    k_before: int, n_before: int, k_after: int, n_after: int, verdict: Verdict
) -> None:
    for method in ("boschloo", "fisher"):
        result = improvement_verdict(
            k_before, n_before, k_after, n_after, 0.95, method=method
        )
        assert result.tolist() == verdict


def test_verdicts_are_vectorised_over_tasks() -> None:
    result = improvement_verdict(
        [5, 19, 10, 17], [9, 20, 20, 20], [9, 19, 18, 18], [9, 20, 20, 20], 0.95
    )
    assert result.tolist() == [
        "INSUFFICIENT_DATA",
        "IMPROVED",
        "IMPROVED",
        "NOT_IMPROVED",
    ]
