"""Boschloo's one-sided test on many tables at once (issue 11 goal 3).

The p-values of :func:`analysis.stats.change.boschloo_greater`, table by table,
for a whole round's result rows in one vectorised computation:

- the extreme mass ``w[s]`` of every table (:func:`_extreme_masses`): the same
  arithmetic as the single-table function, cell for cell, so the same tables
  count as extreme (ties included) and ``w`` is bit for bit the same; every
  row s of every table is one column, the rows of about the same length go
  together, and the cumulative sums run down the columns, a whole batch per
  step (numpy's own cumulative sum is ten times slower per cell);
- the maximum of ``P(π) = Σ w[s]·Binom(s; N, π)``: the same grid uniform in
  asin √π (10√N points), computed for all tables of one N at once as one matrix
  product, and the same choice of local maxima (up to five, within 5% of the
  best); each is then refined by Newton's method on log P inside the bracket its
  grid neighbours give, with bisection where a step would leave the bracket
  (:func:`_refine`).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from ._arrays import FloatArray, as_counts

# Shared with the single-table function (change.py imports them from here).
FISHER_TIE = 1e-13
TINY = float(np.finfo(np.float64).tiny)
BELOW_ONE = float(np.nextafter(1.0, 0.0))
# Cells held at once.
_CHUNK_CELLS = 1 << 18
# Below this a grid value's linear sum may have lost digits to underflow: the
# table goes to the single-table function, which works in logarithms.
_SMALLEST_GRID_P = 1e-250
_NEWTON_STEPS = 6
# exp() of anything below this is taken as exp(_FLOOR) ≈ 1e-304: no sum of
# N + 1 such terms reaches a P of _SMALLEST_GRID_P, and exp's slow path for
# results that underflow is avoided.
_FLOOR = -700.0


@functools.lru_cache(maxsize=512)
def log_comb(n: int) -> FloatArray:
    """log C(n, k) for k = 0..n, exactly symmetric in k and n − k, so that tables
    mirror images of each other get bit-identical probabilities (and tie).
    Read-only: it is shared."""
    k = np.arange(n + 1)
    values = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    half = (n + 1) // 2
    values[n - np.arange(half)] = values[:half]
    values.setflags(write=False)
    return values


# Rows of one batch are padded to a multiple of this many cells, or of an
# eighth of their length for longer rows (at most 12.5% more cells, and few
# batches, each a Python loop as long as its rows).
_ROUND = 8


def _unit(count: NDArray[np.int64]) -> NDArray[np.int64]:
    """What rows of ``count`` cells are padded to a multiple of."""
    octave = np.floor(np.log2(np.maximum(count, 1))).astype(np.int64)
    return np.maximum(_ROUND, 2 ** np.maximum(octave - 3, 0))


def _flat(
    sizes: NDArray[np.int64], pads: NDArray[np.int64]
) -> tuple[FloatArray, NDArray[np.int64]]:
    """log C(size, ·) of every table in one array, each between ``pad`` × −inf
    on either side, and where each starts."""
    stride = sizes + 1 + 2 * pads
    start = np.cumsum(stride) - stride + pads
    out = np.full(int(stride.sum()), -np.inf)
    for begin, size in zip(start.tolist(), sizes.tolist(), strict=True):
        out[begin : begin + size + 1] = log_comb(size)
    return out, start


def _row_sums(
    logs: tuple[FloatArray, FloatArray, FloatArray],
    starts: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]],
    table: NDArray[np.int64],
    s: NDArray[np.int64],
    low: NDArray[np.int64],
    width: int,
) -> FloatArray:
    """``(width × columns)``: down column c, the one-sided Fisher p-values
    ``P(X ≤ x | s)`` of the tables of row ``s[c]`` of table ``table[c]``, x from
    ``low[c]`` = max(0, s − n_after) up, times the row's sum (the last cell; 1
    but for rounding). The single-table function's cells, in its order of
    operations: (log C(n_after, s − x) + log C(n_before, x)) − log C(N, s),
    −inf past the row's last table, exp, cumulative sums. The cells past a
    row's last table fall on the −inf padding (:func:`_unit` − 1 at most)."""
    after, before, total = logs
    j = np.arange(width)[:, None]
    cells = np.take(after, (starts[0][table] + s - low)[None, :] - j)
    cells += np.take(before, (starts[1][table] + low)[None, :] + j)
    cells -= np.take(total, starts[2][table] + s)[None, :]
    np.exp(cells, out=cells)
    for row in range(1, width):
        np.add(cells[row - 1], cells[row], out=cells[row])
    return cells


