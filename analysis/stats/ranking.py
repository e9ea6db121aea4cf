"""Comparing units fairly: empirical-Bayes shrinkage and funnel-plot limits.

METHODS.md §3: units are never ranked on raw p̂ (a unit with 4 of 4 satisfied
would top the list); they are ranked on beta-binomial posterior means and shown
on a funnel plot of p̂ against n.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, logit
from scipy.stats import binom

from ._arrays import FloatArray, as_counts, check_probability, proportion

# Bounds of the between-unit "prior sample size" M = α + β. Below 1e-6 every
# unit keeps its own rate. Reaching 1e7 means the data want M → ∞ (complete
# pooling); betabinom.logpmf also loses precision beyond that, so the optimiser
# is stopped there rather than trusted.
_LOG_M_BOUNDS = (float(np.log(1e-6)), float(np.log(1e7)))
# The prior mean is kept 2e-9 away from 0 and 1, where β or α would vanish.
_LOGIT_MU_BOUNDS = (-20.0, 20.0)

ShrinkageStatus = Literal["fitted", "complete_pooling", "not_fitted"]

# Weight of the boundary-avoiding prior on the concentration: log p(M) =
# −½·log(1 + M) + const, i.e. a Gamma(2, rate → 0) prior on the between-unit
# standard deviation sqrt(μ(1 − μ)/(1 + M)) of the rates (Chung et al. 2013), μ
# held fixed so that the prior does not move the prior mean.
_CONCENTRATION_PRIOR_POWER = 0.5


@dataclass(frozen=True)
class ShrinkageFit:
    """Posterior means per unit and the fitted beta prior.

    ``status``: ``fitted`` (α, β by maximum likelihood); ``complete_pooling``
    (the likelihood is largest as α + β → ∞, i.e. the units differ no more than
    binomial noise: every posterior mean is the pooled rate, α = β = inf);
    ``not_fitted`` (fewer than two units with answers, or all of them at 0% or
    all at 100%: the raw rates are returned unchanged, α = β = NaN).

    ``pooling``: the median over the units with answers of ``M / (n + M)``, the
    weight of the prior mean in a posterior mean (0: every unit keeps its own
    rate; 1: complete pooling); NaN when not fitted.
    """

    posterior_mean: FloatArray
    alpha: float
    beta: float
    prior_mean: float
    status: ShrinkageStatus
    pooling: float = np.nan

    def as_dict(self) -> dict[str, float | str | None]:
        def number(value: float) -> float | None:
            return None if not np.isfinite(value) else round(float(value), 6)

        return {
            "status": self.status,
            "concentration": number(self.alpha + self.beta),
            "prior_mean": number(self.prior_mean),
            "pooling": 1.0
            if self.status == "complete_pooling"
            else number(self.pooling),
        }


def _log_choose(k: FloatArray, n: FloatArray) -> FloatArray:
    """log C(n, k) written as scipy's ``betabinom._logpmf`` writes it."""
    return -np.log(n + 1) - betaln(n - k + 1, k + 1)


def _negative_log_likelihood(
    theta: FloatArray,
    k: FloatArray,
    n: FloatArray,
    weight: FloatArray,
    log_choose: FloatArray,
) -> tuple[float, FloatArray]:
    """−log L and its gradient in θ = (logit μ, log M), α = μM, β = (1 − μ)M.

    The log-likelihood is ``betabinom.logpmf(k, n, α, β)`` term for term (the
    same operations in the same order, so the same floating-point numbers), with
    its constant ``log C(n, k)`` computed once instead of at every step.
    """
    mu = expit(theta[0])
    m = np.exp(theta[1])
    a, b = mu * m, (1 - mu) * m
    log_pmf = log_choose + betaln(k + a, n - k + b) - betaln(a, b)
    log_lik = np.sum(weight * log_pmf)
    common = digamma(m) - digamma(n + m)
    d_a = np.sum(weight * (digamma(k + a) - digamma(a) + common))
    d_b = np.sum(weight * (digamma(n - k + b) - digamma(b) + common))
    d_logit_mu = m * mu * (1 - mu) * (d_a - d_b)
    d_log_m = a * d_a + b * d_b
    return -float(log_lik), -np.array([d_logit_mu, d_log_m])


