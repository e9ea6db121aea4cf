"""From a round's counts to Result rows: every level, every figure of METHODS.md §2–§6.

Groups:
- question: one unit's answers to one scale question;
- dimension: one unit's answers to the items of one 维度, pooled (answers, not people);
- unit: the unit's 总体评价 question when its questionnaire has one (``source =
  headline``), otherwise its scale items pooled (``source = items``);
- category: the unit rows of one 二级党组织 category pooled; school: all unit rows.

Statistics come from :mod:`analysis.stats`; families for Benjamini–Hochberg are the
rows of one level, one unit kind and one dimension/question code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from organizations.models import Unit
from questionnaires.models import Campaign, Question, ScaleLevel

from . import stats
from .aggregate import CampaignCounts, campaign_counts, campaign_points
from .models import AnalysisRun, Result

CONFIDENCE = 0.95
RED_MARGIN = 0.05
Q_THRESHOLD = 0.05
BOOTSTRAP_RESAMPLES = 1000
IMPROVEMENT_TEST = (
    "fisher"  # vectorised; Boschloo (one unit at a time) is used per task
)


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

    def add(self, other: Row) -> None:
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

    def key(self) -> tuple:
        return (
            self.level,
            self.unit.pk if self.unit else None,
            self.category,
            self.dimension_code,
            self.question_code,
        )


def method_settings(campaign: Campaign) -> dict[str, Any]:
    """Everything a reader needs to know how the figures were made."""
    return {
        **campaign.settings_snapshot(),
        "confidence": CONFIDENCE,
        "interval": "wilson (two-sided)",
        "confirmation": "clopper-pearson one-sided lower bound >= target",
        "test": "exact binomial, one-sided, H0: p >= target",
        "multiple_testing": "benjamini-hochberg per level, unit kind and item",
        "red_margin": RED_MARGIN,
        "q_threshold": Q_THRESHOLD,
        "ranking": "empirical-Bayes beta-binomial posterior mean",
        "probability": "jeffreys prior, P(p < target)",
        "score_interval": f"percentile bootstrap, {BOOTSTRAP_RESAMPLES} resamples",
        "before_after": f"newcombe hybrid wilson; one-sided {IMPROVEMENT_TEST} exact; cohen's h; mann-whitney",
        "dimension_rate": (
            "answers to the dimension's items pooled; n is the respondents (the largest"
            " item n) and tests and intervals use that n"
        ),
    }


def _scales(
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


def _rate_options(campaign: Campaign, info: stats.LevelInfo) -> dict[str, Any]:
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
    scales = _scales({q.scale_id for q in questions})

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
        result = stats.rates(matrix, info, **_rate_options(campaign, info))
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
        )
    for unit_pk, summary in unit_rows.items():
        if summary.source == "items":
            _respondent_scale(summary, rows_of_unit[unit_pk])

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


def _respondent_scale(row: Row, items: list[Row]) -> None:
    """Put a row that pools several items' answers on the scale of respondents.

    One person answers every item of a dimension, so pooled answers are not
    independent: testing them as if they were would overstate the evidence and let
    8 people pass a threshold of 10 with 2 items. The rate stays the pooled rate;
    n becomes the largest item's n (the respondents), k the rate times that n.
    """
    if not items or row.n_valid == 0:
        return
    rate = row.k / row.n_valid
    strict, negative = row.k_strict / row.n_valid, row.k_negative / row.n_valid
    score = row.score_total / row.n_valid
    row.n_answered = max(item.n_answered for item in items)
    row.n_valid = max(item.n_valid for item in items)
    row.n_dont_know = row.n_answered - row.n_valid
    row.k = round(rate * row.n_valid)
    row.k_strict = round(strict * row.n_valid)
    row.k_negative = round(negative * row.n_valid)
    row.score_total = score * row.n_valid
    row.stats["pooled_rate"] = rate


def _families(rows: list[Row]) -> dict[tuple, list[int]]:
    families: dict[tuple, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        families[
            (row.level, row.unit_kind, row.dimension_code, row.question_code)
        ].append(index)
    return families


def compute_statistics(
    rows: list[Row],
    campaign: Campaign,
    *,
    seed: int,
    hidden: frozenset[int] | set[int] = frozenset(),
) -> None:
    """Fill ``row.stats`` with intervals, tests, flags, shrinkage and score intervals.

    ``hidden`` holds the ``id()`` of the rows suppression hides. Figures that
    depend on a whole family (q-values, flags, shrinkage, and the random draws of
    the score bootstrap) are computed for shown rows from shown rows alone: else a
    hidden unit's counts would move its siblings' published figures, and could be
    solved back out of them (a completely pooled shrinkage is the family's pooled
    rate). Hidden rows, read only in the office's raw view, are assessed within
    the whole family.
    """
    target = float(campaign.target)
    k = np.array([row.k for row in rows], dtype=float)
    n = np.array([row.n_valid for row in rows], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, k / n, np.nan)
        strict = np.where(n > 0, np.array([r.k_strict for r in rows]) / n, np.nan)
        negative = np.where(n > 0, np.array([r.k_negative for r in rows]) / n, np.nan)
        answered = np.array([row.n_answered for row in rows], dtype=float)
        awareness = np.where(
            answered > 0, 1 - np.array([r.n_dont_know for r in rows]) / answered, np.nan
        )
        score = np.where(n > 0, np.array([r.score_total for r in rows]) / n, np.nan)
    for index, row in enumerate(rows):
        row.stats.update(
            rate=row.stats.get("pooled_rate", rate[index]),
            rate_strict=strict[index],
            rate_negative=negative[index],
            awareness=awareness[index],
            score=score[index],
        )
    for indices in _families(rows).values():
        shown = [i for i in indices if id(rows[i]) not in hidden]
        held = [i for i in indices if id(rows[i]) in hidden]
        _assess_family(rows, shown, shown, k, n, campaign, target)
        if held:
            _assess_family(rows, indices, held, k, n, campaign, target)
    _score_intervals(rows, seed=seed, hidden=hidden)


def _assess_family(
    rows: list[Row],
    indices: list[int],
    assign: list[int],
    k: np.ndarray,
    n: np.ndarray,
    campaign: Campaign,
    target: float,
) -> None:
    """Assess the rows ``indices`` as one family; store the figures of ``assign``."""
    if not indices:
        return
    fk, fn = k[indices], n[indices]
    assessed = stats.assess_units(
        fk,
        fn,
        target,
        min_n=campaign.min_flag_size,
        red_margin=RED_MARGIN,
        q_threshold=Q_THRESHOLD,
        confidence=CONFIDENCE,
    )
    shrunk = (
        stats.beta_binomial_shrinkage(fk, fn).posterior_mean
        if rows[indices[0]].level == Result.Level.UNIT
        else np.full(len(indices), np.nan)
    )
    wanted = set(assign)
    for j, index in enumerate(indices):
        if index not in wanted:
            continue
        rows[index].stats.update(
            ci_low=assessed.wilson_low[j],
            ci_high=assessed.wilson_high[j],
            exact_lower=assessed.exact_lower[j],
            p_value=assessed.p_value[j],
            q_value=assessed.q_value[j],
            flag=str(assessed.flag[j]),
            prob_below=assessed.prob_below_target[j],
            shrunk=shrunk[j],
        )


def _score_intervals(
    rows: list[Row], *, seed: int, hidden: frozenset[int] | set[int] = frozenset()
) -> None:
    rng = np.random.default_rng(seed)
    # Shown rows draw first: how many random numbers a multinomial draw uses
    # depends on its counts, so a hidden row drawn before would shift them.
    shown: dict[int, list[Row]] = defaultdict(list)
    held: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if row.scale_id is not None and row.n_valid > 0:
            (held if id(row) in hidden else shown)[row.scale_id].append(row)
    if not shown and not held:
        return
    scales = _scales(set(shown) | set(held))
    groups = [*shown.items(), *held.items()]
    for scale_id, group in groups:
        _levels, info = scales[scale_id]
        matrix = np.array(
            [[row.level_counts[code] for code in info.codes] for row in group]
        )
        low, high = stats.bootstrap_score_interval(
            matrix,
            info.score_array,
            n_boot=BOOTSTRAP_RESAMPLES,
            confidence=CONFIDENCE,
            rng=rng,
        )
        for i, row in enumerate(group):
            row.stats.update(score_ci_low=low[i], score_ci_high=high[i])


def compare_with_baseline(rows: list[Row], campaign: Campaign) -> None:
    """Before/after against the latest analysis of the baseline round (METHODS.md §4).

    A row hidden in the baseline gets no comparison: its count, rate or difference
    beside the visible row would give the hidden figures away. (A row hidden now
    loses every figure when it is read, the comparison with it.) A baseline of
    another organiser is ignored, whatever set it."""
    baseline = campaign.baseline
    if baseline is None or baseline.organizer_id != campaign.organizer_id:
        return
    baseline_run = (
        AnalysisRun.objects.filter(campaign_id=campaign.baseline_id)
        .order_by("-created_at", "-id")
        .first()
    )
    if baseline_run is None:
        return
    before = {
        (r.level, r.unit_id, r.category, r.dimension_code, r.question_code): r
        for r in baseline_run.results.all()
    }
    pairs = [(row, before.get(row.key())) for row in rows]
    pairs = [
        (row, old)
        for row, old in pairs
        if old is not None
        and not old.suppressed
        and old.n_valid > 0
        and row.n_valid > 0
    ]
    if not pairs:
        return
    k1 = np.array([row.k for row, _ in pairs], dtype=float)
    n1 = np.array([row.n_valid for row, _ in pairs], dtype=float)
    k0 = np.array([old.n_satisfied for _, old in pairs], dtype=float)
    n0 = np.array([old.n_valid for _, old in pairs], dtype=float)
    diff, low, high = stats.newcombe_difference_interval(k1, n1, k0, n0, CONFIDENCE)
    p_improved = stats.improvement_test(k0, n0, k1, n1, method=IMPROVEMENT_TEST)
    h = stats.cohens_h(k1 / n1, k0 / n0)
    verdict = stats.improvement_verdict(
        k0,
        n0,
        k1,
        n1,
        float(campaign.target),
        method=IMPROVEMENT_TEST,
        min_n=campaign.min_flag_size,
    )
    orders = _worst_to_best(
        {row.scale_id for row, _ in pairs if row.scale_id is not None}
    )
    for i, (row, old) in enumerate(pairs):
        row.stats.update(
            baseline_n_valid=old.n_valid,
            baseline_rate=old.rate,
            diff=diff[i],
            diff_ci_low=low[i],
            diff_ci_high=high[i],
            p_improved=p_improved[i],
            cohens_h=h[i],
            verdict=str(verdict[i]),
        )
        codes = list(row.level_counts)
        if row.scale_id is not None and codes and set(codes) == set(old.level_counts):
            order = orders.get(row.scale_id)
            if order:
                result = stats.mann_whitney(
                    [[old.level_counts[c] for c in codes]],
                    [[row.level_counts[c] for c in codes]],
                    [codes.index(c) for c in order],
                )
                row.stats.update(
                    mw_p=result.pvalue[0], rank_biserial=result.rank_biserial[0]
                )


def _worst_to_best(scale_ids: set[int]) -> dict[int, list[str]]:
    """Scored level codes of each scale from the worst to the best, in one query."""
    orders: dict[int, list[str]] = defaultdict(list)
    levels = ScaleLevel.objects.filter(scale_id__in=scale_ids, score__isnull=False)
    for scale_id, code in levels.order_by("scale_id", "score").values_list(
        "scale_id", "code"
    ):
        orders[scale_id].append(code)
    return dict(orders)
