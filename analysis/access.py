"""Who may read which results, and how they see them: the one place for it.

Every page, export and API endpoint of analysis reads results through
:func:`result_rows` and findings through :func:`visible_findings`:

- the office of the round's organiser reads every row at any time; rows under the
  anonymity threshold are hidden like for everyone else unless it asks for the
  raw-count view (``raw=True``);
- everyone else (managers of a subtree, reviewers) reads only after the office
  publishes the round: the rows of units in their scope plus the category and
  school rows to compare with, with hidden rows' figures removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from organizations.access import Scope, scope_for
from questionnaires.models import Campaign

from .models import AnalysisRun, Finding, Result

FIGURES = [
    "n_responses",
    "ballots_issued",
    "ballots_used",
    "n_answered",
    "n_valid",
    "n_satisfied",
    "n_top",
    "n_negative",
    "n_dont_know",
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
    "flag",
    "alpha",
    "level_counts",
    "baseline_n_valid",
    "baseline_rate",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_improved",
    "cohens_h",
    "mw_p",
    "rank_biserial",
    "verdict",
]


@dataclass(frozen=True)
class Reading:
    """What one reader may see of one round."""

    campaign: Campaign
    run: AnalysisRun | None
    is_office: bool
    raw: bool

    @property
    def allowed(self) -> bool:
        return self.run is not None


def reading_for(user, campaign: Campaign, *, raw: bool = False) -> Reading:
    scope = scope_for(user)
    is_office = scope.can_administer(campaign.organizer_id)
    may_read = is_office or (
        campaign.status == Campaign.Status.PUBLISHED
        and Campaign.objects.for_scope(scope).filter(pk=campaign.pk).exists()
    )
    # Not while the round runs, for anyone: a run made before the close (by an
    # older version, or before a round was reopened by hand) is not read either.
    finished = campaign.status in (Campaign.Status.CLOSED, Campaign.Status.PUBLISHED)
    run = latest_run(campaign) if may_read and finished else None
    return Reading(
        campaign=campaign, run=run, is_office=is_office, raw=raw and is_office
    )


def unit_figures_visible(
    user, campaign: Campaign, unit_id: int, *, suppressed: bool
) -> bool:
    """Whether ``user`` may read figures of one unit in one round, wherever they
    are shown (a task's snapshot, a re-survey): the office of the round always;
    anyone else once the round is published, for a unit in their scope, and only
    when the row was not hidden by the anonymity thresholds."""
    reading = reading_for(user, campaign)
    if reading.is_office:
        return True
    return (
        reading.allowed
        and not suppressed
        and scope_for(user).visible_units().filter(pk=unit_id).exists()
    )


def latest_run(campaign: Campaign) -> AnalysisRun | None:
    return campaign.analysis_runs.order_by("-created_at", "-id").first()


def _rows(reading: Reading, scope: Scope) -> QuerySet[Result]:
    rows = reading.run.results.select_related("unit")
    if reading.is_office:
        return rows
    return rows.filter(
        Q(level__in=[Result.Level.SCHOOL, Result.Level.CATEGORY])
        | Q(unit__in=scope.visible_units())
    )


def present(result: Result, reading: Reading) -> dict[str, Any]:
    """One result as a reader may see it: figures removed when suppressed."""
    hidden = result.suppressed and not reading.raw
    item: dict[str, Any] = {
        "id": result.pk,
        "level": result.level,
        "unit": result.unit_id,
        "unit_code": result.unit.code if result.unit else "",
        "unit_name": result.unit.name if result.unit else "",
        "unit_kind": result.unit_kind,
        "category": result.category,
        "dimension": result.dimension_code,
        "question": result.question_code,
        "label": result.label,
        "source": result.source,
        "suppressed": result.suppressed,
    }
    for name in FIGURES:
        value = getattr(result, name)
        item[name] = None if hidden else value
    issued, used = item["ballots_issued"], item["ballots_used"]
    item["participation"] = used / issued if issued else None
    if hidden:
        item["flag"] = ""
        item["level_counts"] = {}
    item["settings"] = reading.run.settings
    return item


def result_rows(
    user,
    campaign: Campaign,
    *,
    level: str | None = None,
    unit: int | None = None,
    dimension: str | None = None,
    raw: bool = False,
) -> tuple[Reading, list[dict[str, Any]]]:
    """The results one user may read, presented; empty when they may read none."""
    reading = reading_for(user, campaign, raw=raw)
    if not reading.allowed:
        return reading, []
    rows = _rows(reading, scope_for(user))
    if level:
        rows = rows.filter(level=level)
    if unit:
        rows = rows.filter(unit_id=unit)
    if dimension:
        rows = rows.filter(dimension_code=dimension)
    rows = rows.order_by(
        "level",
        "unit__sort_order",
        "unit__code",
        "dimension_code",
        "question_code",
        "category",
    )
    return reading, [present(row, reading) for row in rows]


def visible_findings(user) -> QuerySet[Finding]:
    """The office sees the findings of rounds it runs; managers and reviewers see the
    confirmed findings of their units once the round is published."""
    scope = scope_for(user)
    findings = Finding.objects.select_related("unit", "campaign")
    if scope.everything:
        return findings
    office = Q(campaign__organizer__in=scope.administered_units())
    published = Q(
        status=Finding.Status.CONFIRMED,
        campaign__status=Campaign.Status.PUBLISHED,
        unit__in=scope.visible_units(),
    )
    return findings.filter(office | published).distinct()
