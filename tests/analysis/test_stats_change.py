"""Before/after comparisons, against scipy's tests on explicit tables and
samples, a brute-force Boschloo test and closed-form values of Cohen's h."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.stats import beta as beta_dist
from scipy.stats import (
    betabinom,
    binom,
    binomtest,
    chi2,
    fisher_exact,
    hypergeom,
    mannwhitneyu,
)

from analysis import stats
from analysis.stats import (
    Verdict,
    beyond_expected,
    cohens_h,
    improvement_decision,
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
    ("k_before", "n_before", "k_after", "n_after", "verdict", "rule"),
    [
        (5, 9, 9, 9, Verdict.INSUFFICIENT_DATA, "min_n"),  # baseline under 10
        (10, 20, 9, 9, Verdict.INSUFFICIENT_DATA, "min_n"),  # re-survey under 10
        # At the target by its point estimate alone (19/20, bound 0.78): the
        # test decides, and 19/20 → 19/20 is no improvement.
        (19, 20, 19, 20, Verdict.NOT_IMPROVED, "test"),
        (10, 20, 18, 20, Verdict.IMPROVED, "test"),  # significant
        (17, 20, 18, 20, Verdict.NOT_IMPROVED, "test"),
        (18, 20, 15, 20, Verdict.NOT_IMPROVED, "test"),
        # 59 of 59: one-sided 95% bound 0.05^(1/59) = 0.9505 ≥ 0.95, however
        # it got there; 58 of 58 (0.9497) is not enough.
        (58, 59, 59, 59, Verdict.IMPROVED, "target_bound"),
        (57, 58, 58, 58, Verdict.NOT_IMPROVED, "test"),
    ],
)
def test_it_gives_the_resurvey_verdict_of_the_rule(
    k_before: int,
    n_before: int,
    k_after: int,
    n_after: int,
    verdict: Verdict,
    rule: str,
) -> None:
    for method in ("boschloo", "fisher"):
        result = improvement_decision(
            k_before, n_before, k_after, n_after, 0.95, method=method
        )
        assert (result.verdict.tolist(), result.rule.tolist()) == (verdict, rule)
        assert (
            improvement_verdict(
                k_before, n_before, k_after, n_after, 0.95, method=method
            ).tolist()
            == verdict
        )


def test_the_target_rule_is_the_exact_one_sided_bound_of_scipy() -> None:
    # A baseline with everyone satisfied: no re-survey can be significantly
    # higher, so only the bound can give IMPROVED.
    for n in range(10, 130):
        for k in range(max(0, n - 8), n + 1):
            low = binomtest(k, n, alternative="greater").proportion_ci(0.95).low
            result = improvement_decision(n, n, k, n, 0.95)
            assert (str(result.verdict) == "IMPROVED") == (low >= 0.95), (k, n)


def test_verdicts_are_vectorised_over_tasks() -> None:
    result = improvement_verdict(
        [5, 19, 10, 17], [9, 20, 20, 20], [9, 20, 18, 18], [9, 20, 20, 20], 0.95
    )
    assert result.tolist() == [
        "INSUFFICIENT_DATA",
        "NOT_IMPROVED",
        "IMPROVED",
        "NOT_IMPROVED",
    ]


def _predictive_tail(k0, n0, k1, n1, a, b) -> float:
    """P(K ≥ k1) for K ~ Binomial(n1, π), π ~ Beta(k0 + a, n0 − k0 + b), by
    numerical integration (independent of scipy's betabinom)."""
    density = beta_dist(k0 + a, n0 - k0 + b)
    value, _ = quad(
        lambda pi: binom.sf(k1 - 1, n1, pi) * density.pdf(pi),
        0,
        1,
        epsabs=1e-13,
        epsrel=1e-11,
        limit=200,
        points=[density.mean()],
    )
    return value


@pytest.mark.parametrize(
    ("k0", "n0", "k1", "n1", "a", "b"),
    [
        (12, 20, 17, 20, 46.5, 3.1),
        (84, 120, 100, 120, 20.0, 1.5),
        (30, 40, 40, 40, 5.0, 0.4),
        (150, 200, 180, 200, 300.0, 15.0),
        (5, 10, 3, 10, 0.7, 0.2),
    ],
)
def test_the_guard_is_the_posterior_predictive_tail(k0, n0, k1, n1, a, b) -> None:
    expected, p = beyond_expected(k0, n0, k1, n1, a / (a + b), a + b)
    assert float(expected) == pytest.approx((k0 + a) / (n0 + a + b), rel=1e-12)
    assert float(p) == pytest.approx(
        _predictive_tail(k0, n0, k1, n1, a, b), rel=1e-7, abs=1e-12
    )


def test_a_completely_pooled_prior_expects_the_pooled_rate() -> None:
    expected, p = beyond_expected(12, 20, 19, 20, 0.93, math.inf)
    assert float(expected) == 0.93
    assert float(p) == pytest.approx(1 - binom.cdf(18, 20, 0.93), rel=1e-12)


def test_no_prior_no_guard() -> None:
    expected, p = beyond_expected(12, 20, 17, 20, math.nan, math.nan)
    assert np.isnan(expected) and np.isnan(p)
    result = improvement_decision(12, 20, 17, 20, 0.95)
    assert (str(result.verdict), str(result.rule)) == ("IMPROVED", "test")
    assert np.isnan(result.p_expected)


def test_the_guard_refuses_an_improvement_the_baseline_already_predicts() -> None:
    # 12/20 → 17/20 is significant by Boschloo (p = 0.043), but in a family of
    # units around 94% the unit's baseline shrinks to (12 + 47) / (20 + 50):
    # 84%, and 17/20 is what such a unit shows with no change at all.
    result = improvement_decision(
        12, 20, 17, 20, 0.95, prior_mean=0.94, prior_concentration=50.0
    )
    assert float(result.p_improved) <= 0.05
    assert float(result.expected) == pytest.approx(59 / 70)
    assert float(result.p_expected) > 0.05
    assert (str(result.verdict), str(result.rule)) == (
        "NOT_IMPROVED",
        "regression_guard",
    )
    # Where the baseline's own family sits as low, the same table passes.
    result = improvement_decision(
        12, 20, 17, 20, 0.95, prior_mean=0.6, prior_concentration=50.0
    )
    assert (str(result.verdict), str(result.rule)) == ("IMPROVED", "test")


def test_the_guard_takes_the_least_favourable_of_the_plausible_priors() -> None:
    # Pairs × concentrations: the fitted M first (the shown estimate), then
    # the others; the tail is the largest of the single-prior tails.
    ms = [50.0, 200.0, math.inf, math.nan]
    expected, p = beyond_expected([12, 30], [20, 40], [17, 38], [20, 40], 0.9, [ms, ms])
    for i, (k0, n0, k1, n1) in enumerate([(12, 20, 17, 20), (30, 40, 38, 40)]):
        single = [float(beyond_expected(k0, n0, k1, n1, 0.9, m)[1]) for m in ms[:3]]
        assert float(p[i]) == max(single)
        assert float(expected[i]) == pytest.approx((k0 + 45) / (n0 + 50))


def test_the_plausible_concentrations_are_the_likelihood_ratio_interval() -> None:
    rng = np.random.default_rng(7)
    n = rng.integers(10, 200, 60)
    k = rng.binomial(n, rng.beta(40, 4, 60))
    mu = k.sum() / n.sum()
    grid = stats.CONCENTRATION_GRID
    log_lik = [
        betabinom.logpmf(k, n, mu * m, (1 - mu) * m).sum()
        if np.isfinite(m)
        else binom.logpmf(k, n, mu).sum()
        for m in grid
    ]
    cut = max(log_lik) - chi2.ppf(0.95, 1) / 2
    expected = [m for m, value in zip(grid, log_lik, strict=True) if value >= cut]
    found = stats.plausible_concentrations(k, n, mu)
    assert found.tolist() == expected
    assert 1 < len(found) < len(grid) and np.isfinite(found).all()
    # Units exactly alike: complete pooling cannot be ruled out.
    n = np.full(60, 100)
    alike = stats.plausible_concentrations(np.full(60, 93), n, 0.93)
    assert np.isinf(alike[-1])
    assert stats.plausible_concentrations([], [], 0.9).size == 0


@pytest.mark.parametrize(
    "arguments",
    [
        {"target": 1.5},
        {"alpha": 0.0},
        {"alpha": 1.0},
        {"k_after": 21},  # more satisfied than answers
        {"k_after": 16.5},  # not a count
        {"n_before": -1},
    ],
)
def test_it_refuses_bad_input(arguments) -> None:
    call = {"k_before": 12, "n_before": 20, "k_after": 17, "n_after": 20}
    call.update(arguments)
    target = call.pop("target", 0.95)
    with pytest.raises(ValueError):
        improvement_decision(
            call.pop("k_before"),
            call.pop("n_before"),
            call.pop("k_after"),
            call.pop("n_after"),
            target,
            **call,
        )
