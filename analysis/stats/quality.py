"""Questionnaire and response quality (METHODS.md §5).

For α, item matrices are ``(respondents × items)`` of scale scores, NaN where an
item has no score (blank or 不了解). For straight-lining they name the level
chosen, NaN only where the item was left blank: 不了解 is an answer.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._arrays import FloatArray


def _as_item_matrix(item_matrix: ArrayLike) -> FloatArray:
    matrix = np.asarray(item_matrix, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError("the item matrix must be (respondents × items)")
    return matrix


def cronbach_alpha(item_matrix: ArrayLike) -> float:
    """Cronbach's α of the items of one dimension (Cronbach 1951).

    ``α = k / (k − 1) · (1 − Σ var(item) / var(total))`` with sample variances.
    Respondents with any item missing are dropped (listwise deletion), so every
    variance comes from the same people. NaN with fewer than two items, fewer
    than two complete respondents, or a total score with no variance.
    """
    matrix = _as_item_matrix(item_matrix)
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    respondents, items = complete.shape
    if items < 2 or respondents < 2:
        return float("nan")
    total_variance = complete.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return float("nan")
    item_variance = complete.var(axis=0, ddof=1).sum()
    return float(items / (items - 1) * (1 - item_variance / total_variance))


def straight_liners(level_matrix: ArrayLike, min_items: int = 8) -> NDArray[np.bool_]:
    """Mask of respondents who gave one identical answer to every scale item.

    ``level_matrix`` names the level each respondent chose for each item (a
    level id, say), NaN where the item was left blank. 不了解 is a level like any
    other: 10 × 满意 and one 不了解 is not a straight line, 11 × 不了解 is
    (METHODS.md §5: "all scale answers identical"; docs/methods.md §5). Only
    respondents with at least ``min_items`` answered items are judged; blank
    items are ignored. Reported, never used to delete answers.
    """
    matrix = _as_item_matrix(level_matrix)
    answered = (~np.isnan(matrix)).sum(axis=1)
    judged = answered >= max(min_items, 1)
    # fmax/fmin ignore NaN and, unlike nanmax, do not warn on all-NaN rows.
    highest = np.fmax.reduce(matrix, axis=1, initial=-np.inf)
    lowest = np.fmin.reduce(matrix, axis=1, initial=np.inf)
    return judged & (highest == lowest)


def straight_lining(level_matrix: ArrayLike, min_items: int = 8) -> int:
    """Number of straight-lining respondents, see :func:`straight_liners`."""
    return int(straight_liners(level_matrix, min_items).sum())
