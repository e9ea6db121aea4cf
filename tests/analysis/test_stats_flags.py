"""Tests against the target, Benjamini–Hochberg, flag colours and the Jeffreys
probability, checked against scipy.stats.binomtest, statsmodels and the table of
METHODS.md §3 written out independently below."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.stats import binomtest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from analysis import stats
from analysis.stats import Flag


def colour_by_the_table(
    k: int, n: int, target: float, q: float, min_n: int = 10
) -> str:
    """METHODS.md §3 for one unit, spelled out with exact fractions and scipy's
    own one-sided Clopper–Pearson bound."""
    if n < min_n:
        return "GREY"
    rate, goal = Fraction(k, n), Fraction(str(target))
    if q <= 0.05 and rate <= goal - Fraction(5, 100):
        return "RED"
    bound = binomtest(k, n, alternative="greater").proportion_ci(0.95, "exact").low
    if bound >= target:
        return "GREEN_CONFIRMED"
    if rate >= goal:
        return "GREEN"
    return "AMBER"


def test_it_is_the_one_sided_exact_binomial_test_unit_by_unit() -> None:
    rng = np.random.default_rng(11)
    n = rng.integers(1, 1500, size=300)
    k = rng.binomial(n, rng.uniform(0.7, 1.0, size=n.size))
    p = stats.test_against_target(k, n, 0.95)
    for i in range(n.size):
        expected = binomtest(int(k[i]), int(n[i]), 0.95, alternative="less").pvalue
        assert p[i] == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_it_gives_no_p_value_without_answers() -> None:
    p = stats.test_against_target([0, 3], [0, 3], 0.95)
    assert np.isnan(p[0]) and p[1] == 1.0


# Benjamini & Hochberg (1995), J R Stat Soc B 57:289–300, section 4: the 15
# p-values of the thrombolysis study; at q = 0.05 the procedure rejects the four
# smallest, where Bonferroni rejects three.
BH_1995_P = [
    0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
    0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000,
]  # fmt: skip


def test_it_rejects_four_of_the_benjamini_hochberg_1995_example() -> None:
    q = stats.benjamini_hochberg(BH_1995_P)
    assert np.flatnonzero(q <= 0.05).tolist() == [0, 1, 2, 3]


def test_it_matches_statsmodels_fdr_bh_and_passes_nan_through() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, size=1000) ** 3
    p[[5, 500, 999]] = np.nan
    q = stats.benjamini_hochberg(p)
    tested = ~np.isnan(p)
    expected = multipletests(p[tested], method="fdr_bh")[1]
    np.testing.assert_allclose(q[tested], expected, rtol=1e-12, atol=0)
    assert np.isnan(q[~tested]).all()
    assert np.isnan(stats.benjamini_hochberg([np.nan])).all()
    assert stats.benjamini_hochberg([]).shape == (0,)


@settings(deadline=None)
@given(
    st.lists(
        st.floats(min_value=0, max_value=1) | st.just(float("nan")),
        min_size=1,
        max_size=60,
    )
)
def test_q_values_are_at_least_p_and_keep_the_order_of_p(p: list[float]) -> None:
    p_arr = np.array(p)
    q = stats.benjamini_hochberg(p_arr)
    tested = ~np.isnan(p_arr)
    assert np.isnan(q[~tested]).all()
    assert np.all(q[tested] >= p_arr[tested]) and np.all(q[tested] <= 1)
    order = np.argsort(p_arr[tested], kind="stable")
    assert np.all(np.diff(q[tested][order]) >= 0)


@pytest.mark.parametrize(
    ("k", "n", "q", "colour"),
    [
        (9, 9, 0.0, "GREY"),  # under 10 answers, whatever the numbers say
        (0, 9, 0.0, "GREY"),
        (9, 10, 0.01, "RED"),  # 0.90 is exactly target − 0.05
        (9, 10, 0.06, "AMBER"),  # not significant after BH
        (181, 200, 0.01, "AMBER"),  # 0.905 is above target − 0.05
        (180, 200, 0.01, "RED"),
        (19, 20, 0.9, "GREEN"),  # exactly at target
        (58, 58, 1.0, "GREEN"),  # perfect but too few to confirm
        (59, 59, 1.0, "GREEN_CONFIRMED"),
        (985, 1000, 1.0, "GREEN_CONFIRMED"),
        (955, 1000, 1.0, "GREEN"),
    ],
)
def test_it_colours_units_by_the_methods_table(
    k: int, n: int, q: float, colour: str
) -> None:
    assert stats.flag_colours(k, n, 0.95, q).tolist() == colour
    assert colour_by_the_table(k, n, 0.95, q) == colour


def test_its_colours_are_the_flag_values() -> None:
    colours = stats.flag_colours([1, 9, 59], [5, 10, 59], 0.95, [0.5, 0.01, 1.0])
    assert colours.tolist() == [Flag.GREY, Flag.RED, Flag.GREEN_CONFIRMED]


def test_it_reads_thresholds_from_its_settings() -> None:
    assert stats.flag_colours(4, 5, 0.95, 0.01).tolist() == "GREY"
    assert stats.flag_colours(4, 5, 0.95, 0.01, min_n=5).tolist() == "RED"
    assert stats.flag_colours(17, 20, 0.95, 0.04, red_margin=0.1).tolist() == "RED"
    colour = stats.flag_colours(17, 20, 0.95, 0.04, red_margin=0.1, q_threshold=0.01)
    assert colour.tolist() == "AMBER"


@settings(deadline=None)
@given(
    st.integers(min_value=0, max_value=400).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.sampled_from([0.8, 0.9, 0.95]),
    st.floats(min_value=0, max_value=1),
)
def test_flag_colours_follow_the_table(
    kn: tuple[int, int], target: float, q: float
) -> None:
    k, n = kn
    assert stats.flag_colours(k, n, target, q).tolist() == colour_by_the_table(
        k, n, target, q
    )


def test_it_runs_bh_only_over_units_that_can_be_flagged() -> None:
    k = np.array([2, 70, 95, 97, 180])
    n = np.array([5, 100, 100, 100, 200])
    result = stats.assess_units(k, n, 0.95)
    p = np.array(
        [
            binomtest(a, b, 0.95, alternative="less").pvalue
            for a, b in zip(k, n, strict=True)
        ]
    )
    np.testing.assert_allclose(result.p_value, p, rtol=1e-12)
    assert np.isnan(result.q_value[0])
    expected_q = multipletests(p[1:], method="fdr_bh")[1]
    np.testing.assert_allclose(result.q_value[1:], expected_q, rtol=1e-12)
    assert result.flag.tolist() == ["GREY", "RED", "GREEN", "GREEN", "RED"]
    np.testing.assert_allclose(result.rate, k / n)


def test_jeffreys_probability_matches_numerical_integration() -> None:
    # ∫ x^(k−½) (1−x)^(n−k−½) below and above the target; quad's algebraic
    # weight takes the endpoint singularities of the Jeffreys posterior.
    for k, n in [(0, 10), (9, 10), (57, 60), (190, 200), (1000, 1000)]:
        below = quad(
            lambda x, n=n, k=k: (1 - x) ** (n - k - 0.5),
            0,
            0.95,
            weight="alg",
            wvar=(k - 0.5, 0),
            epsabs=0,
            epsrel=1e-12,
        )[0]
        above = quad(
            lambda x, k=k: x ** (k - 0.5),
            0.95,
            1,
            weight="alg",
            wvar=(0, n - k - 0.5),
            epsabs=0,
            epsrel=1e-12,
        )[0]
        assert stats.jeffreys_prob_below(k, n, 0.95) == pytest.approx(
            below / (below + above), rel=1e-9
        )


def test_jeffreys_probability_puts_statsmodels_jeffreys_limits_in_the_tails() -> None:
    # statsmodels' Jeffreys interval (Brown, Cai & DasGupta 2001 §4.1.2) has
    # 2.5% posterior probability below its lower end, except at k = 0 where
    # the lower end is set to 0.
    k = np.array([1, 9, 57, 190, 999])
    n = np.array([10, 10, 60, 200, 1000])
    low, high = proportion_confint(k, n, alpha=0.05, method="jeffreys")
    for i in range(k.size):
        assert stats.jeffreys_prob_below(k[i], n[i], low[i]) == pytest.approx(0.025)
        assert stats.jeffreys_prob_below(k[i], n[i], high[i]) == pytest.approx(0.975)


def test_jeffreys_probability_is_nan_without_answers() -> None:
    assert np.isnan(stats.jeffreys_prob_below(0, 0, 0.95))


def test_with_phi_the_test_is_scipys_on_the_effective_counts() -> None:
    # φ = 3: 27 of 30 answers carry the evidence of 9 of 10 independent ones.
    p = stats.test_against_target([27, 30], [30, 30], 0.95, phi=3.0)
    assert p[0] == pytest.approx(
        binomtest(9, 10, 0.95, alternative="less").pvalue, rel=1e-10
    )
    assert p[1] == 1.0
