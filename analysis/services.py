"""Analysing a round: results, anonymity decisions and findings, in one transaction."""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from questionnaires.models import Campaign, PendingSubmission, Question
from questionnaires.pool import pool_flush_points
from questionnaires.services import ServiceError, StateError

from .aggregate import campaign_counts
from .bulk_insert import bulk_insert
from .comments import comment_rows, comments_allowed
from .models import AnalysisRun, Finding, Result
from .quality import RoundQuality, round_quality
from .rate_wording import campaign_rate_wording
from .results import compare_with_baseline, compute_statistics, method_settings
from .rows import Row, build_rows
from .suppression import suppress

logger = logging.getLogger(__name__)

RESULT_FIELDS = [
    "alpha",
    "rate",
    "rate_strict",
    "rate_negative",
    "awareness",
    "score",
    "score_ci_low",
    "score_ci_high",
    "ci_low",
    "ci_high",
    "exact_lower",
    "p_value",
    "q_value",
    "prob_below",
    "shrunk",
    "baseline_rate",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_improved",
    "cohens_h",
    "mw_p",
    "rank_biserial",
]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _result(run: AnalysisRun, row: Row, hidden: bool) -> Result:
    figures = {name: _number(row.stats.get(name)) for name in RESULT_FIELDS}
    return Result(
        run=run,
        level=row.level,
        unit=row.unit,
        category=row.category,
        unit_kind=row.unit_kind,
        dimension_code=row.dimension_code,
        question_code=row.question_code,
        label=row.label[:300],
        source=row.source,
        n_responses=row.n_responses,
        ballots_issued=row.ballots[0] if row.ballots else None,
        ballots_used=row.ballots[1] if row.ballots else None,
        n_answered=row.n_answered,
        n_valid=row.n_valid,
        n_satisfied=row.k,
        n_top=row.k_strict,
        n_negative=row.k_negative,
        n_dont_know=row.n_dont_know,
        level_counts=row.level_counts,
        flag=row.stats.get("flag", ""),
        suppressed=hidden,
        baseline_n_valid=row.stats.get("baseline_n_valid"),
        verdict=row.stats.get("verdict", ""),
        **figures,
    )


def campaign_analyze(*, campaign: Campaign) -> AnalysisRun:
    """Compute and store every result of a round, then create its findings.

    Safe to re-run: each run is a new snapshot of results; findings that already
    exist are left exactly as they are (their evidence is frozen).

    Only once the round has closed: analysing an open round, waiting for one more
    answer and analysing again would show the office what that one person said.
    Raises StateError otherwise.
    """
    # The state in the database, not the caller's copy of it.
    status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)
    if status.first() not in (Campaign.Status.CLOSED, Campaign.Status.PUBLISHED):
        raise StateError(
            _("评议结束后才能统计：进行中的轮次反复统计，可以推断出单份答卷。"),
            code="not_closed",
        )
    # The comment themes need about 0.7 s of model loading (jieba, scipy's
    # clustering): done in a thread while PostgreSQL counts.
    preparing = _prepare_themes(campaign)
    # A close that died before writing out its pools left them waiting: write them
    # now, so the analysis counts every accepted answer. Only the points with a
    # pool waiting: one query instead of a locked transaction per point (the close
    # normally wrote every pool already).
    pool_flush_points(
        PendingSubmission.objects.filter(point__campaign=campaign)
        .order_by("point_id")
        .values_list("point_id", flat=True)
        .distinct()
    )
    counts = campaign_counts(campaign.pk)
    rows, n_responses = build_rows(campaign, counts=counts)
    # Suppression first: it needs only counts, and the figures computed across
    # a family of rows are computed for the shown rows from shown rows alone.
    hidden = suppress(
        rows,
        min_group_size=campaign.min_group_size,
        min_breakdown_size=campaign.min_flag_size,
    )
    method_state = compute_statistics(rows, campaign, hidden=hidden)
    compare_with_baseline(rows, campaign)
    quality = round_quality(counts.patterns)
    _fill_alpha(rows, campaign, quality)
    with transaction.atomic():
        run = AnalysisRun.objects.create(
            campaign=campaign,
            settings={**method_settings(campaign), "method_state": method_state},
            n_responses=n_responses,
            quality={
                "alpha": quality.alpha_report(),
                "bursts": {
                    str(point): day.isoformat()
                    for point, day in campaign.points.filter(
                        burst_on__isnull=False
                    ).values_list("pk", "burst_on")
                },
                "straight_lining": {
                    str(point): count
                    for point, count in sorted(quality.straight_lining.items())
                },
            },
        )
        bulk_insert(Result, (_result(run, row, id(row) in hidden) for row in rows))
        if preparing is not None:
            preparing.join()
        findings_create(run=run)
    return run


def _prepare_themes(campaign: Campaign) -> threading.Thread | None:
    """Start loading the theme models if the round's questionnaires ask for
    comments; the thread only imports and reads data files, never the database."""
    asks = Question.objects.filter(
        questionnaire_id__in=campaign.points.values("questionnaire_id"),
        kind=Question.Kind.TEXT,
    ).exists()
    if not asks:
        return None

    def prepare() -> None:
        try:
            from .themes import prepare

            prepare()
        except Exception:  # themes() itself will raise it where it is handled
            logger.exception("Preparing the comment themes failed")

    thread = threading.Thread(target=prepare, name="themes-prepare", daemon=True)
    thread.start()
    return thread


