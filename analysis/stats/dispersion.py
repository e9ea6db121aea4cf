"""Over-dispersion: when units differ more than binomial noise allows.

Respondents of one unit often answer in correlated groups (a class scanning the
code together), so a unit's count varies more than ``Binomial(n, p)`` says, and
tests that assume independent answers flag too many units. Spiegelhalter (2005),
"Funnel plots for comparing institutional performance" §5 and "Handling
over-dispersion of performance indicators", estimates a multiplicative factor φ
from the units themselves; when φ is applied, every unit counts as ``n / φ``
independent answers (Kish's design effect), which widens its interval, its test
against the target and its funnel limits by about √φ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betainc, ndtri
from scipy.stats import beta, chi2, norm

from ._arrays import FloatArray, check_probability
from .intervals import wilson_bounds

# Fewer units than this estimate φ too poorly to act on (with 10 units the 10%
# winsorisation already replaces one unit at each end).
MIN_UNITS = 10
WINSOR = 0.1
# φ is applied only when I·φ exceeds this quantile of χ² with I − 1 degrees of
# freedom (Spiegelhalter's test for over-dispersion; one degree of freedom goes
# to the estimated centre).
TEST_LEVEL = 0.95


@dataclass(frozen=True)
class Overdispersion:
    """φ of one family of units and whether the figures use it.

    ``phi`` is NaN when it could not be estimated (fewer than :data:`MIN_UNITS`
    units, or every answer satisfied or none); ``threshold`` is the value φ had
    to exceed to be applied.
    """

    phi: float
    applied: bool
    units: int
    threshold: float

    @property
    def factor(self) -> float:
        """The φ the figures use: the estimate when applied, else 1."""
        return self.phi if self.applied else 1.0

    def as_dict(self) -> dict[str, float | bool | int | None]:
        return {
            "phi": None if np.isnan(self.phi) else round(self.phi, 6),
            "applied": self.applied,
            "units": self.units,
            "threshold": None if np.isnan(self.threshold) else round(self.threshold, 6),
        }


NOT_ESTIMATED = Overdispersion(np.nan, False, 0, np.nan)


def winsor_consistency(q: float = WINSOR) -> float:
    """``E[clip(Z, z_q, z_(1−q))²]`` for a standard normal ``Z``.

    Winsorising shrinks the squares even when there is no over-dispersion: at
    q = 10% the mean winsorised z² of normal scores is 0.679, not 1. Dividing by
    this factor makes φ about 1 for independent answers.
    """
    a = float(ndtri(1 - q))
    return float((1 - 2 * q) - 2 * a * norm.pdf(a) + 2 * q * a * a)


def overdispersion(
    k: ArrayLike,
    n: ArrayLike,
    *,
    min_units: int = MIN_UNITS,
    winsor: float = WINSOR,
    level: float = TEST_LEVEL,
) -> Overdispersion:
    """Multiplicative over-dispersion φ of a family from winsorised z-scores.

    ``z_i = (p̂_i − p̄) / sqrt(p̄(1 − p̄) / n_i)`` around the family's pooled rate
    ``p̄``; the ``⌊winsor · I⌋`` lowest z-scores are set to the next one up and as
    many highest to the next one down (Spiegelhalter's winsorising, 2005); then
    ``φ = Σ z_w² / (I · c)`` with ``c`` from :func:`winsor_consistency`. Applied
    when ``I ≥ min_units``, ``φ > 1`` and ``I·φ`` exceeds the ``level`` quantile
    of χ² with ``I − 1`` degrees of freedom, Spiegelhalter's test. With
    independent answers ``I·φ`` has the χ² mean but a smaller variance (the
    squares are bounded), so the test errs towards not applying φ. Pass the
    units that are tested (``n ≥ min_n``); units with ``n == 0`` are left out.
    """
    k_arr = np.asarray(k, dtype=np.float64).ravel()
    n_arr = np.asarray(n, dtype=np.float64).ravel()
    used = n_arr > 0
    k_arr, n_arr = k_arr[used], n_arr[used]
    units = int(k_arr.size)
    if units < max(min_units, 2):
        return Overdispersion(np.nan, False, units, np.nan)
    pooled = float(k_arr.sum() / n_arr.sum())
    if not 0 < pooled < 1:
        return Overdispersion(np.nan, False, units, np.nan)
    z = (k_arr / n_arr - pooled) / np.sqrt(pooled * (1 - pooled) / n_arr)
    ordered = np.sort(z)
    cut = int(np.floor(winsor * units))
    low, high = ordered[cut], ordered[units - 1 - cut]
    c = winsor_consistency(winsor)
    squares = float(np.sum(np.clip(z, low, high) ** 2))
    phi = squares / (units * c)
    threshold = float(chi2.ppf(level, units - 1) / units)
    return Overdispersion(phi, bool(phi > 1 and phi > threshold), units, threshold)


def effective_counts(
    k: ArrayLike, n: ArrayLike, phi: float
) -> tuple[FloatArray, FloatArray]:
    """``(k / φ, n / φ)``: the independent answers a clustered unit is worth."""
    if not (np.isfinite(phi) and phi >= 1):
        raise ValueError(f"phi must be a finite number >= 1, got {phi}")
    k_arr, n_arr = np.broadcast_arrays(
        np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    )
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("counts must satisfy 0 <= k <= n")
    return k_arr / phi, n_arr / phi


def binomial_cdf(k: FloatArray, n: FloatArray, p: float) -> FloatArray:
    """``P(K ≤ k)`` for ``K ~ Binomial(n, p)`` continued to real ``k`` and ``n``.

    ``I_(1−p)(n − k, k + 1)``, the regularised incomplete beta function that
    equals ``binom.cdf`` at whole numbers; 1 where ``k ≥ n``, NaN where
    ``n == 0``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = betainc(np.where(k < n, n - k, 1.0), k + 1, 1 - p)
    return np.where(n > 0, np.where(k < n, inside, 1.0), np.nan)


def test_against_target_phi(
    k: FloatArray, n: FloatArray, target: float, phi: float
) -> FloatArray:
    """The one-sided exact test of :func:`flags.test_against_target` on
    ``(k/φ, n/φ)``: its z-score is divided by √φ, as in Spiegelhalter (2005)."""
    k_eff, n_eff = effective_counts(k, n, phi)
    return binomial_cdf(k_eff, n_eff, target)


test_against_target_phi.__test__ = False  # type: ignore[attr-defined]


def wilson_interval_phi(
    k: FloatArray, n: FloatArray, phi: float, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson's score interval with ``n / φ`` answers (the rate is unchanged)."""
    confidence = check_probability(confidence, "confidence", open_interval=True)
    return wilson_bounds(*effective_counts(k, n, phi), confidence)


def exact_lower_bound_phi(
    k: FloatArray, n: FloatArray, phi: float, confidence: float = 0.95
) -> FloatArray:
    """One-sided Clopper–Pearson lower bound, ``Beta(1 − confidence; k/φ,
    (n − k)/φ + 1)``; 0 where ``k == 0``."""
    confidence = check_probability(confidence, "confidence", open_interval=True)
    k_eff, n_eff = effective_counts(k, n, phi)
    low = np.where(
        k_eff == 0,
        0.0,
        beta.ppf(1 - confidence, np.where(k_eff > 0, k_eff, 1.0), n_eff - k_eff + 1),
    )
    return np.where(n_eff == 0, np.nan, low)


def jeffreys_prob_below_phi(
    k: FloatArray, n: FloatArray, target: float, phi: float
) -> FloatArray:
    """``P(p < target)`` under the Jeffreys prior with ``(k/φ, n/φ)``."""
    k_eff, n_eff = effective_counts(k, n, phi)
    prob = beta.cdf(target, k_eff + 0.5, n_eff - k_eff + 0.5)
    return np.where(n_eff > 0, prob, np.nan)


def widened_figures(
    k: FloatArray, n: FloatArray, target: float, phi: float, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The test's p-value, Wilson's interval, the exact lower bound and the
    Jeffreys probability on ``(k/φ, n/φ)``, as ``(p, low, high, lower, prob)``.

    φ is one number for a family, so each figure depends on ``(k, n)`` alone:
    they are computed once per distinct pair (4,000 among 10,000 units) and
    spread back; the non-integer beta quantiles cost twice the integer ones.
    """
    k_arr, n_arr = np.broadcast_arrays(
        np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    )
    pairs, where = np.unique(
        np.stack([k_arr.ravel(), n_arr.ravel()]), axis=1, return_inverse=True
    )
    kd, nd = pairs[0], pairs[1]
    low, high = wilson_interval_phi(kd, nd, phi, confidence)
    figures = (
        test_against_target_phi(kd, nd, target, phi),
        low,
        high,
        exact_lower_bound_phi(kd, nd, phi, confidence),
        jeffreys_prob_below_phi(kd, nd, target, phi),
    )
    p, low, high, lower, prob = (
        value[where.ravel()].reshape(k_arr.shape) for value in figures
    )
    return p, low, high, lower, prob
