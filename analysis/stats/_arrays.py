"""Input checks shared by the statistics modules: counts and probabilities."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

# Rates are compared with targets such as ``0.95 - 0.05``, which is
# 0.8999999999999999 in binary floating point; without a tolerance 9/10 would
# not count as "≤ 0.90". No rate of a real survey lies closer than this to a
# threshold without being equal to it.
RATE_TOLERANCE = 1e-9


def as_counts(
    k: ArrayLike, n: ArrayLike, *, fractional: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Broadcast ``k`` successes out of ``n`` trials to float arrays, checked.

    ``fractional`` lets ``k`` be any real number in [0, n]: the effective count
    ``rate × n`` of a row whose rate is a mean over items (docs/methods.md §3)."""
    k_arr, n_arr = np.broadcast_arrays(
        np.asarray(k, dtype=np.float64), np.asarray(n, dtype=np.float64)
    )
    if not (np.all(np.isfinite(k_arr)) and np.all(np.isfinite(n_arr))):
        raise ValueError("counts must be finite")
    if np.any(n_arr != np.round(n_arr)) or (
        not fractional and np.any(k_arr != np.round(k_arr))
    ):
        raise ValueError("counts must be whole numbers")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("counts must satisfy 0 <= k <= n")
    return k_arr, n_arr


def check_probability(value: float, name: str, *, open_interval: bool) -> float:
    value = float(value)
    inside = 0 < value < 1 if open_interval else 0 <= value <= 1
    if not inside:
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must lie in {bounds}, got {value}")
    return value


def proportion(k: FloatArray, n: FloatArray) -> FloatArray:
    """``k / n``, NaN where ``n`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, k / n, np.nan)
