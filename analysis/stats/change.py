"""Before and after: a later round against its baseline (METHODS.md §4).

Rounds are independent samples of respondents, so every comparison here is
between two independent groups; there is no paired test. Units flagged in the
baseline drift toward the mean on their own (regression to the mean): the
re-survey verdict (:func:`improvement_decision`) awards IMPROVED only beyond what
the baseline's shrunken estimate predicts (:func:`beyond_expected`), or when the
re-survey meets the target by its one-sided bound, never on a point estimate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray
from scipy.stats import betabinom, binom, hypergeom, norm

from ._arrays import FloatArray, as_counts, check_probability
from .boschloo_many import BELOW_ONE, FISHER_TIE, TINY, boschloo_greater_many, log_comb
from .intervals import exact_lower_bound

ImprovementMethod = Literal["boschloo", "fisher"]


class Verdict(StrEnum):
    IMPROVED = "IMPROVED"
    NOT_IMPROVED = "NOT_IMPROVED"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


# Boschloo's p-value enumerates all (n_after + 1)(n_before + 1) tables of the two
# rounds' sizes, so its cost grows with their product: about 0.02 s at 500
# answers a side, 0.3 s at 2,000. Beyond this many tables (two rounds of 2,000
# answers each) the test is Fisher's, which is exact too and only a little less
# powerful at such sizes; see improvement_method.
BOSCHLOO_MAX_TABLES = 2001 * 2001
# From this many distinct tables on, improvement_test computes them together
# (boschloo_greater_many: the same p-values to about 1e-12, at a fraction of
# the cost of one call per table); fewer, one boschloo_greater call each.
BOSCHLOO_BATCH = 8

# scipy.stats.boschloo_exact counts a table as at least as extreme when its
# Fisher p-value is within this relative distance of the observed one (gh-14178).
_FISHER_TIE = FISHER_TIE
# Cells of the (total successes × before successes) array held at once.
_BLOCK_CELLS = 1 << 16
_TINY = TINY
_BELOW_ONE = BELOW_ONE


def improvement_method(
    n_before: ArrayLike, n_after: ArrayLike, method: ImprovementMethod = "boschloo"
) -> NDArray[np.str_]:
    """The test :func:`improvement_test` applies to each pair of rounds.

    ``method`` itself, except ``fisher`` for Boschloo's test on more than
    :data:`BOSCHLOO_MAX_TABLES` tables, which keeps every verdict a bounded
    amount of work.
    """
    if method not in ("boschloo", "fisher"):
        raise ValueError(f"unknown method {method!r}")
    nb, na = np.broadcast_arrays(
        np.asarray(n_before, dtype=np.float64), np.asarray(n_after, dtype=np.float64)
    )
    too_big = (nb + 1) * (na + 1) > BOSCHLOO_MAX_TABLES
    chosen = np.where((method == "boschloo") & ~too_big, "boschloo", "fisher")
    return chosen.astype(np.str_)


def improvement_test(
    k_before: ArrayLike,
    n_before: ArrayLike,
    k_after: ArrayLike,
    n_after: ArrayLike,
    method: ImprovementMethod = "boschloo",
) -> FloatArray:
    """One-sided exact p-value for H1: the later rate is higher than the baseline.

    ``boschloo``: Boschloo (1970), the p-value of ``scipy.stats.boschloo_exact``
    with ``alternative="greater"`` on the table ``[[k_after, k_before], [n_after
    − k_after, n_before − k_before]]`` (see :func:`boschloo_greater`);
    uniformly more powerful than Fisher's test; each distinct table once, from
    :data:`BOSCHLOO_BATCH` distinct tables on all together
    (:func:`~analysis.stats.boschloo_many.boschloo_greater_many`). Beyond
    :data:`BOSCHLOO_MAX_TABLES` tables Fisher's test is used instead
    (:func:`improvement_method`). ``fisher``: Fisher (1935) exact test, the same
    table and alternative as ``scipy.stats.fisher_exact``, vectorised as the
    hypergeometric upper tail ``P(X ≥ k_after)``. NaN where either ``n`` is 0.
    """
    kb, nb = as_counts(k_before, n_before)
    ka, na = as_counts(k_after, n_after)
    kb, nb, ka, na = np.broadcast_arrays(kb, nb, ka, na)
    testable = (nb > 0) & (na > 0)
    chosen = improvement_method(nb, na, method)
    p = np.full(kb.shape, np.nan)
    fisher = testable & (chosen == "fisher")
    if np.any(fisher):
        tail = hypergeom.sf(ka - 1, na + nb, ka + kb, na)
        p[fisher] = np.minimum(tail[fisher], 1.0)
    exact = testable & (chosen == "boschloo")
    if np.any(exact):
        # One test per distinct table: a round's rows repeat tables (a unit and
        # its 总体评价 question, rows all satisfied in both rounds).
        tables = np.stack([ka[exact], na[exact], kb[exact], nb[exact]], axis=1)
        distinct, where = np.unique(
            tables.astype(np.int64), axis=0, return_inverse=True
        )
        if len(distinct) >= BOSCHLOO_BATCH:
            values = boschloo_greater_many(*distinct.T)
        else:
            values = np.fromiter(
                (boschloo_greater(*map(int, t)) for t in distinct),
                dtype=np.float64,
                count=len(distinct),
            )
        p[exact] = values[where.ravel()]
    return p


def _log_comb(n: int) -> FloatArray:
    """log C(n, k) for k = 0..n, exactly symmetric in k and n − k, so that tables
    mirror images of each other get bit-identical probabilities (and tie)."""
    return log_comb(n).copy()


def _extreme_mass(
    k_after: int, n_after: int, k_before: int, n_before: int
) -> FloatArray:
    """``w[s]``: the probability, given ``s`` successes in all, of the tables at
    least as extreme as the observed one (Fisher p-value ≤ the observed).

    Given ``s``, the before successes ``x`` are hypergeometric and a table's
    one-sided Fisher p-value is ``P(X ≤ x | s)``, increasing in ``x``: the
    extreme tables of row ``s`` are those up to some ``x``, and ``w[s]`` is the
    largest p-value in the row not above the observed one. Rows are computed a
    block at a time (cumulative sums of the hypergeometric probabilities), so
    memory stays bounded whatever the sizes.
    """
    total = n_after + n_before
    width = min(n_after, n_before) + 1
    pad = np.full(width, -np.inf)
    # Row s holds x = lo(s) + column before successes, lo(s) = max(0, s −
    # n_after), and s − x after successes: a window of log C(n_before, ·) read
    # forwards and one of log C(n_after, ·) read backwards. Cells past min(s,
    # n_before) fall on the −inf padding and get probability 0.
    after_windows = sliding_window_view(
        np.concatenate([pad, _log_comb(n_after), pad])[::-1], width
    )
    before_windows = sliding_window_view(
        np.concatenate([pad, _log_comb(n_before), pad]), width
    )
    last = n_after + 2 * width  # index of the last padded log C(n_after, ·)
    log_total = _log_comb(total)

    def fisher_p(s: NDArray[np.int64]) -> FloatArray:
        low = np.maximum(0, s - n_after)
        cells = after_windows[last - (s - low + width)]
        cells += before_windows[low + width]
        cells -= log_total[s][:, None]
        np.exp(cells, out=cells)
        np.cumsum(cells, axis=1, out=cells)
        # Each row sums to 1; dividing by its own sum makes the last table of a
        # row exactly 1, as it is.
        cells /= cells[:, -1:]
        return cells

    s_observed = k_after + k_before
    observed = fisher_p(np.array([s_observed]))[
        0, k_before - max(0, s_observed - n_after)
    ]
    threshold = observed * (1 + _FISHER_TIE)
    mass = np.empty(total + 1)
    step = max(1, _BLOCK_CELLS // width)
    for start in range(0, total + 1, step):
        s = np.arange(start, min(total + 1, start + step))
        cdf = fisher_p(s)
        mass[s] = np.where(cdf <= threshold, cdf, 0.0).max(axis=1)
    return mass


# Pure in its four integers: tasks of one finding share them, so keep a few.
@functools.lru_cache(maxsize=1024)
def boschloo_greater(k_after: int, n_after: int, k_before: int, n_before: int) -> float:
    """One-sided Boschloo p-value for H1: the after rate is above the before rate.

    The value ``scipy.stats.boschloo_exact([[k_after, k_before], [n_after −
    k_after, n_before − k_before]], alternative="greater").pvalue`` approximates,
    computed in bounded work: the tables at least as extreme as the observed
    one by Fisher's one-sided p-value (Boschloo 1970) are enumerated once and
    summarised as ``w[s]`` (:func:`_extreme_mass`), so that the probability of
    the extreme region under a common rate π is the binomial mixture
    ``P(π) = Σ_s w[s]·Binom(s; N, π)``; its supremum over π is found on a grid
    uniform in asin √π with 10·√N points (P cannot vary faster than the binomial
    kernel, whose width there is 1 / (2√N)), refined around the highest local
    maxima (up to five, those within 5% of the best) by zooming in on each.
    Terms more than 12 binomial standard deviations (+ 12) from Nπ are left
    out of each sum (together below 1e-20). Agrees with scipy to 1e-8, except
    where scipy's shgo search of π stops short of the maximum (once in 4,000
    tables tried, by 1e-6: this search is then the higher, as the definition
    gives), at a small fraction of its cost: O((n_after + 1)(n_before + 1))
    numpy operations in bounded memory.
    """
    if n_after <= 0 or n_before <= 0:
        return math.nan
    total = n_after + n_before
    mass = _extreme_mass(k_after, n_after, k_before, n_before)
    # log(w[s]·C(N, s)), padded with −inf so that sums may run past 0 and N.
    reach = math.ceil(6 * math.sqrt(total)) + 12
    with np.errstate(divide="ignore"):
        log_weight = np.log(mass) + _log_comb(total)
    padded = np.concatenate(
        [np.full(reach, -np.inf), log_weight, np.full(reach, -np.inf)]
    )

    def log_p(pi: FloatArray) -> FloatArray:
        """log P(π), summing over s within 12 standard deviations (+12) of Nπ."""
        # The ends have their own values; the open interval keeps 0·log 0 out.
        pi = np.clip(pi, _TINY, _BELOW_ONE)
        spread = math.sqrt(total * float(np.max(pi * (1 - pi))))
        band = min(reach, math.ceil(12 * spread) + 12)
        s = np.rint(pi * total).astype(np.int64)[:, None] + np.arange(-band, band + 1)
        terms = padded[s + reach]
        s = s.astype(np.float64)
        terms += s * np.log(pi)[:, None]
        terms += (total - s) * np.log1p(-pi)[:, None]
        top = terms.max(axis=1)
        finite = np.isfinite(top)
        shift = np.where(finite, top, 0.0)
        terms -= shift[:, None]
        summed = np.exp(terms, out=terms).sum(axis=1)
        with np.errstate(divide="ignore"):
            return np.where(finite, shift + np.log(summed), -np.inf)

    points = max(64, math.ceil(10 * math.sqrt(total)))
    theta = np.linspace(0.0, math.pi / 2, points + 1)
    # π = 0 and π = 1 put all the probability on the tables with s = 0 and N.
    values = np.concatenate(
        [[log_weight[0]], log_p(np.sin(theta[1:-1]) ** 2), [log_weight[total]]]
    )
    best = float(values.max())
    inner = np.arange(1, points)
    peaks = inner[
        (values[inner] >= values[inner - 1]) & (values[inner] >= values[inner + 1])
    ]
    # Between grid points a peak can rise by about 1% at most (the spacing is a
    # third of the kernel's width): only peaks that close to the best can win.
    # Each is bracketed by its neighbours and zoomed into, all at once: 17
    # points across the bracket, then ±1 step around the highest, five times
    # (a bracket 8⁵ times narrower than the grid's).
    peaks = peaks[values[peaks] >= best - 0.05]
    peaks = peaks[np.argsort(-values[peaks], kind="stable")][:5]
    low, high = theta[peaks - 1], theta[peaks + 1]
    steps = np.linspace(0.0, 1.0, 17)
    for _ in range(5 if peaks.size else 0):
        t = low[:, None] + (high - low)[:, None] * steps
        zoomed = log_p(np.sin(t.ravel()) ** 2).reshape(t.shape)
        best = max(best, float(zoomed.max()))
        centre = t[np.arange(t.shape[0]), zoomed.argmax(axis=1)]
        step = (high - low) / 16
        low, high = np.maximum(centre - step, low), np.minimum(centre + step, high)
    return min(1.0, math.exp(best))


def cohens_h(p1: ArrayLike, p2: ArrayLike) -> FloatArray:
    """Cohen's h = 2·asin√p1 − 2·asin√p2 (Cohen 1988, §6.2).

    Effect size for a difference of proportions; 0.2 / 0.5 / 0.8 are Cohen's
    small / medium / large. Pass the later rate first.
    """
    return 2 * np.arcsin(np.sqrt(np.asarray(p1, dtype=np.float64))) - 2 * np.arcsin(
        np.sqrt(np.asarray(p2, dtype=np.float64))
    )


@dataclass(frozen=True)
class MannWhitney:
    """``u``: U of the later round; ``pvalue``: one-sided, later round better;
    ``rank_biserial``: ``2U / (n_before·n_after) − 1`` = P(after > before) −
    P(after < before), from −1 to 1."""

    u: FloatArray
    pvalue: FloatArray
    rank_biserial: FloatArray


def mann_whitney(
    before_level_counts: ArrayLike,
    after_level_counts: ArrayLike,
    level_order: Sequence[int],
) -> MannWhitney:
    """Mann–Whitney U test on the whole answer scale, from counts per level.

    Mann & Whitney (1947); rank-biserial correlation of Cureton (1956) / Kerby
    (2014). ``level_order`` lists the columns from the worst level to the best;
    columns not listed (不了解) are left out. Ranks are mid-ranks over the pooled
    counts, so no answer is expanded into a sample; the p-value is the normal
    approximation with tie and continuity corrections, as
    ``scipy.stats.mannwhitneyu(after, before, alternative="greater",
    method="asymptotic")`` (ordinal answers are all ties, where the exact
    distribution does not apply). Counts are ``(groups × levels)``.
    """
    order = list(level_order)
    before = np.atleast_2d(np.asarray(before_level_counts, dtype=np.float64))[:, order]
    after = np.atleast_2d(np.asarray(after_level_counts, dtype=np.float64))[:, order]
    if before.shape != after.shape:
        raise ValueError("before and after counts differ in shape")
    if np.any(before < 0) or np.any(after < 0):
        raise ValueError("counts must be non-negative")
    n_before = before.sum(axis=1)
    n_after = after.sum(axis=1)
    total = before + after
    n_all = n_before + n_after
    mid_ranks = np.cumsum(total, axis=1) - total + (total + 1) / 2
    u = (after * mid_ranks).sum(axis=1) - n_after * (n_after + 1) / 2

    pairs = n_before * n_after
    ties = (total**3 - total).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = pairs / 12 * ((n_all + 1) - ties / (n_all * (n_all - 1)))
        z = (u - pairs / 2 - 0.5) / np.sqrt(variance)
        rank_biserial = 2 * u / pairs - 1
    # Every answer on one level: no evidence of a shift either way.
    pvalue = np.where(variance > 0, norm.sf(z), 1.0)
    empty = pairs == 0
    return MannWhitney(
        u=np.where(empty, np.nan, u),
        pvalue=np.where(empty, np.nan, pvalue),
        rank_biserial=np.where(empty, np.nan, rank_biserial),
    )


class VerdictRule(StrEnum):
    """Which rule of :func:`improvement_decision` gave the verdict."""

    MIN_N = "min_n"  # a round under min_n: INSUFFICIENT_DATA
    TARGET_BOUND = "target_bound"  # re-survey's one-sided lower bound ≥ target
    TEST = "test"  # the exact test (and the guard) decided, either way
    REGRESSION_GUARD = "regression_guard"  # significant, yet not past the
    # baseline's shrunken estimate: NOT_IMPROVED


@dataclass(frozen=True)
class ImprovementDecision:
    """A re-survey verdict and the figures that gave it, one entry per pair.

    ``p_improved``: the exact test (:func:`improvement_test`), NaN where it was
    not needed; ``expected``: the baseline's shrunken estimate, the rate the
    re-survey is expected to show if nothing changed; ``p_expected``: the
    probability of a re-survey count at least as high as observed under that
    expectation (:func:`beyond_expected`). Both NaN where no prior was given.
    """

    verdict: NDArray[np.str_]
    rule: NDArray[np.str_]
    p_improved: FloatArray
    expected: FloatArray
    p_expected: FloatArray


def shrunken_estimate(
    k: ArrayLike, n: ArrayLike, prior_mean: ArrayLike, prior_concentration: ArrayLike
) -> FloatArray:
    """Posterior mean ``(k + μM) / (n + M)`` under the prior Beta(μM, (1 − μ)M):
    the baseline rate with regression to the mean taken out (μ itself at M =
    ∞). NaN where M is NaN or not positive, μ is not in (0, 1), or ``n = 0``."""
    k_arr, n_arr = as_counts(k, n)
    mu, m = np.broadcast_arrays(
        np.asarray(prior_mean, dtype=np.float64),
        np.asarray(prior_concentration, dtype=np.float64),
    )
    k_arr, n_arr, mu, m = np.broadcast_arrays(k_arr, n_arr, mu, m)
    usable = (n_arr > 0) & (mu > 0) & (mu < 1) & (m > 0)
    finite_m = np.where(np.isfinite(m), m, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(np.isinf(m), mu, (k_arr + mu * finite_m) / (n_arr + finite_m))
    return np.where(usable, mean, np.nan)


def beyond_expected(
    k_before: ArrayLike,
    n_before: ArrayLike,
    k_after: ArrayLike,
    n_after: ArrayLike,
    prior_mean: ArrayLike,
    prior_concentration: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """The guard against regression to the mean: ``(expected, p)`` per pair.

    A unit chosen for a low baseline rate was, on average, unlucky in that
    round, and its next round regresses toward the other units' rates with no
    change at all. The baseline family's beta-binomial prior Beta(μM, (1 − μ)M)
    gives the unit's rate given its baseline answers, Beta(k + μM, n − k +
    (1 − μ)M), whose mean is its shrunken estimate. If nothing changed, the
    re-survey count follows the posterior predictive BetaBinom(n_after, k + μM,
    n − k + (1 − μ)M); at M = ∞ (complete pooling) Binomial(n_after, μ).
    Selection on the baseline's answers leaves this distribution as it is.

    ``prior_concentration``: one M per pair, or a row of Ms per pair (``(pairs,
    c)``, NaN for none). ``expected``: the shrunken estimate at the first M
    (the fitted one); ``p``: the largest upper tail ``P(K ≥ k_after)`` over
    the Ms (``scipy.stats.betabinom.sf``), the least favourable of the priors
    given. NaN where no M is given, μ is NaN, or a round has no answers.
    """
    kb, nb = as_counts(k_before, n_before)
    ka, na = as_counts(k_after, n_after)
    kb, nb, ka, na = np.broadcast_arrays(kb, nb, ka, na)
    mu = np.broadcast_to(np.asarray(prior_mean, dtype=np.float64), kb.shape)
    m = np.asarray(prior_concentration, dtype=np.float64)
    if m.ndim <= kb.ndim:
        m = m[..., None]
    m = np.broadcast_to(m, (*kb.shape, m.shape[-1]))
    usable = (nb > 0) & (na > 0) & (mu > 0) & (mu < 1)
    usable = usable[..., None] & (m > 0)  # NaN is never > 0
    pooled = usable & np.isinf(m)
    fitted = usable & np.isfinite(m)
    post_a = kb[..., None] + mu[..., None] * np.where(fitted, m, 1.0)
    post_b = (
        nb[..., None] - kb[..., None] + (1 - mu[..., None]) * np.where(fitted, m, 1.0)
    )
    k_tail, n_tail = ka[..., None] - 1, na[..., None]
    tail = np.full(m.shape, np.nan)
    tail[fitted] = betabinom.sf(
        np.broadcast_to(k_tail, m.shape)[fitted],
        np.broadcast_to(n_tail, m.shape)[fitted],
        post_a[fitted],
        post_b[fitted],
    )
    tail[pooled] = binom.sf(
        np.broadcast_to(k_tail, m.shape)[pooled],
        np.broadcast_to(n_tail, m.shape)[pooled],
        np.broadcast_to(mu[..., None], m.shape)[pooled],
    )
    expected = shrunken_estimate(kb, nb, mu, m[..., 0])
    any_tail = ~np.all(np.isnan(tail), axis=-1)
    p = np.full(kb.shape, np.nan)
    p[any_tail] = np.nanmax(tail[any_tail], axis=-1)
    return expected, np.clip(p, 0.0, 1.0)


def improvement_decision(
    k_before: ArrayLike,
    n_before: ArrayLike,
    k_after: ArrayLike,
    n_after: ArrayLike,
    target: float,
    *,
    method: ImprovementMethod = "boschloo",
    alpha: float = 0.05,
    min_n: int = 10,
    p_value: ArrayLike | None = None,
    prior_mean: ArrayLike = np.nan,
    prior_concentration: ArrayLike = np.nan,
) -> ImprovementDecision:
    """Re-survey verdict of a rectification task (METHODS.md §4, as
    docs/methods.md §4 applies it), and the rule that gave it.

    In order:

    - INSUFFICIENT_DATA when either round has ``n < min_n`` (rule ``min_n``);
    - IMPROVED when the re-survey meets the target by its one-sided exact
      lower bound at ``1 − alpha`` (:func:`exact_lower_bound` ≥ target, the
      GREEN_CONFIRMED rule of §3; rule ``target_bound``): a point estimate at
      the target is not enough;
    - IMPROVED when :func:`improvement_test` gives ``p ≤ alpha`` *and* the
      re-survey is beyond what the baseline's shrunken estimate predicts
      (:func:`beyond_expected` ``p ≤ alpha``; not applied where no prior is
      given) (rule ``test``);
    - otherwise NOT_IMPROVED: rule ``regression_guard`` when the test alone
      would have said IMPROVED, ``test`` when it did not.

    The exact test runs only where the bound does not decide, and not at all
    when the caller passes its ``p_value`` (of the same rounds and
    ``method``). ``prior_mean``, ``prior_concentration``: the baseline
    family's prior per pair, as :func:`beyond_expected` takes them (the fitted
    M first, then the plausible ones of
    :func:`analysis.stats.plausible_concentrations`); NaN where there is none.
    """
    target = check_probability(target, "target", open_interval=False)
    alpha = check_probability(alpha, "alpha", open_interval=True)
    kb, nb = as_counts(k_before, n_before)
    ka, na = as_counts(k_after, n_after)
    kb, nb, ka, na = np.broadcast_arrays(kb, nb, ka, na)
    enough = (nb >= min_n) & (na >= min_n)
    # No tolerance: a 达标 claim errs on the side of not claiming (as §3).
    at_target = enough & (exact_lower_bound(ka, na, 1 - alpha) >= target)
    to_test = enough & ~at_target
    if p_value is not None:
        p = np.broadcast_to(np.asarray(p_value, dtype=np.float64), kb.shape).copy()
    else:
        p = np.full(kb.shape, np.nan)
        if np.any(to_test):
            p[to_test] = improvement_test(
                kb[to_test], nb[to_test], ka[to_test], na[to_test], method
            )
    significant = to_test & (p <= alpha)
    # The guard's tails are needed only where the test would say IMPROVED;
    # the shrunken estimate is shown for every pair.
    mu = np.broadcast_to(np.asarray(prior_mean, dtype=np.float64), kb.shape)
    m = np.asarray(prior_concentration, dtype=np.float64)
    if m.ndim <= kb.ndim:
        m = m[..., None]
    m = np.broadcast_to(m, (*kb.shape, m.shape[-1]))
    expected = shrunken_estimate(kb, nb, mu, m[..., 0])
    p_expected = np.full(kb.shape, np.nan)
    if np.any(significant):
        _, p_expected[significant] = beyond_expected(
            kb[significant],
            nb[significant],
            ka[significant],
            na[significant],
            mu[significant],
            m[significant],
        )
    guarded = significant & (p_expected > alpha)  # NaN (no prior) never guards
    improved = at_target | (significant & ~guarded)
    verdict = np.select(
        [~enough, improved],
        [Verdict.INSUFFICIENT_DATA.value, Verdict.IMPROVED.value],
        default=Verdict.NOT_IMPROVED.value,
    )
    rule = np.select(
        [~enough, at_target, guarded],
        [
            VerdictRule.MIN_N.value,
            VerdictRule.TARGET_BOUND.value,
            VerdictRule.REGRESSION_GUARD.value,
        ],
        default=VerdictRule.TEST.value,
    )
    return ImprovementDecision(
        verdict=verdict.astype(np.str_),
        rule=rule.astype(np.str_),
        p_improved=p,
        expected=expected,
        p_expected=p_expected,
    )


def improvement_verdict(
    k_before: ArrayLike,
    n_before: ArrayLike,
    k_after: ArrayLike,
    n_after: ArrayLike,
    target: float,
    **options: object,
) -> NDArray[np.str_]:
    """The verdicts of :func:`improvement_decision` alone (same arguments)."""
    return improvement_decision(
        k_before, n_before, k_after, n_after, target, **options
    ).verdict