def _extreme_masses(
    ka: NDArray[np.int64],
    na: NDArray[np.int64],
    kb: NDArray[np.int64],
    nb: NDArray[np.int64],
) -> list[FloatArray]:
    """``w[s]`` of every table (``change._extreme_mass``, bit for bit). Every row
    s of every table is one column; the columns go in batches of rows of about
    the same length (:func:`_unit`)."""
    pads = _unit(np.minimum(na, nb) + 1)
    logs_starts = [_flat(sizes, pads) for sizes in (na, nb, na + nb)]
    logs = tuple(flat for flat, _ in logs_starts)
    starts = tuple(start for _, start in logs_starts)

    def lengths(
        table: NDArray[np.int64], s: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The first before count of row s, and the row's padded length."""
        low = np.maximum(0, s - na[table])
        count = np.minimum(s, nb[table]) - low + 1
        unit = _unit(count)
        return low, (count + unit - 1) // unit * unit

    index = np.arange(len(ka))
    s_obs = ka + kb
    low, widths = lengths(index, s_obs)
    threshold = np.empty(len(ka))
    for width in np.unique(widths).tolist():
        rows = np.flatnonzero(widths == width)
        observed = _row_sums(logs, starts, rows, s_obs[rows], low[rows], width)
        at = kb[rows] - low[rows]
        threshold[rows] = (
            observed[at, np.arange(len(rows))] / observed[-1] * (1 + FISHER_TIE)
        )
    sizes = na + nb + 1
    offset = np.cumsum(sizes) - sizes
    table = np.repeat(index, sizes)
    s = np.arange(int(sizes.sum())) - np.repeat(offset, sizes)
    low, widths = lengths(table, s)
    values = np.empty(len(s))
    order = np.argsort(widths, kind="stable")
    bounds = np.searchsorted(widths[order], np.unique(widths), side="right")
    begin = 0
    for end in bounds.tolist():
        width = int(widths[order[begin]])
        step = max(1, _CHUNK_CELLS // width)
        for first in range(begin, end, step):
            cols = order[first : min(end, first + step)]
            part = _row_sums(logs, starts, table[cols], s[cols], low[cols], width)
            # c / total ≤ t as c ≤ t·total: one product per row, not per cell.
            row_total = part[-1].copy()
            limit = threshold[table[cols]] * row_total
            values[cols] = (
                np.where(part <= limit[None, :], part, 0.0).max(axis=0) / row_total
            )
        begin = end
    return np.split(values, np.cumsum(sizes)[:-1])


def _candidates(
    masses: list[FloatArray], total: int, members: NDArray[np.int64]
) -> tuple[FloatArray, FloatArray, NDArray[np.int64], FloatArray]:
    """The grid stage for the tables ``members``, all of ``N = total``: each
    table's best grid value (log P, the ends π = 0 and 1 included) and its
    local maxima to refine, as ``(best, grid_p, (candidate, 3) brackets, owner)``
    — the single-table function's grid and choice, its log-sums replaced by
    one matrix product (``grid_p`` is the largest P on the grid, to tell
    underflow)."""
    points = max(64, math.ceil(10 * math.sqrt(total)))
    theta = np.linspace(0.0, math.pi / 2, points + 1)
    pi = np.clip(np.sin(theta[1:-1]) ** 2, TINY, BELOW_ONE)
    s = np.arange(total + 1, dtype=np.float64)
    kernel = log_comb(total)[None, :] + s * np.log(pi)[:, None]
    kernel += (total - s) * np.log1p(-pi)[:, None]
    np.maximum(kernel, _FLOOR, out=kernel)
    np.exp(kernel, out=kernel)
    weights = np.stack([masses[m] for m in members.tolist()])
    inner = weights @ kernel.T
    with np.errstate(divide="ignore"):
        values = np.concatenate(
            [np.log(weights[:, :1]), np.log(inner), np.log(weights[:, -1:])], axis=1
        )
    best = values.max(axis=1)
    grid_p = np.maximum(inner.max(axis=1), np.maximum(weights[:, 0], weights[:, -1]))
    middle = values[:, 1:-1]
    peak = (middle >= values[:, :-2]) & (middle >= values[:, 2:])
    peak &= middle >= best[:, None] - 0.05
    ranked = np.argsort(np.where(peak, -middle, np.inf), axis=1, kind="stable")[:, :5]
    chosen = np.take_along_axis(peak, ranked, axis=1)
    owner, slot = np.nonzero(chosen)
    index = ranked[owner, slot] + 1  # grid index of the peak
    brackets = np.stack([theta[index - 1], theta[index], theta[index + 1]], axis=1)
    return best, grid_p, brackets, members[owner]


def _refine(
    log_weights: FloatArray, totals: FloatArray, brackets: FloatArray
) -> FloatArray:
    """The largest log P(π) Newton's method finds in each bracket ``(low,
    start, high)`` of θ = asin √π, one row of ``log_weights`` (log w[s]·C(N, s),
    −inf past N) per bracket. In θ, with π = sin²θ, the log-kernel of s has
    derivative ``d = 4(s − Nπ) / sin 2θ`` and second derivative ``−4N − 8(s −
    Nπ)·cos 2θ / sin² 2θ``; a step that would leave the bracket (or a convex
    point) bisects it instead, and the bracket keeps the side the slope points
    to."""
    low, theta, high = (brackets[:, i].copy() for i in range(3))
    s = np.arange(log_weights.shape[1], dtype=np.float64)
    found = np.full(len(theta), -np.inf)
    terms = np.empty_like(log_weights)
    for _ in range(_NEWTON_STEPS):
        pi = np.clip(np.sin(theta) ** 2, TINY, BELOW_ONE)
        log_q = np.log1p(-pi)
        # log w[s]·C(N, s) + s·log π + (N − s)·log(1 − π), the last N·log(1 − π)
        # added after the sum.
        np.multiply(s[None, :], (np.log(pi) - log_q)[:, None], out=terms)
        terms += log_weights
        top = terms.max(axis=1)
        terms -= top[:, None]
        np.maximum(terms, _FLOOR, out=terms)
        np.exp(terms, out=terms)
        mass = terms.sum(axis=1)
        mean = terms @ s / mass - totals * pi  # E[s − Nπ]
        square = terms @ (s * s) / mass
        square += totals * pi * (totals * pi - 2 * (mean + totals * pi))  # E[(s − Nπ)²]
        sin2, cos2 = np.sin(2 * theta), np.cos(2 * theta)
        gradient = 4 * mean / sin2
        hessian = (16 * square - 8 * mean * cos2) / sin2**2 - 4 * totals - gradient**2
        found = np.maximum(found, top + totals * log_q + np.log(mass))
        rising = gradient > 0
        low = np.where(rising, theta, low)
        high = np.where(rising, high, theta)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = theta - gradient / hessian
        inside = (hessian < 0) & (step > low) & (step < high)
        theta = np.where(inside, step, (low + high) / 2)
    return found


def boschloo_greater_many(
    k_after: ArrayLike, n_after: ArrayLike, k_before: ArrayLike, n_before: ArrayLike
) -> FloatArray:
    """:func:`analysis.stats.change.boschloo_greater` of many tables at once.

    Whole counts, broadcast together (ValueError unless 0 ≤ k ≤ n, all whole);
    NaN where either ``n`` is 0. Agrees with the single-table function to about
    1e-12 (this search ends nearer the supremum: Newton's method, against the
    other's zoom); ``w[s]`` is bit for bit the same, so the same tables tie.
    Tables whose largest P on the grid is below 1e-250 (where a linear sum may
    have lost digits) are left to the single-table function, which works in
    logarithms. Memory is bounded by ``_CHUNK_CELLS`` whatever the number of
    tables; a grid kernel is (10√N) × (N + 1).
    """
    checked = (*as_counts(k_after, n_after), *as_counts(k_before, n_before))
    arrays = np.broadcast_arrays(*(a.astype(np.int64) for a in checked))
    shape = arrays[0].shape
    ka, na, kb, nb = (a.ravel() for a in arrays)
    p = np.full(ka.shape, np.nan)
    testable = np.flatnonzero((na > 0) & (nb > 0))
    if testable.size == 0:
        return p.reshape(shape)
    ka, na, kb, nb = ka[testable], na[testable], kb[testable], nb[testable]
    masses = _extreme_masses(ka, na, kb, nb)
    totals = na + nb
    best = np.empty(len(ka))
    parts = []
    for total in np.unique(totals).tolist():
        members = np.flatnonzero(totals == total)
        grid_best, grid_p, brackets, owner = _candidates(masses, total, members)
        best[members] = np.where(grid_p < _SMALLEST_GRID_P, np.nan, grid_best)
        parts.append((brackets, owner))
    brackets = np.concatenate([b for b, _ in parts])
    owner = np.concatenate([o for _, o in parts])
    keep = ~np.isnan(best[owner])
    brackets, owner = brackets[keep], owner[keep]
    # Candidates in blocks of similar N, each padded to a multiple of 64 terms.
    length = (totals[owner] + 64) // 64 * 64
    blocks = [
        group[start : start + max(1, _CHUNK_CELLS // size)]
        for size in np.unique(length).tolist()
        for group in [np.flatnonzero(length == size)]
        for start in range(0, len(group), max(1, _CHUNK_CELLS // size))
    ]
    for block in blocks:
        size = int(length[block[0]])
        log_weights = np.full((len(block), size), -np.inf)
        with np.errstate(divide="ignore"):
            for row, table in enumerate(owner[block].tolist()):
                total = int(totals[table])
                log_weights[row, : total + 1] = np.log(masses[table]) + log_comb(total)
        found = _refine(
            log_weights, totals[owner[block]].astype(float), brackets[block]
        )
        np.maximum.at(best, owner[block], found)
    values = np.minimum(1.0, np.exp(best))
    fallback = np.flatnonzero(np.isnan(best))
    if fallback.size:
        from .change import boschloo_greater

        for i in fallback.tolist():
            values[i] = boschloo_greater(int(ka[i]), int(na[i]), int(kb[i]), int(nb[i]))
    p[testable] = values
    return p.reshape(shape)
