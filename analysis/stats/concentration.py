"""How sure the baseline's shrinkage is: the plausible concentrations of its prior.

The re-survey's guard against regression to the mean (:func:`.change.beyond_expected`)
predicts a unit's next round from the baseline family's beta-binomial prior,
Beta(μM, (1 − μ)M). The concentration M is estimated from the family, and a
plug-in estimate can shrink too little: when the units are truly alike, a finite
M̂ still leaves a unit chosen for being low nearer its own unlucky rate than the
truth is (docs/methods.md §4). The guard therefore takes the least favourable of
the concentrations the family's answers do not rule out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, gammaln
from scipy.stats import binom, chi2

from ._arrays import FloatArray, as_counts, check_probability

# Concentrations tried: 0.5 (units as different as they can be) to 10⁶ (alike
# to a few parts in a thousand), 8 points a decade, and ∞ (complete pooling).
CONCENTRATION_GRID = np.concatenate([np.geomspace(0.5, 1e6, 51), [np.inf]])


def plausible_concentrations(
    k: ArrayLike, n: ArrayLike, prior_mean: float, level: float = 0.95
) -> FloatArray:
    """The concentrations M of :data:`CONCENTRATION_GRID` inside the profile
    likelihood interval at ``level``, the prior mean held at ``prior_mean``.

    The log-likelihood of the family's counts is the beta-binomial marginal
    ``Σ log BetaBinom(k; n, μM, (1 − μ)M)`` (Skellam 1948), and at M = ∞ the
    binomial ``Σ log Binom(k; n, μ)``; M is kept where it lies within
    ``χ²₁(level) / 2`` of the largest value (the likelihood-ratio interval,
    1.92 at 95%). Units with ``n = 0`` add nothing. Empty when ``prior_mean``
    is not in (0, 1) or no unit has answers.
    """
    level = check_probability(level, "level", open_interval=True)
    k_arr, n_arr = as_counts(k, n)
    answered = n_arr > 0
    k_arr, n_arr = k_arr[answered], n_arr[answered]
    mu = float(prior_mean)
    if not (0 < mu < 1) or k_arr.size == 0:
        return np.empty(0)
    m = CONCENTRATION_GRID[:-1, None]
    a, b = mu * m, (1 - mu) * m
    # log C(n, k) is common to every M and to the binomial: left out of both.
    finite = (betaln(k_arr + a, n_arr - k_arr + b) - betaln(a, b)).sum(axis=1)
    log_choose = gammaln(n_arr + 1) - gammaln(k_arr + 1) - gammaln(n_arr - k_arr + 1)
    pooled = float((binom.logpmf(k_arr, n_arr, mu) - log_choose).sum())
    log_lik = np.append(finite, pooled)
    keep = log_lik >= log_lik.max() - chi2.ppf(level, 1) / 2
    return CONCENTRATION_GRID[keep]
