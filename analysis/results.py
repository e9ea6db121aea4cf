"""From a round's rows (:mod:`analysis.rows`) to every figure of METHODS.md §2–§6:
rates, intervals, tests, flags, shrinkage, score intervals, and the comparison
with the baseline round.

Statistics come from :mod:`analysis.stats`; families for Benjamini–Hochberg are the
rows of one level, one unit kind and one dimension/question code.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from questionnaires.models import Campaign, ScaleLevel

from . import stats
from .baseline_priors import BaselinePriors, guard_arguments
from .models import AnalysisRun, Result
from .rows import Row, level_scales

CONFIDENCE = 0.95
RED_MARGIN = 0.05
Q_THRESHOLD = 0.05
# The flag rules refuse a target of 1 (stats.check_target: one dissatisfied
# answer would give p = 0); the round settings refuse it too. A round stored
# with 1 before that is tested against the highest target they accept.
TESTED_TARGET_MAX = 0.999
# The test of the tasks' re-survey verdicts too (rectification.resurvey): one
# table, one test, one verdict. Fisher's above stats.BOSCHLOO_MAX_TABLES.
IMPROVEMENT_TEST = "boschloo"


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
        "ranking": (
            "empirical-Bayes beta-binomial posterior mean; weak prior"
            " -1/2 log(1 + alpha + beta) on the concentration"
        ),
        "overdispersion": (
            "spiegelhalter phi per family from z-scores around the pooled rate,"
            " winsorised 10%/90%, divided by 0.679; applied when >= 10 units and"
            " phi > chi2(0.95, I - 1) / I: tests and intervals on"
            " (k / phi, n / phi), funnel limits widened by sqrt(phi)"
        ),
        "probability": "jeffreys prior, P(p < target)",
        "tested_target": tested_target(campaign),
        "score_interval": (
            "dirichlet(k + 1/2) posterior of the level shares, equal-tailed,"
            " moment-matched beta on [lowest, highest score]"
        ),
        "before_after": f"newcombe hybrid wilson; one-sided {IMPROVEMENT_TEST} exact; cohen's h; mann-whitney; verdict: lower bound >= target, or the test and beyond the baseline's shrunken estimate",
        "dimension_rate": (
            "answers to the dimension's items pooled; n is the effective respondents"
            " 1 / (sum of w_i / sqrt(n_i))^2, w_i = n_i / sum n, to the nearest whole;"
            " k = rate x n unrounded"
        ),
        "unit_rate_without_headline": (
            "mean of the item rates; n is the effective respondents"
            " 1 / (mean of 1 / sqrt(n_i))^2, to the nearest whole; k = rate x n unrounded"
        ),
    }


def tested_target(campaign: Campaign) -> float:
    """The target the flag rules use: the round's, or TESTED_TARGET_MAX for a
    round stored with a target of 1 (which the test cannot use)."""
    return min(float(campaign.target), TESTED_TARGET_MAX)


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
    hidden: frozenset[int] | set[int] = frozenset(),
) -> dict[str, Any]:
    """Fill ``row.stats`` with intervals, tests, flags, shrinkage and score intervals.

    Returns the method state of the shown families, for ``AnalysisRun.settings``:
    ``{"families": [{level, unit_kind, dimension_code, question_code,
    overdispersion: {phi, applied, units, threshold}, shrinkage: {status,
    concentration, prior_mean, pooling} or None}]}`` (docs/methods.md §3).

    Rows averaged over items are assessed on their unrounded ``k`` (Row.exact),
    so the flag reads the rate the page prints.

    ``hidden`` holds the ``id()`` of the rows suppression hides. Figures that
    depend on a whole family (q-values, flags, shrinkage) are computed for
    shown rows from shown rows alone: else a hidden unit's counts would move its
    siblings' published figures, and could be solved back out of them (a
    completely pooled shrinkage is the family's pooled rate). Hidden rows, read only in the office's raw view, are assessed within
    the whole family.
    """
    target = tested_target(campaign)
    k = np.array([row.count("k") for row in rows], dtype=float)
    n = np.array([row.n_valid for row in rows], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, k / n, np.nan)
        strict = np.array([r.count("k_strict") for r in rows]) / n
        strict = np.where(n > 0, strict, np.nan)
        negative = np.array([r.count("k_negative") for r in rows]) / n
        negative = np.where(n > 0, negative, np.nan)
        answered = np.array([row.n_answered for row in rows], dtype=float)
        unaware = np.array([r.count("n_dont_know") for r in rows]) / answered
        awareness = np.where(answered > 0, 1 - unaware, np.nan)
        score = np.where(n > 0, np.array([r.score_total for r in rows]) / n, np.nan)
    for index, row in enumerate(rows):
        row.stats.update(
            rate=rate[index],
            rate_strict=strict[index],
            rate_negative=negative[index],
            awareness=awareness[index],
            score=score[index],
        )
    families = []
    for key, indices in _families(rows).items():
        shown = [i for i in indices if id(rows[i]) not in hidden]
        held = [i for i in indices if id(rows[i]) in hidden]
        state = _assess_family(rows, shown, shown, k, n, campaign, target)
        if state is not None:
            level, unit_kind, dimension_code, question_code = key
            families.append(
                {
                    "level": level,
                    "unit_kind": unit_kind,
                    "dimension_code": dimension_code,
                    "question_code": question_code,
                    **state,
                }
            )
        if held:
            _assess_family(rows, indices, held, k, n, campaign, target)
    _score_intervals(rows)
    return {"families": families}


def _assess_family(
    rows: list[Row],
    indices: list[int],
    assign: list[int],
    k: np.ndarray,
    n: np.ndarray,
    campaign: Campaign,
    target: float,
) -> dict[str, Any] | None:
    """Assess the rows ``indices`` as one family; store the figures of ``assign``;
    return the family's φ and shrinkage state (None for an empty family).

    φ is estimated per family, the units tested together: how far a family's
    units spread beyond binomial noise depends on the item and the unit kind."""
    if not indices:
        return None
    fk, fn = k[indices], n[indices]
    assessed = stats.assess_units(
        fk,
        fn,
        target,
        min_n=campaign.min_flag_size,
        red_margin=RED_MARGIN,
        q_threshold=Q_THRESHOLD,
        confidence=CONFIDENCE,
        adjust_overdispersion=True,
    )
    # The beta-binomial likelihood needs whole counts: a unit averaged over
    # items is ranked on k rounded (at most ½ / n from its own rate).
    fit = (
        stats.beta_binomial_shrinkage(np.round(fk), fn)
        if rows[indices[0]].level == Result.Level.UNIT
        else None
    )
    shrunk = fit.posterior_mean if fit else np.full(len(indices), np.nan)
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
    return {
        "overdispersion": assessed.overdispersion.as_dict(),
        "shrinkage": fit.as_dict() if fit else None,
    }


def _score_intervals(rows: list[Row]) -> None:
    """The 综合得分 interval of every row on one scale. Each row's interval is a
    function of its own counts alone (no random draws), so a hidden row moves
    no shown row's figures."""
    by_scale: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if row.scale_id is not None and row.n_valid > 0:
            by_scale[row.scale_id].append(row)
    if not by_scale:
        return
    scales = level_scales(set(by_scale))
    for scale_id, group in by_scale.items():
        _levels, info = scales[scale_id]
        matrix = np.array(
            [[row.level_counts[code] for code in info.codes] for row in group]
        )
        low, high = stats.score_interval(
            matrix, info.score_array, confidence=CONFIDENCE
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
    # Every row shows its p-value, so every row is tested (once per distinct
    # table); the verdict is the tasks' rule on the same figures.
    p_improved = stats.improvement_test(k0, n0, k1, n1, method=IMPROVEMENT_TEST)
    h = stats.cohens_h(k1 / n1, k0 / n0)
    priors = BaselinePriors(before.values())
    prior = [priors.of(old) for _, old in pairs]
    decision = stats.improvement_decision(
        k0,
        n0,
        k1,
        n1,
        float(campaign.target),
        method=IMPROVEMENT_TEST,
        min_n=campaign.min_flag_size,
        p_value=p_improved,
        **guard_arguments(prior),
    )
    verdict = decision.verdict
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
