"""Units against the target: tests, false discovery rate and flag colours.

METHODS.md §3. A unit's satisfied count ``k`` out of ``n = N_valid`` is tested
against the campaign target; Benjamini–Hochberg controls the false discovery rate
over the units of one round and one unit kind; the colour table turns the numbers
into GREY / RED / AMBER / GREEN / GREEN_CONFIRMED.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import beta, binom, false_discovery_control

from ._arrays import (
    RATE_TOLERANCE,
    FloatArray,
    as_counts,
    check_probability,
    proportion,
)
from .dispersion import (
    NOT_ESTIMATED,
    Overdispersion,
    binomial_cdf,
    overdispersion,
    test_against_target_phi,
    widened_figures,
)
from .intervals import exact_lower_bound, wilson_interval


class Flag(StrEnum):
    GREY = "GREY"
    RED = "RED"
    AMBER = "AMBER"
    GREEN = "GREEN"
    GREEN_CONFIRMED = "GREEN_CONFIRMED"


def check_target(target: float) -> float:
    """The target as a float, refused (ValueError) unless 0 < target < 1.

    At target = 1 the test is degenerate: ``P(X ≤ k | p = 1)`` is 0 for every
    ``k < n``, so one dissatisfied answer gives p = 0 (and RED up to n = 20);
    nothing can be below a target of 0. The funnel limits refuse the same.
    """
    target = float(target)
    if not 0 < target < 1:
        raise ValueError(
            f"target must lie strictly between 0 and 1, got {target}:"
            " at 1 one dissatisfied answer gives p = 0"
        )
    return target


def test_against_target(
    k: ArrayLike,
    n: ArrayLike,
    target: float,
    *,
    phi: float = 1.0,
    fractional: bool = False,
) -> FloatArray:
    """One-sided exact binomial p-value for H0: p ≥ target against p < target.

    ``binom.cdf(k, n, target)``, the vectorised form of
    ``binomtest(k, n, target, alternative="less").pvalue`` (Clopper & Pearson
    1934; METHODS.md §3). NaN where ``n == 0``. With ``phi > 1`` the same test
    on ``(k/φ, n/φ)`` (:mod:`.dispersion`). ``fractional``: ``k`` may be an
    effective count ``rate × n`` (a rate averaged over items), tested by the
    continuous extension ``dispersion.binomial_cdf``, which lies between the
    p-values of the two whole counts around it. A target outside (0, 1) is
    refused (:func:`check_target`).
    """
    target = check_target(target)
    k_arr, n_arr = as_counts(k, n, fractional=fractional)
    if phi != 1.0:
        return test_against_target_phi(k_arr, n_arr, target, phi)
    whole = np.where(n_arr > 0, binom.cdf(k_arr, n_arr, target), np.nan)
    if not fractional:
        return whole
    return np.where(k_arr == np.floor(k_arr), whole, binomial_cdf(k_arr, n_arr, target))


# The name is the one the rest of the code uses; this keeps pytest from
# collecting it as a test wherever a test module imports it.
test_against_target.__test__ = False  # type: ignore[attr-defined]


def benjamini_hochberg(p: ArrayLike) -> FloatArray:
    """Benjamini–Hochberg (1995) adjusted p-values (q-values), step-up.

    ``scipy.stats.false_discovery_control(p, method="bh")`` over the finite
    entries; NaN entries (units without a test) are passed through and do not
    count towards the number of hypotheses.
    """
    p_arr = np.asarray(p, dtype=np.float64)
    q = np.full(p_arr.shape, np.nan)
    tested = ~np.isnan(p_arr)
    if np.any((p_arr[tested] < 0) | (p_arr[tested] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    if np.any(tested):
        q[tested] = false_discovery_control(p_arr[tested], method="bh")
    return q


def jeffreys_prob_below(
    k: ArrayLike, n: ArrayLike, target: float, *, fractional: bool = False
) -> FloatArray:
    """Posterior ``P(p < target | data)`` under the Jeffreys prior Beta(½, ½).

    ``beta.cdf(target, k + 0.5, n − k + 0.5)`` (Jeffreys 1946; the Jeffreys
    interval of Brown, Cai & DasGupta 2001 §4.1.2). NaN where ``n == 0``: with no
    answers the number would only restate the prior.
    """
    target = check_probability(target, "target", open_interval=False)
    k_arr, n_arr = as_counts(k, n, fractional=fractional)
    prob = beta.cdf(target, k_arr + 0.5, n_arr - k_arr + 0.5)
    return np.where(n_arr > 0, prob, np.nan)


def flag_colours(
    k: ArrayLike,
    n: ArrayLike,
    target: float,
    q: ArrayLike,
    *,
    min_n: int = 10,
    red_margin: float = 0.05,
    q_threshold: float = 0.05,
    confidence: float = 0.95,
) -> NDArray[np.str_]:
    """Flag colour per unit, the table of METHODS.md §3.

    In order of precedence:

    - GREY: ``n < min_n``, no statistical conclusion;
    - RED: ``q ≤ q_threshold`` and ``p̂ ≤ target − red_margin``;
    - GREEN_CONFIRMED: one-sided exact lower bound at ``confidence`` ≥ target
      (possible only from :func:`min_n_to_confirm` answers on);
    - GREEN: ``p̂ ≥ target``;
    - AMBER: everything else (below target, not RED).

    ``q`` are the Benjamini–Hochberg q-values of :func:`test_against_target`;
    a NaN q never makes a unit RED. Returns the :class:`Flag` values as strings.
    """
    target = check_target(target)
    # Effective counts of rows averaged over items are judged unrounded.
    k_arr, n_arr = as_counts(k, n, fractional=True)
    return _colours(
        k_arr,
        n_arr,
        target,
        q,
        exact_lower_bound(k_arr, n_arr, confidence, fractional=True),
        min_n=min_n,
        red_margin=red_margin,
        q_threshold=q_threshold,
    )


def _colours(
    k_arr: FloatArray,
    n_arr: FloatArray,
    target: float,
    q: ArrayLike,
    lower: FloatArray,
    *,
    min_n: int,
    red_margin: float,
    q_threshold: float,
) -> NDArray[np.str_]:
    """:func:`flag_colours` on checked counts and their exact lower bounds."""
    q_arr = np.broadcast_to(np.asarray(q, dtype=np.float64), k_arr.shape)
    rate = proportion(k_arr, n_arr)
    enough = n_arr >= min_n
    red = (
        enough & (q_arr <= q_threshold) & (rate <= target - red_margin + RATE_TOLERANCE)
    )
    # No tolerance here: a 达标 claim errs on the side of not claiming.
    confirmed = enough & ~red & (lower >= target)
    green = enough & ~red & ~confirmed & (rate >= target - RATE_TOLERANCE)
    colours = np.select(
        [~enough, red, confirmed, green],
        [Flag.GREY.value, Flag.RED.value, Flag.GREEN_CONFIRMED.value, Flag.GREEN.value],
        default=Flag.AMBER.value,
    )
    return colours.astype(np.str_)


@dataclass(frozen=True)
class UnitAssessment:
    """Everything §3 reports per unit, for the units of one round and kind."""

    rate: FloatArray
    wilson_low: FloatArray
    wilson_high: FloatArray
    exact_lower: FloatArray
    p_value: FloatArray
    q_value: FloatArray
    flag: NDArray[np.str_]
    prob_below_target: FloatArray
    # φ of the family and whether the figures above use it (docs/methods.md §3).
    overdispersion: Overdispersion = NOT_ESTIMATED


def assess_units(
    k: ArrayLike,
    n: ArrayLike,
    target: float,
    *,
    min_n: int = 10,
    red_margin: float = 0.05,
    q_threshold: float = 0.05,
    confidence: float = 0.95,
    adjust_overdispersion: bool = False,
) -> UnitAssessment:
    """Intervals, test, BH q-values, colours and Jeffreys probability at once.

    The Benjamini–Hochberg family is the units with ``n ≥ min_n``: the others
    are GREY whatever their p-value, so they are given q = NaN and do not dilute
    the correction. Pass the units of one round and one unit kind.

    ``adjust_overdispersion``: estimate φ from the units with ``n ≥ min_n``
    (:func:`.dispersion.overdispersion`) and, when it is applied, compute the
    intervals, the test, the exact bound and the Jeffreys probability on
    ``(k/φ, n/φ)``; the rate and the RED margin stay on the counts.
    """
    # k may be fractional: a row averaged over items carries k = rate × n,
    # unrounded, and every figure is computed from it (docs/methods.md §3).
    k_arr, n_arr = as_counts(k, n, fractional=True)
    target = check_target(target)
    enough = n_arr >= min_n
    spread = (
        overdispersion(k_arr[enough], n_arr[enough])
        if adjust_overdispersion
        else NOT_ESTIMATED
    )
    phi = spread.factor
    if phi > 1:
        p_value, wilson_low, wilson_high, exact_lower, prob_below = widened_figures(
            k_arr, n_arr, target, phi, confidence
        )
    else:
        p_value = test_against_target(k_arr, n_arr, target, fractional=True)
        wilson_low, wilson_high = wilson_interval(
            k_arr, n_arr, confidence, fractional=True
        )
        # One bound for both the figure and the GREEN_CONFIRMED rule.
        exact_lower = exact_lower_bound(k_arr, n_arr, confidence, fractional=True)
        prob_below = jeffreys_prob_below(k_arr, n_arr, target, fractional=True)
    eligible_p = np.where(enough, p_value, np.nan)
    q_value = benjamini_hochberg(eligible_p)
    return UnitAssessment(
        rate=proportion(k_arr, n_arr),
        wilson_low=wilson_low,
        wilson_high=wilson_high,
        exact_lower=exact_lower,
        p_value=p_value,
        q_value=q_value,
        flag=_colours(
            k_arr,
            n_arr,
            target,
            q_value,
            exact_lower,
            min_n=min_n,
            red_margin=red_margin,
            q_threshold=q_threshold,
        ),
        prob_below_target=prob_below,
        overdispersion=spread,
    )
