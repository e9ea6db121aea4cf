"""Power of the flag rules, said plainly: what a unit's n can and cannot show.

A unit that is not RED is not thereby fine: with 20 answers a unit truly at 85%
is flagged RED less than one time in six. For each n this module gives the
*minimum detectable rate* — the true rate that the RED rule of METHODS.md §3
catches with 80% power — and, for an observed rate, the respondents a unit
would need for the verdict its rate points to.

Benjamini–Hochberg is approximated by the single test (q = p, as if the unit
were its family's only one). BH's q is never below p, so the figures are the
best case: in a large family the real power is lower. With over-dispersion φ
(:mod:`.dispersion`) a unit's count is taken as binomial on ``n/φ`` answers.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betainc
from scipy.stats import beta

from ._arrays import RATE_TOLERANCE, FloatArray, check_probability
from .dispersion import binomial_cdf

POWER = 0.8
# Beyond this many respondents "needed" is reported as not reachable (NaN).
MAX_N = 10_000


def _check_phi(phi: float) -> float:
    phi = float(phi)
    if not (math.isfinite(phi) and phi >= 1):
        raise ValueError(f"phi must be a finite number >= 1, got {phi}")
    return phi


def _tail_p(k: FloatArray, n: FloatArray, target: float, phi: float) -> FloatArray:
    """The test's p-value ``P(K ≤ k)`` at the target, on ``(k/φ, n/φ)``."""
    return binomial_cdf(k / phi, n / phi, target)


def _confirmed(
    k: FloatArray, n: FloatArray, target: float, phi: float, confidence: float
) -> FloatArray:
    """Whether the one-sided exact lower bound on ``(k/φ, n/φ)`` reaches the
    target: ``Beta⁻¹(1 − confidence; k, n − k + 1) ≥ target`` exactly when
    ``I_target(k, n − k + 1) ≤ 1 − confidence`` (the beta function is
    increasing), which needs no quantile. Never where ``k == 0``."""
    k_eff, n_eff = k / phi, n / phi
    safe = np.where(k_eff > 0, k_eff, 1.0)
    tail = betainc(safe, n_eff - k_eff + 1, target)
    return (k > 0) & (tail <= 1 - confidence)


def red_cutoff(
    n: ArrayLike,
    target: float,
    *,
    phi: float = 1.0,
    min_n: int = 10,
    red_margin: float = 0.05,
    q_threshold: float = 0.05,
) -> FloatArray:
    """The largest count ``k`` out of ``n`` that is RED when tested alone, −1 if
    none is (``n < min_n``, or no count meets both the test and the margin).

    RED needs ``p(k) ≤ q_threshold`` and ``k/n ≤ target − red_margin``; both
    hold for every count below one that meets them, so the cutoff is found by
    bisection on whole ``k``, for all ``n`` at once.
    """
    target = check_probability(target, "target", open_interval=True)
    phi = _check_phi(phi)
    n_arr = np.asarray(n, dtype=np.float64)
    low = np.full(n_arr.shape, -1.0)  # always "RED" by convention
    high = n_arr + 1  # never RED
    while np.any(high - low > 1):
        mid = np.floor((low + high) / 2)
        red = (_tail_p(mid, n_arr, target, phi) <= q_threshold) & (
            mid / np.where(n_arr > 0, n_arr, 1) <= target - red_margin + RATE_TOLERANCE
        )
        low = np.where(red & (high - low > 1), mid, low)
        high = np.where(~red & (high - low > 1), mid, high)
    return np.where(n_arr >= min_n, low, -1.0)


def confirm_cutoff(
    n: ArrayLike,
    target: float,
    *,
    phi: float = 1.0,
    min_n: int = 10,
    confidence: float = 0.95,
) -> FloatArray:
    """The smallest count out of ``n`` that is GREEN_CONFIRMED (exact lower bound
    ≥ target), ``n + 1`` if none is."""
    target = check_probability(target, "target", open_interval=True)
    phi = _check_phi(phi)
    n_arr = np.asarray(n, dtype=np.float64)
    low = np.full(n_arr.shape, -1.0)  # never confirmed
    high = n_arr + 1  # always "confirmed" by convention
    while np.any(high - low > 1):
        mid = np.floor((low + high) / 2)
        ok = _confirmed(mid, n_arr, target, phi, confidence)
        low = np.where(~ok & (high - low > 1), mid, low)
        high = np.where(ok & (high - low > 1), mid, high)
    return np.where(n_arr >= min_n, high, n_arr + 1)


def red_power(
    rate: ArrayLike,
    n: ArrayLike,
    target: float,
    *,
    phi: float = 1.0,
    min_n: int = 10,
    red_margin: float = 0.05,
    q_threshold: float = 0.05,
) -> FloatArray:
    """Probability that a unit truly at ``rate`` with ``n`` answers is RED."""
    n_arr = np.asarray(n, dtype=np.float64)
    cut = red_cutoff(
        n_arr,
        target,
        phi=phi,
        min_n=min_n,
        red_margin=red_margin,
        q_threshold=q_threshold,
    )
    return _below(cut, n_arr, np.asarray(rate, dtype=np.float64), _check_phi(phi))