def _negative_log_posterior(
    theta: FloatArray,
    k: FloatArray,
    n: FloatArray,
    weight: FloatArray,
    log_choose: FloatArray,
) -> tuple[float, FloatArray]:
    """:func:`_negative_log_likelihood` minus the log prior on the concentration,
    ``−½·log(1 + M)`` (see :data:`_CONCENTRATION_PRIOR_POWER`), and its gradient.

    The prior vanishes as M → ∞, so the mode is finite however alike the units
    are: with 3–5 units the likelihood alone is often largest at complete
    pooling, which would tie every unit in the ranking."""
    value, gradient = _negative_log_likelihood(theta, k, n, weight, log_choose)
    m = np.exp(theta[1])
    value += _CONCENTRATION_PRIOR_POWER * float(np.log1p(m))
    gradient = gradient + np.array([0.0, _CONCENTRATION_PRIOR_POWER * m / (1 + m)])
    return value, gradient


def _distinct_pairs(
    k: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The distinct (k, n) pairs, sorted as ``np.unique(axis=0)`` sorts the rows
    ``[k, n]``, and how often each occurs. One integer key per pair sorts the
    same way and is several times faster than unique rows."""
    base = int(n.max()) + 1
    keys, counts = np.unique(
        k.astype(np.int64) * base + n.astype(np.int64), return_counts=True
    )
    return (
        (keys // base).astype(np.float64),
        (keys % base).astype(np.float64),
        counts.astype(np.float64),
    )


def beta_binomial_shrinkage(k: ArrayLike, n: ArrayLike) -> ShrinkageFit:
    """Empirical-Bayes posterior means from a beta-binomial fitted across units.

    The prior Beta(α, β) is fitted to the beta-binomial marginal (Skellam 1948;
    Griffiths 1973; empirical Bayes as in Efron & Morris 1975):
    ``scipy.stats.betabinom.logpmf`` plus a weak boundary-avoiding prior on the
    concentration M = α + β, ``−½·log(1 + M)`` (Chung et al. 2013, "A
    nondegenerate penalized likelihood estimator for variance parameters in
    multilevel models"), maximised by L-BFGS-B with an analytic gradient over
    (logit μ, log M), started from the method of moments. With many units the
    prior changes nothing that matters; with a few it keeps the fit off complete
    pooling. Each unit's posterior mean is ``(k + α) / (n + α + β)``: between
    its own rate and the prior mean μ = α / (α + β), and nearer its own rate the
    more answers it has.

    Units with ``n == 0`` are left out of the fit and get NaN: with no answers
    there is nothing to rank.
    """
    k_arr, n_arr = as_counts(k, n)
    posterior = np.full(k_arr.shape, np.nan)
    answered = n_arr > 0
    k_used, n_used = k_arr[answered], n_arr[answered]
    pooled = float(k_used.sum() / n_used.sum()) if n_used.size else np.nan

    if k_used.size < 2 or k_used.sum() in (0, n_used.sum()):
        posterior[answered] = k_used / n_used
        return ShrinkageFit(posterior, np.nan, np.nan, pooled, "not_fitted")

    # Units with the same (k, n) contribute identical terms: fit on the
    # distinct pairs, weighted, which makes 10,000 units cost what a few
    # hundred do.
    k_fit, n_fit, weight = _distinct_pairs(k_used, n_used)

    # Start from the method of moments: the spread of the rates beyond
    # binomial noise estimates the intra-unit correlation ρ = 1 / (1 + M).
    mu0 = float(np.clip(pooled, 1e-6, 1 - 1e-6))
    excess = np.var(k_used / n_used) - mu0 * (1 - mu0) * np.mean(1 / n_used)
    scale = mu0 * (1 - mu0) * (1 - np.mean(1 / n_used))
    rho = float(np.clip(excess / scale, 1e-4, 0.99)) if scale > 0 else 0.5
    start = np.array([logit(mu0), np.log(1 / rho - 1)])
    result = minimize(
        _negative_log_posterior,
        start,
        args=(k_fit, n_fit, weight, _log_choose(k_fit, n_fit)),
        jac=True,
        method="L-BFGS-B",
        bounds=[_LOGIT_MU_BOUNDS, _LOG_M_BOUNDS],
    )

    # The prior makes the objective fall as α + β → ∞, so the optimiser stops at
    # the upper bound only when the counts are too many for it to matter and
    # the units differ no more than binomial noise: complete pooling.
    if result.x[1] >= _LOG_M_BOUNDS[1] - 1e-3:
        posterior[answered] = pooled
        return ShrinkageFit(
            posterior, np.inf, np.inf, pooled, "complete_pooling", pooling=1.0
        )

    mu = float(expit(result.x[0]))
    m = float(np.exp(result.x[1]))
    a, b = mu * m, (1 - mu) * m
    posterior[answered] = (k_used + a) / (n_used + a + b)
    pooling = float(np.median(m / (n_used + m)))
    return ShrinkageFit(posterior, a, b, mu, "fitted", pooling=pooling)


def _interpolated_quantile(prob: float, n: FloatArray, target: float) -> FloatArray:
    """Spiegelhalter's (2005, appendix A.1.1) interpolated binomial quantile.

    ``r`` is the smallest count with ``P(R ≤ r) ≥ prob``; the limit is
    ``r − α`` with ``α = (P(R ≤ r) − prob) / (P(R ≤ r) − P(R ≤ r − 1))``, which
    smooths the staircase of plain integer quantiles into a funnel.
    """
    r = binom.ppf(prob, n, target)
    upper_cdf = binom.cdf(r, n, target)
    lower_cdf = binom.cdf(r - 1, n, target)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (upper_cdf - prob) / (upper_cdf - lower_cdf)
    return r - alpha


def funnel_limits(
    n: ArrayLike,
    target: float,
    levels: Sequence[float] = (0.95, 0.998),
    *,
    phi: float = 1.0,
) -> dict[float, tuple[FloatArray, FloatArray]]:
    """Funnel-plot control limits for a proportion around ``target``.

    Spiegelhalter (2005), "Funnel plots for comparing institutional
    performance": for each level the ``(1 − level) / 2`` and ``(1 + level) / 2``
    quantiles of Binomial(n, target), interpolated as in his appendix (not the
    plain integer ``binom.ppf``), divided by ``n`` and clipped to [0, 1].
    Returns ``{level: (lower, upper)}``; NaN where ``n == 0``.

    ``phi``: the family's over-dispersion (:mod:`.dispersion`); each limit's
    distance from the target is multiplied by √φ, Spiegelhalter's (2005 §5)
    multiplicative widening, before clipping.
    """
    if not (np.isfinite(phi) and phi >= 1):
        raise ValueError(f"phi must be a finite number >= 1, got {phi}")
    widen = float(np.sqrt(phi))
    target = check_probability(target, "target", open_interval=True)
    n_arr = np.asarray(n, dtype=np.float64)
    _, n_arr = as_counts(np.zeros_like(n_arr), n_arr)
    # The limits depend on n alone: compute them once per distinct n (a few
    # hundred among 10,000 units) and spread them back.
    sizes, where = np.unique(n_arr, return_inverse=True)
    where = where.ravel()
    limits: dict[float, tuple[FloatArray, FloatArray]] = {}
    for level in levels:
        level = check_probability(level, "level", open_interval=True)
        bounds = []
        for prob in ((1 - level) / 2, (1 + level) / 2):
            count = _interpolated_quantile(prob, sizes, target)
            limit = proportion(count, sizes)
            if widen != 1.0:
                limit = target + widen * (limit - target)
            limit = np.clip(limit, 0.0, 1.0)
            limit = np.where(sizes > 0, limit, np.nan)
            bounds.append(limit[where].reshape(n_arr.shape))
        limits[level] = (bounds[0], bounds[1])
    return limits
