"""Questionnaire and response quality from the round's answer patterns (METHODS.md §5).

Cronbach's α of every dimension of every questionnaire version of a round, and the
straight-lining count of every point, come from the same pass over the answers as
the level counts (:func:`analysis.aggregate.answer_patterns`): one row per
distinct (point, answer pattern) with its number of responses, unpacked here with
numpy. Nothing is loaded per answer or per response, and no query runs per
dimension.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from . import stats
from .aggregate import AnswerPatterns, PatternItem, answer_patterns

STRAIGHT_LINING_MIN_ITEMS = 8


@dataclass
class RoundQuality:
    """α per (questionnaire version id, dimension code); straight-liners per point."""

    alphas: dict[tuple[int, str], dict[str, object]]
    straight_lining: dict[int, int]
    versions: dict[int, tuple[str, int]]  # questionnaire id -> (key, version)

    def alpha_key(self, questionnaire_id: int, code: str) -> str:
        """``key:code``, or ``key@vN:code`` when the round uses several versions
        of the questionnaire ``key``."""
        key, version = self.versions[questionnaire_id]
        same_key = [other for other, (k, _v) in self.versions.items() if k == key]
        return f"{key}:{code}" if len(same_key) == 1 else f"{key}@v{version}:{code}"

    def alpha_report(self) -> dict[str, dict[str, object]]:
        """The α figures as a run stores them, sorted by key."""
        named = {self.alpha_key(*key): value for key, value in self.alphas.items()}
        return dict(sorted(named.items()))


def _alpha(scores: np.ndarray, weights: np.ndarray) -> tuple[float | None, int]:
    """Cronbach (1951) α of ``scores`` (patterns × items, NaN = missing or
    unscored), each pattern standing for ``weights`` respondents, over the
    complete ones (listwise deletion); returns (α, respondents)."""
    k = scores.shape[1]
    complete = ~np.isnan(scores).any(axis=1)
    x, w = scores[complete], weights[complete].astype(np.float64)
    n = int(w.sum())
    if k < 2 or n < 2:
        return None, n

    def variance(values: np.ndarray) -> np.ndarray:
        mean = (values * w[:, None]).sum(axis=0) / n
        return ((values - mean) ** 2 * w[:, None]).sum(axis=0) / (n - 1)

    var_total = float(variance(x.sum(axis=1)[:, None])[0])
    if not var_total:
        return None, n
    return float(k / (k - 1) * (1 - variance(x).sum() / var_total)), n


def _scores(
    patterns: AnswerPatterns, rows: np.ndarray, items: list[PatternItem]
) -> np.ndarray:
    return np.column_stack([item.scores[patterns.field(item, rows)] for item in items])


def _straight_liners(
    patterns: AnswerPatterns, rows: np.ndarray, items: list[PatternItem], min_items: int
) -> np.ndarray:
    """Mask of the rows whose responses gave one level (不了解 included) to every
    scale question they answered, at least ``min_items`` of them: the rule of
    :func:`stats.straight_liners`, applied to the levels' ids."""
    level = np.full((len(rows), len(items)), np.nan)
    for j, item in enumerate(items):
        ids = np.array([np.nan, *item.level_ids], dtype=np.float64)
        level[:, j] = ids[patterns.field(item, rows)]
    return stats.straight_liners(level, min_items)


def round_quality(
    patterns: AnswerPatterns, min_items: int = STRAIGHT_LINING_MIN_ITEMS
) -> RoundQuality:
    """α for every dimension of every questionnaire version used in the round and
    straight-liners per point.

    α is over the respondents who gave a scored answer to every item of the
    dimension in their version (listwise deletion; 不了解 is no score). A
    straight-liner gave the same level to every scale question it answered, at
    least ``min_items`` of them (不了解 counts as a level here): counted and
    reported, never deleted."""
    alphas = {}
    straight: dict[int, int] = defaultdict(int)
    for questionnaire_id, items in patterns.versions.items():
        rows = patterns.rows[patterns.of_version(questionnaire_id)]
        weights = rows[:, -1]
        dimensions: dict[str, list[PatternItem]] = defaultdict(list)
        for item in items:
            if item.dimension:
                dimensions[item.dimension[0]].append(item)
        for code, members in dimensions.items():
            alpha, n = None, 0
            if len(members) >= 2 and len(rows):
                alpha, n = _alpha(_scores(patterns, rows, members), weights)
            alphas[(questionnaire_id, code)] = {
                "title": members[0].dimension[1],
                "items": len(members),
                "n": n,
                "alpha": alpha,
            }
        if len(rows):
            liners = _straight_liners(patterns, rows, items, min_items)
            found = np.bincount(
                rows[liners, 0],
                weights=weights[liners],
                minlength=len(patterns.point_ids),
            )
            for index in np.nonzero(found)[0]:
                straight[patterns.point_ids[index]] += int(found[index])
    return RoundQuality(
        alphas=alphas,
        straight_lining=dict(straight),
        versions=patterns.version_keys,
    )


def campaign_quality(
    campaign_id: int, min_items: int = STRAIGHT_LINING_MIN_ITEMS
) -> RoundQuality:
    """:func:`round_quality` of a round, reading its answer patterns."""
    return round_quality(answer_patterns(campaign_id), min_items)


def campaign_alphas(campaign_id: int) -> dict[str, dict[str, object]]:
    """α for every dimension of every questionnaire version used in the round."""
    return campaign_quality(campaign_id).alpha_report()


def straight_lining_by_point(
    campaign_id: int, min_items: int = STRAIGHT_LINING_MIN_ITEMS
) -> dict[int, int]:
    """Responses per point whose scale answers are all the same level across at
    least ``min_items`` items: counted and reported, never deleted."""
    return campaign_quality(campaign_id, min_items).straight_lining


def dimension_alpha(
    campaign_id: int, question_ids: list[int]
) -> tuple[float | None, int]:
    """α of the given scale items of one version over the round's respondents who
    gave a scored answer to every one of them; returns (α, respondents)."""
    wanted = set(question_ids)
    if len(wanted) < 2:
        return None, 0
    patterns = answer_patterns(campaign_id)
    for questionnaire_id, items in patterns.versions.items():
        members = [item for item in items if item.question_id in wanted]
        if len(members) == len(wanted):
            rows = patterns.rows[patterns.of_version(questionnaire_id)]
            return _alpha(_scores(patterns, rows, members), rows[:, -1])
    return None, 0