def _below(cut: FloatArray, n: FloatArray, rate: FloatArray, phi: float) -> FloatArray:
    """``P(K ≤ cut)`` for K binomial on ``n/φ`` answers at ``rate`` (one rate per
    entry), continued to real counts as :func:`.dispersion.binomial_cdf`; 0
    where ``cut < 0``."""
    cut, n, rate = np.broadcast_arrays(cut, n, rate)
    k_eff, n_eff = np.maximum(cut, 0) / phi, n / phi
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = betainc(
            np.where(k_eff < n_eff, n_eff - k_eff, 1.0), k_eff + 1, 1 - rate
        )
    return np.where(cut < 0, 0.0, np.where(k_eff < n_eff, inside, 1.0))


def minimum_detectable_rate(
    n: ArrayLike,
    target: float,
    *,
    phi: float = 1.0,
    min_n: int = 10,
    red_margin: float = 0.05,
    q_threshold: float = 0.05,
    power: float = POWER,
) -> FloatArray:
    """The true rate a unit with ``n`` answers must be at or below to be RED
    with probability ``power``; NaN where no count can be RED.

    With cutoff ``k*`` (:func:`red_cutoff`), the power at rate ``p`` is
    ``P(K ≤ k*) = I_(1−p)(n − k*, k* + 1)``, so the rate is
    ``1 − Beta⁻¹(power; n − k*, k* + 1)`` (on ``n/φ`` and ``k*/φ``). Computed
    once per distinct ``n`` and spread back.
    """
    power = check_probability(power, "power", open_interval=True)
    phi = _check_phi(phi)
    n_arr = np.asarray(n, dtype=np.float64)
    sizes, where = np.unique(n_arr, return_inverse=True)
    cut = red_cutoff(
        sizes,
        target,
        phi=phi,
        min_n=min_n,
        red_margin=red_margin,
        q_threshold=q_threshold,
    )
    some = cut >= 0
    safe_cut = np.where(some, cut, 0.0)
    rate = 1 - beta.ppf(power, (sizes - safe_cut) / phi, safe_cut / phi + 1)
    rate = np.where(some, rate, np.nan)
    return rate[where.ravel()].reshape(n_arr.shape)


def respondents_needed(
    rate: ArrayLike,
    target: float,
    *,
    phi: float = 1.0,
    min_n: int = 10,
    red_margin: float = 0.05,
    q_threshold: float = 0.05,
    confidence: float = 0.95,
    power: float = POWER,
    max_n: int = MAX_N,
) -> FloatArray:
    """Respondents a unit truly at ``rate`` needs for the verdict its rate points
    to, with probability ``power``: RED when ``rate ≤ target − red_margin``,
    GREEN_CONFIRMED when ``rate > target``; NaN in between (no n gives either)
    and when more than ``max_n`` would be needed.

    Bisection on n between ``min_n − 1`` (power 0) and ``max_n``: the result has
    power ≥ ``power`` and the n below it has less. A discrete test's power
    saw-tooths with n, so a somewhat smaller n may also reach it.
    """
    target = check_probability(target, "target", open_interval=True)
    power = check_probability(power, "power", open_interval=True)
    phi = _check_phi(phi)
    rate_arr = np.asarray(rate, dtype=np.float64)
    red_side = rate_arr <= target - red_margin + RATE_TOLERANCE
    green_side = rate_arr > target + RATE_TOLERANCE

    red_table, green_table = _cutoff_tables(
        target, phi, min_n, red_margin, q_threshold, confidence, max_n
    )

    def reaches(n: FloatArray) -> FloatArray:
        at = n.astype(np.intp)
        red, green = red_table[at], green_table[at]
        p_red = _below(red, n, rate_arr, phi)
        p_green = 1 - _below(green - 1, n, rate_arr, phi)
        return np.where(red_side, p_red, np.where(green_side, p_green, 0.0)) >= power

    low = np.full(rate_arr.shape, float(min_n - 1))
    high = np.full(rate_arr.shape, float(max_n))
    possible = (red_side | green_side) & reaches(high)
    while np.any(possible & (high - low > 1)):
        mid = np.floor((low + high) / 2)
        ok = reaches(mid)
        step = possible & (high - low > 1)
        low = np.where(step & ~ok, mid, low)
        high = np.where(step & ok, mid, high)
    return np.where(possible, high, np.nan)


@lru_cache(maxsize=16)
def _cutoff_tables(
    target: float,
    phi: float,
    min_n: int,
    red_margin: float,
    q_threshold: float,
    confidence: float,
    max_n: int,
) -> tuple[FloatArray, FloatArray]:
    """:func:`red_cutoff` and :func:`confirm_cutoff` for every n from 0 to
    ``max_n``, computed once per set of rules (a page asks for hundreds of
    units with the same ones)."""
    n = np.arange(max_n + 1, dtype=np.float64)
    red = red_cutoff(
        n,
        target,
        phi=phi,
        min_n=min_n,
        red_margin=red_margin,
        q_threshold=q_threshold,
    )
    green = confirm_cutoff(n, target, phi=phi, min_n=min_n, confidence=confidence)
    red.flags.writeable = False
    green.flags.writeable = False
    return red, green
