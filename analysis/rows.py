"""From a round's counts to its rows, before any statistic: every group of every level.

Groups:
- question: one unit's answers to one scale question;
- dimension: one unit's answers to the items of one 维度, pooled, with an n of
  respondents (:func:`_respondent_scale`);
- unit: the unit's 总体评价 question when its questionnaire has one (``source =
  headline``), otherwise the mean of its item rates (``source = items``);
- category: the unit rows of one 二级党组织 category pooled; school: all unit rows.

:mod:`analysis.results` computes their figures.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from organizations.models import Unit
from questionnaires.models import Campaign, Question, ScaleLevel

from . import stats
from .aggregate import CampaignCounts, campaign_counts, campaign_points
from .models import Result

# Counts that a row averaged over items carries unrounded (Row.exact).
EXACT_COUNTS = ("k", "k_strict", "k_negative", "n_dont_know")


@dataclass
class Row:
    """One group's counts before statistics."""

    level: str
    unit: Unit | None = None
    category: str = ""
    unit_kind: str = ""
    dimension_code: str = ""
    question_code: str = ""
    label: str = ""
    source: str = ""
    n_responses: int = 0
    ballots: tuple[int, int] | None = None  # (issued, used) in ballot mode
    n_answered: int = 0
    n_valid: int = 0
    k: int = 0
    k_strict: int = 0
    k_negative: int = 0
    n_dont_know: int = 0
    score_total: float = 0.0
    # For groups on one scale: the level counts, the scale, and the scores.
    level_counts: dict[str, int] = field(default_factory=dict)
    scale_id: int | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    # A row averaged over items (_respondent_scale): EXACT_COUNTS unrounded;
    # the int fields above hold them rounded, for the record.
    exact: dict[str, float] = field(default_factory=dict)

    def count(self, name: str) -> float:
        """One of EXACT_COUNTS, unrounded: what the statistics use."""
        return self.exact.get(name, getattr(self, name))

    def add(self, other: Row) -> None:
        exact = (
            {name: self.count(name) + other.count(name) for name in EXACT_COUNTS}
            if self.exact or other.exact
            else {}
        )
        for name in (
            "n_answered",
            "n_valid",
            "k",
            "k_strict",
            "k_negative",
            "n_dont_know",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.score_total += other.score_total
        if exact:
            self.exact = exact
            for name, value in exact.items():
                setattr(self, name, round(value))

    def key(self) -> tuple:
        return (
            self.level,
            self.unit.pk if self.unit else None,
            self.category,
            self.dimension_code,
            self.question_code,
        )


def level_scales(
    question_scale_ids: set[int],
) -> dict[int, tuple[list[ScaleLevel], stats.LevelInfo]]:
    levels_by_scale: dict[int, list[ScaleLevel]] = defaultdict(list)
    for level in ScaleLevel.objects.filter(scale_id__in=question_scale_ids).order_by(
        "scale_id", "order"
    ):
        levels_by_scale[level.scale_id].append(level)
    return {
        scale_id: (
            levels,
            stats.LevelInfo(
                codes=tuple(level.code for level in levels),
                polarities=tuple(level.polarity for level in levels),
                scores=tuple(
                    None if level.score is None else float(level.score)
                    for level in levels
                ),
            ),
        )
        for scale_id, levels in levels_by_scale.items()
    }


def rate_options(campaign: Campaign, info: stats.LevelInfo) -> dict[str, Any]:
    definition = campaign.rate_definition
    chosen = [code for code in campaign.rate_levels if code in info.codes]
    if definition == Campaign.RateDefinition.LEVELS and not chosen:
        definition = (
            Campaign.RateDefinition.BROAD
        )  # the listed codes are not on this scale
    return {
        "definition": definition,
        "satisfied_levels": chosen,
        "neutral_satisfied": campaign.neutral_counts_as_satisfied,
    }


def build_rows(
    campaign: Campaign, counts: CampaignCounts | None = None
) -> tuple[list[Row], int]:
    """Question, dimension, unit, category and school rows of a round, with counts
    (``counts``: the round's :func:`campaign_counts`, read here if not given)."""
    points = campaign_points(campaign.pk)
    if counts is None:
        counts = campaign_counts(campaign.pk)
    questionnaire_ids = {point.questionnaire_id for point in points}
    questions = list(
        Question.objects.filter(
            questionnaire_id__in=questionnaire_ids, kind=Question.Kind.SCALE
        )
        .select_related("dimension")
        .order_by("order", "id")
    )
    by_questionnaire: dict[int, list[Question]] = defaultdict(list)
    for question in questions:
        by_questionnaire[question.questionnaire_id].append(question)
    scales = level_scales({q.scale_id for q in questions})

    # Question rows, computed per scale in one vectorised call.
    question_rows: list[Row] = []
    for point in points:
        unit = point.unit
        for question in by_questionnaire[point.questionnaire_id]:
            levels, _info = scales[question.scale_id]
            found = counts.levels.get((unit.pk, question.pk), {})
            question_rows.append(
                Row(
                    level=Result.Level.QUESTION,
                    unit=unit,
                    category=unit.committee_category,
                    unit_kind=unit.kind,
                    dimension_code=question.dimension.code
                    if question.dimension
                    else "",
                    question_code=question.code,
                    label=question.text,
                    source="headline" if question.headline else "",
                    n_responses=counts.responses.get(unit.pk, 0),
                    level_counts={
                        level.code: found.get(level.pk, 0) for level in levels
                    },
                    scale_id=question.scale_id,
                )
            )
    by_scale: dict[int, list[Row]] = defaultdict(list)
    for row in question_rows:
        by_scale[row.scale_id].append(row)
    for scale_id, rows in by_scale.items():
        levels, info = scales[scale_id]
        matrix = np.array(
            [[row.level_counts[code] for code in info.codes] for row in rows]
        )
        result = stats.rates(matrix, info, **rate_options(campaign, info))
        scores = np.nan_to_num(info.score_array)
        totals = matrix[:, info.valid] @ scores[info.valid]
        for i, row in enumerate(rows):
            row.n_answered = int(result.n_answered[i])
            row.n_valid = int(result.n_valid[i])
            row.k = int(result.k[i])
            row.k_strict = int(result.k_strict[i])
            row.k_negative = int(result.k_negative[i])
            row.n_dont_know = row.n_answered - row.n_valid
            row.score_total = float(totals[i])

    # Dimension and unit rows.
    dimension_rows: dict[tuple[int, str], Row] = {}
    unit_rows: dict[int, Row] = {}
    titles = {q.dimension.code: q.dimension.title for q in questions if q.dimension}
    for row in question_rows:
        unit = row.unit
        if row.dimension_code:
            dim = dimension_rows.setdefault(
                (unit.pk, row.dimension_code),
                Row(
                    level=Result.Level.DIMENSION,
                    unit=unit,
                    category=row.category,
                    unit_kind=row.unit_kind,
                    dimension_code=row.dimension_code,
                    label=titles[row.dimension_code],
                    n_responses=row.n_responses,
                ),
            )
            dim.add(row)
    rows_of_unit: dict[int, list[Row]] = defaultdict(list)
    for row in question_rows:
        rows_of_unit[row.unit.pk].append(row)
    for point in points:
        unit = point.unit
        own = rows_of_unit[unit.pk]
        headline = next((row for row in own if row.source == "headline"), None)
        summary = Row(
            level=Result.Level.UNIT,
            unit=unit,
            category=unit.committee_category,
            unit_kind=unit.kind,
            label=unit.name,
            source="headline" if headline else "items",
            n_responses=counts.responses.get(unit.pk, 0),
            ballots=counts.ballots.get(unit.pk),
        )
        for row in [headline] if headline else own:
            summary.add(row)
        if headline:
            summary.level_counts, summary.scale_id = (
                dict(headline.level_counts),
                headline.scale_id,
            )
        unit_rows[unit.pk] = summary

    for (unit_pk, _code), dim in dimension_rows.items():
        _respondent_scale(
            dim,
            [
                r
                for r in rows_of_unit[unit_pk]
                if r.dimension_code == dim.dimension_code
            ],
            average=False,
        )
    for unit_pk, summary in unit_rows.items():
        if summary.source == "items":
            _respondent_scale(summary, rows_of_unit[unit_pk], average=True)

    # Category and school rows pool the unit rows.
    category_rows: dict[str, Row] = {}
    school = Row(
        level=Result.Level.SCHOOL,
        unit=campaign.organizer,
        label=campaign.organizer.name,
    )
    for row in unit_rows.values():
        school.add(row)
        school.n_responses += row.n_responses
        if row.ballots:
            issued, used = school.ballots or (0, 0)
            school.ballots = (issued + row.ballots[0], used + row.ballots[1])
        if row.category:
            category = category_rows.setdefault(
                row.category,
                Row(
                    level=Result.Level.CATEGORY,
                    category=row.category,
                    label=str(Unit.Category(row.category).label),
                ),
            )
            category.add(row)
            category.n_responses += row.n_responses
    rows = [
        school,
        *category_rows.values(),
        *unit_rows.values(),
        *dimension_rows.values(),
        *question_rows,
    ]
    rows = [
        row
        for row in rows
        if row.n_answered > 0 or row.level in (Result.Level.UNIT, Result.Level.SCHOOL)
    ]
    return rows, sum(counts.responses.values())


def _respondent_scale(row: Row, items: list[Row], *, average: bool) -> None:
    """Give a row over several items its rates, and an n of respondents.

    Rates (METHODS.md §2): a dimension pools its items' answers; a unit without
    a 总体评价 question (``average``) takes the mean of its item rates, each item
    with valid answers counting once. The strict and dissatisfied rates, the 知晓率
    and the 综合得分 follow the same rule.

    n: one person answers every item, so the answers are not independent, and
    testing them as if they were would overstate the evidence (and let 8 people
    pass a threshold of 10 with 2 items). The rate is ``Σ w_i p_i`` (``w_i`` =
    ``n_i / Σ n`` for a pool, ``1 / m`` for a mean); its standard error is at most
    ``Σ w_i sqrt(p(1 − p) / n_i)``, reached when each person answers every item
    alike. n is the number of respondents that gives a binomial rate that
    standard error, ``1 / (Σ w_i / √n_i)²``, to the nearest whole number (it is
    already the worst case, so it is not rounded down as well): the respondents when
    every item has the same number of valid answers, and between the smallest
    and the largest item n otherwise. k = rate × n, unrounded, in ``row.exact``
    (the int fields keep it rounded, for the record): the flag rules and the
    page read the same rate and n (docs/methods.md §2, §3).
    """
    used = [item for item in items if item.n_valid > 0]
    if not used:
        return
    sizes = np.array([item.n_valid for item in used], dtype=float)
    weights = np.full(len(used), 1 / len(used)) if average else sizes / sizes.sum()

    def rate_of(name: str) -> float:
        return float(weights @ np.array([getattr(i, name) / i.n_valid for i in used]))

    rate, strict, negative = rate_of("k"), rate_of("k_strict"), rate_of("k_negative")
    score = rate_of("score_total")
    seen = [item for item in items if item.n_answered > 0]
    if average:
        awareness = float(np.mean([i.n_valid / i.n_answered for i in seen]))
    else:
        awareness = sum(i.n_valid for i in seen) / sum(i.n_answered for i in seen)
    n = math.floor(1 / float(weights @ (1 / np.sqrt(sizes))) ** 2 + 0.5)
    row.n_answered = max(item.n_answered for item in items)
    row.n_valid = n
    row.exact = {
        "k": rate * n,
        "k_strict": strict * n,
        "k_negative": negative * n,
        # 知晓率 × respondents: for a mean, the mean number of 不了解 per item.
        "n_dont_know": (1 - awareness) * row.n_answered,
    }
    for name, value in row.exact.items():
        setattr(row, name, round(value))
    row.score_total = score * n