def _fill_alpha(rows: list[Row], campaign: Campaign, quality: RoundQuality) -> None:
    """Dimension rows carry the round's α of their dimension in the questionnaire
    version their unit answered (one value per version and dimension)."""
    versions = dict(campaign.points.values_list("unit_id", "questionnaire_id"))
    for row in rows:
        if row.level == Result.Level.DIMENSION and row.unit is not None:
            found = quality.alphas.get((versions.get(row.unit.pk), row.dimension_code))
            row.stats["alpha"] = found["alpha"] if found else None


def _evidence(run: AnalysisRun, result: Result) -> dict[str, Any]:
    return {
        "suppressed": result.suppressed,
        "run": run.pk,
        "computed_at": run.created_at.isoformat(),
        "level": result.level,
        "n_responses": result.n_responses,
        "n_valid": result.n_valid,
        "n_satisfied": result.n_satisfied,
        "rate": result.rate,
        "rate_strict": result.rate_strict,
        "ci": [result.ci_low, result.ci_high],
        "p_value": result.p_value,
        "q_value": result.q_value,
        "flag": result.flag,
        "prob_below": result.prob_below,
        "settings": run.settings,
    }


def findings_create(*, run: AnalysisRun) -> list[Finding]:
    """A finding for each RED unit, and each RED dimension of a unit with n ≥ the
    flag threshold. Existing findings (same round, unit, trigger, dimension) are
    kept untouched, so a re-run adds nothing and rewrites no evidence."""
    campaign = run.campaign
    created = []
    # 满意率, or the scale's own name for it (好评率 on the 五个模范 scale).
    rate = {"rate": campaign_rate_wording(campaign.pk, run.settings).noun}
    red = run.results.filter(
        level__in=[Result.Level.UNIT, Result.Level.DIMENSION],
        flag="RED",
        n_valid__gte=campaign.min_flag_size,
    ).select_related("unit")
    for result in red:
        # Titles carry no figures: they travel into tasks, the ledger, exports
        # and the public board, where figures may only come through
        # analysis.access. The figures are in the finding's evidence.
        title = (
            _("总体%(rate)s显著低于目标") % rate
            if result.level == Result.Level.UNIT
            else _("“%(dimension)s”%(rate)s显著低于目标")
            % {"dimension": result.label, **rate}
        )
        finding, was_created = Finding.objects.get_or_create(
            campaign=campaign,
            unit=result.unit,
            trigger=Finding.Trigger.STATISTICAL,
            dimension_code=result.dimension_code,
            theme_key="",
            defaults={
                "dimension_title": result.label
                if result.level == Result.Level.DIMENSION
                else "",
                "title": title,
                "severity": Finding.Severity.HIGH
                if result.rate is not None
                and result.rate < float(campaign.target) - 0.10
                else Finding.Severity.MEDIUM,
                "evidence": _evidence(run, result),
            },
        )
        if was_created:
            created.append(finding)
    created += _theme_findings(run)
    return created


def _theme_findings(run: AnalysisRun) -> list[Finding]:
    """Candidate findings for comment themes that are mostly negative (METHODS.md §7),
    only for units whose comments pass the anonymity thresholds."""
    from .themes import Comment, negative_candidates, themes

    campaign = run.campaign
    responses = dict(
        run.results.filter(level=Result.Level.UNIT).values_list(
            "unit_id", "n_responses"
        )
    )
    created = []
    for unit_id, comments in comment_rows(campaign).items():
        if not comments_allowed(campaign, responses.get(unit_id, 0), len(comments)):
            continue
        found = themes([Comment(text, polarity) for text, polarity in comments])
        for theme in negative_candidates(found):
            finding, was_created = Finding.objects.get_or_create(
                campaign=campaign,
                unit_id=unit_id,
                trigger=Finding.Trigger.THEME,
                dimension_code="",
                theme_key=theme.key,
                defaults={
                    "title": _("意见集中：%(words)s")
                    % {"words": "、".join(theme.keywords[:4])},
                    "description": _(
                        "%(n)d 条意见，其中 %(share).0f%% 来自不满意的评价。"
                    )
                    % {"n": theme.count, "share": theme.negative_share * 100},
                    "evidence": {
                        "run": run.pk,
                        "computed_at": run.created_at.isoformat(),
                        "keywords": theme.keywords,
                        "count": theme.count,
                        "n_rated": theme.n_rated,
                        "negative_share": theme.negative_share,
                        "examples": theme.examples,
                        "settings": run.settings,
                    },
                },
            )
            if was_created:
                created.append(finding)
    return created


def finding_decide(
    *, finding: Finding, user, confirm: bool, comment: str = "", verification: str = ""
) -> Finding:
    """The office confirms a finding (it becomes rectification work) or dismisses it."""
    if finding.status != Finding.Status.CANDIDATE:
        raise StateError(
            _("该问题已处理（%(s)s）。") % {"s": finding.get_status_display()},
            code="decided",
        )
    if not confirm and not comment.strip():
        raise ServiceError(_("排除问题需要说明理由。"), code="reason_required")
    finding.status = Finding.Status.CONFIRMED if confirm else Finding.Status.DISMISSED
    finding.decision_comment = comment.strip()
    finding.verification = verification
    finding.decided_by = user
    finding.decided_at = timezone.now()
    finding.save(
        update_fields=[
            "status",
            "decision_comment",
            "verification",
            "decided_by",
            "decided_at",
        ]
    )
    return finding
