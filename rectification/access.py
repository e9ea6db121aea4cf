"""Which tasks a user may see, and which of their figures: the one helper every
page, endpoint and export uses.

A task is visible to the office that runs its lead unit (for a task from a round
not yet published: the round's own office), and to anyone whose scope
reaches its lead unit or one of its cooperating units (managers of those subtrees,
reviewers) once it has been assigned: drafts, tasks being verified and dismissed
ones are the office's. Figures on a task (the finding's snapshot, the re-survey's
before and after) reach a reader other than the office only through
``analysis.access`` — published round, a unit in their scope, not hidden — so a
cooperating unit never reads the lead unit's figures. What each may do with a task
is decided by ``rectification.services`` from the same scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from analysis.access import latest_run, unit_figures_visible, visible_findings
from analysis.models import AnalysisRun, Finding
from analysis.repeats import earlier_findings
from organizations.access import scope_for
from questionnaires.models import Campaign

from .models import Task
from .resurvey import result_row

OFFICE_ONLY_STATES = (Task.State.DRAFT, Task.State.VERIFYING, Task.State.DISMISSED)


def visible_tasks(user) -> QuerySet[Task]:
    scope = scope_for(user)
    tasks = Task.objects.select_related("lead_unit", "finding", "campaign")
    if scope.everything:
        return tasks
    units = scope.visible_units()
    administered = scope.administered_units()
    # The office of the lead unit, but a task from a round not yet published only
    # for the round's own office: to a sub-office a draft's title ("总体满意率显著
    # 低于目标") would tell the school's result before the school publishes it.
    office = Q(lead_unit__in=administered) & (
        Q(campaign__isnull=True)
        | Q(campaign__organizer__in=administered)
        | Q(campaign__status=Campaign.Status.PUBLISHED)
    )
    assigned = Q(
        pk__in=Task.objects.filter(
            Q(lead_unit__in=units) | Q(cooperating_units__in=units)
        ).values("pk")
    ) & ~Q(state__in=OFFICE_ONLY_STATES)
    return tasks.filter(office | assigned)


def snapshot_for(user, task: Task) -> dict[str, Any] | None:
    """The finding's figures as computed when it was found, if ``user`` may read
    them; None otherwise (or when the task has no finding)."""
    if task.finding_id is None or not task.finding.evidence:
        return None
    snapshot = task.finding.evidence
    visible = unit_figures_visible(
        user,
        task.finding.campaign,
        task.finding.unit_id,
        suppressed=bool(snapshot.get("suppressed")),
    )
    return snapshot if visible else None


def resurvey_for(user, task: Task) -> dict[str, Any] | None:
    """The re-survey's before and after, if ``user`` may read both rounds' figures
    of the unit (the rows the re-survey compared); None otherwise."""
    figures = task.resurvey_figures
    if not figures or task.finding_id is None:
        return None
    finding = task.finding
    after = Campaign.objects.filter(pk=figures.get("round")).first()
    compared = [
        (finding.campaign, latest_run(finding.campaign)),
        (after, AnalysisRun.objects.filter(pk=figures.get("run")).first()),
    ]
    for campaign, run in compared:
        if campaign is None:
            return None
        row = result_row(run, task)
        hidden = bool(row and row.suppressed)
        if not unit_figures_visible(user, campaign, finding.unit_id, suppressed=hidden):
            return None
    return figures


def earlier_for(user, findings) -> dict[int, dict[str, Any]]:
    """The 连续两轮 marks ``user`` may read: for each finding found again in the
    round before, the earlier finding and its tasks as ``user`` sees them."""
    found = earlier_findings(findings, among=visible_findings(user))
    if not found:
        return {}
    tasks: dict[int, list[Task]] = {}
    for task in visible_tasks(user).filter(finding__in=found.values()).order_by("id"):
        tasks.setdefault(task.finding_id, []).append(task)
    return {
        pk: {"finding": earlier, "tasks": tasks.get(earlier.pk, [])}
        for pk, earlier in found.items()
    }


def office_of_findings(user) -> Callable[[Finding], bool]:
    """Whether ``user`` is the office that decides a finding and gives it tasks:
    the office of the round's organiser, which runs the finding's unit. One query
    for any number of findings."""
    scope = scope_for(user)
    if scope.everything:
        return lambda finding: True
    administered = set(scope.administered_units().values_list("pk", flat=True))
    return lambda finding: (
        finding.campaign.organizer_id in administered
        and finding.unit_id in administered
    )
