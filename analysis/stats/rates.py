"""Rates and scores of groups from per-level answer counts (METHODS.md §2).

Input is a ``(groups × levels)`` array of counts, columns in the order of a
:class:`LevelInfo`. Blank answers are abstentions and are simply not counted.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaincinv

from ._arrays import FloatArray, check_probability, proportion

POLARITIES = frozenset({"positive", "neutral", "negative", "dont_know"})
RateDefinition = Literal["broad", "strict", "levels"]


@dataclass(frozen=True)
class LevelInfo:
    """The levels of one scale, in the column order of the counts.

    ``polarities`` are ``positive`` / ``neutral`` / ``negative`` /
    ``dont_know``; ``scores`` are None exactly for ``dont_know`` levels. The top
    level (for the strict rate) is the highest-scoring level, the first one on a
    tie, unless ``top_code`` names it.
    """

    codes: tuple[str, ...]
    polarities: tuple[str, ...]
    scores: tuple[float | None, ...]
    top_code: str | None = None

    def __post_init__(self) -> None:
        if not len(self.codes) == len(self.polarities) == len(self.scores):
            raise ValueError("codes, polarities and scores differ in length")
        if len(set(self.codes)) != len(self.codes):
            raise ValueError("level codes must be unique")
        if unknown := set(self.polarities) - POLARITIES:
            raise ValueError(f"unknown polarities: {sorted(unknown)}")
        for code, polarity, score in zip(
            self.codes, self.polarities, self.scores, strict=True
        ):
            if (score is None) != (polarity == "dont_know"):
                raise ValueError(
                    f"level {code!r}: a score is required unless it is dont_know"
                )
        if self.top_code is not None and self.top_code not in self.codes:
            raise ValueError(f"unknown top level {self.top_code!r}")
        if not np.any(self.valid):
            raise ValueError("a scale needs at least one level that is not dont_know")

    def of(self, *polarities: str) -> NDArray[np.bool_]:
        """Mask of the levels with any of the given polarities."""
        return np.isin(np.array(self.polarities), polarities)

    @property
    def valid(self) -> NDArray[np.bool_]:
        return ~self.of("dont_know")

    @property
    def score_array(self) -> FloatArray:
        """Scores as floats, NaN for dont_know."""
        return np.array(
            [np.nan if s is None else float(s) for s in self.scores], dtype=np.float64
        )

    @property
    def top(self) -> int:
        if self.top_code is not None:
            return self.codes.index(self.top_code)
        scores = np.where(self.valid, self.score_array, -np.inf)
        return int(np.argmax(scores))

    def satisfied(
        self,
        definition: RateDefinition = "broad",
        *,
        levels: Collection[str] = (),
        neutral_satisfied: bool = False,
    ) -> NDArray[np.bool_]:
        """Mask of the levels counted as satisfied under a campaign setting.

        ``broad``: positive levels (plus neutral ones if ``neutral_satisfied``);
        ``strict``: the top level only; ``levels``: exactly the listed codes,
        which may not include a dont_know level.
        """
        if definition == "broad":
            return (
                self.of("positive", "neutral")
                if neutral_satisfied
                else self.of("positive")
            )
        if definition == "strict":
            mask = np.zeros(len(self.codes), dtype=bool)
            mask[self.top] = True
            return mask
        if definition == "levels":
            if unknown := set(levels) - set(self.codes):
                raise ValueError(f"unknown level codes: {sorted(unknown)}")
            mask = np.isin(np.array(self.codes), list(levels))
            if not mask.any():
                raise ValueError("the list of satisfied levels is empty")
            if np.any(mask & ~self.valid):
                raise ValueError("a dont_know level cannot count as satisfied")
            return mask
        raise ValueError(f"unknown rate definition {definition!r}")


@dataclass(frozen=True)
class Rates:
    """Per-group counts and rates; every rate is NaN where its denominator is 0.

    ``k`` and ``rate`` follow the campaign's chosen definition (what tests,
    intervals and flags use); ``broad`` and ``strict`` are always both given,
    because reports show them side by side.
    """

    n_answered: FloatArray
    n_valid: FloatArray
    k: FloatArray
    rate: FloatArray
    k_broad: FloatArray
    broad: FloatArray
    k_strict: FloatArray
    strict: FloatArray
    k_negative: FloatArray
    dissatisfied: FloatArray
    awareness: FloatArray
    score: FloatArray


def _as_level_counts(counts: ArrayLike, info: LevelInfo) -> FloatArray:
    array = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    if array.ndim != 2 or array.shape[1] != len(info.codes):
        raise ValueError(
            f"counts must be (groups × {len(info.codes)} levels), got {array.shape}"
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError("counts must be finite and non-negative")
    if np.any(array != np.round(array)):
        raise ValueError("counts must be whole numbers")
    return array


def rates(
    counts: ArrayLike,
    info: LevelInfo,
    *,
    definition: RateDefinition = "broad",
    satisfied_levels: Collection[str] = (),
    neutral_satisfied: bool = False,
) -> Rates:
    """The rates of METHODS.md §2 for each group (row) of ``counts``.

    ``N_answered`` = all answers; ``N_valid`` = ``N_answered − n(dont_know)``;
    满意率 broad = ``n(positive [+ neutral]) / N_valid``; strict =
    ``n(top) / N_valid``; 不满意率 = ``n(negative) / N_valid``; 知晓率 =
    ``1 − n(dont_know) / N_answered``; 综合得分 = ``Σ score·n / N_valid``.
    ``neutral_satisfied`` applies to the broad rate; ``satisfied_levels`` (codes)
    is used when ``definition == "levels"``. A one-dimensional ``counts`` is one
    group.
    """
    array = _as_level_counts(counts, info)
    chosen = info.satisfied(
        definition, levels=satisfied_levels, neutral_satisfied=neutral_satisfied
    )
    broad_mask = info.satisfied("broad", neutral_satisfied=neutral_satisfied)
    strict_mask = info.satisfied("strict")

    n_answered = array.sum(axis=1)
    n_dont_know = array[:, ~info.valid].sum(axis=1)
    n_valid = n_answered - n_dont_know
    k = array[:, chosen].sum(axis=1)
    k_broad = array[:, broad_mask].sum(axis=1)
    k_strict = array[:, strict_mask].sum(axis=1)
    k_negative = array[:, info.of("negative")].sum(axis=1)
    score_total = array[:, info.valid] @ info.score_array[info.valid]
    return Rates(
        n_answered=n_answered,
        n_valid=n_valid,
        k=k,
        rate=proportion(k, n_valid),
        k_broad=k_broad,
        broad=proportion(k_broad, n_valid),
        k_strict=k_strict,
        strict=proportion(k_strict, n_valid),
        k_negative=k_negative,
        dissatisfied=proportion(k_negative, n_valid),
        awareness=1 - proportion(n_dont_know, n_answered),
        score=proportion(score_total, n_valid),
    )


def score_interval(
    level_counts: ArrayLike,
    scores: ArrayLike,
    *,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Equal-tailed posterior interval for the 综合得分 of each group.

    The shares θ of a group's scored levels get the posterior Dirichlet(k + ½)
    (Jeffreys' prior, ½ for every scored level of the scale, answered or not), so
    the score ``S = Σ s_j θ_j`` has mean ``Σ s_j a_j / a₀`` and variance
    ``(Σ s_j² a_j / a₀ − mean²) / (a₀ + 1)`` with ``a = k + ½``, ``a₀ = Σ a``.
    ``S`` lies between the lowest and the highest score; the interval is that of
    the Beta distribution on this range with the same mean and variance (the
    moments of a Dirichlet combination, matched as in Johnson & Kotz's
    approximations of linear combinations of Dirichlet components). With two
    scored levels ``S`` is exactly this Beta. Closed form: deterministic, and
    about 20 ms for 10,000 groups.

    Unlike the percentile bootstrap it replaces, the interval has width even
    when every answer is the same (10 × 满意 on ``three_dk``: 78.2 to 99.9) and
    covers about 95% at n = 10–50 (tests/analysis/test_defects_score.py).
    Columns whose score is NaN (dont_know) are left out, as in the score
    itself. NaN where ``N_valid == 0``.
    """
    confidence = check_probability(confidence, "confidence", open_interval=True)
    score_arr = np.asarray(scores, dtype=np.float64)
    array = np.atleast_2d(np.asarray(level_counts, dtype=np.float64))
    if array.ndim != 2 or array.shape[1] != score_arr.shape[0]:
        raise ValueError("level_counts must be (groups × levels) matching scores")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError("counts must be finite and non-negative")
    valid = ~np.isnan(score_arr)
    if not valid.any():
        raise ValueError("a scale needs at least one scored level")
    counts, score_arr = array[:, valid], score_arr[valid]
    n_valid = counts.sum(axis=1)
    lowest, highest = float(score_arr.min()), float(score_arr.max())
    if highest == lowest:
        value = np.where(n_valid > 0, lowest, np.nan)
        return value, value.copy()

    # The score rescaled to [0, 1]: its posterior mean and variance.
    unit = (score_arr - lowest) / (highest - lowest)
    a = counts + 0.5
    a0 = a.sum(axis=1)
    mean = (a @ unit) / a0
    variance = ((a @ unit**2) / a0 - mean**2) / (a0 + 1)
    # Beta(mean·c, (1 − mean)·c) has this mean and variance; c ≥ a₀ > 0.
    c = mean * (1 - mean) / variance - 1
    tail = (1 - confidence) / 2
    low = betaincinv(mean * c, (1 - mean) * c, tail)
    high = betaincinv(mean * c, (1 - mean) * c, 1 - tail)
    empty = n_valid == 0
    return (
        np.where(empty, np.nan, lowest + (highest - lowest) * low),
        np.where(empty, np.nan, lowest + (highest - lowest) * high),
    )
