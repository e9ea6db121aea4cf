"""The public rectification board (整改公示): what was found and what was done, per unit.

No login. Shows confirmed problems that became tasks, their measures, state and
closing date — never comments, evidence files, figures of hidden groups, or tasks
still being verified. Its headline counts the round's confirmed problems (not those
judged 不属实), how many were handed to a unit (a task in a public state) and how
many are closed (every such task closed): counts only, no title of a problem that
has no public task, so a draft's wording stays the office's.
"""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from analysis.models import Finding
from questionnaires.models import Campaign

from .models import Task

PUBLIC_STATES = [
    Task.State.ASSIGNED,
    Task.State.IN_PROGRESS,
    Task.State.UNDER_REVIEW,
    Task.State.AWAITING_RESURVEY,
    Task.State.CLOSED,
]


@require_safe
def board(request: HttpRequest, campaign_id: int) -> HttpResponse:
    # Only published rounds: before publication even the list of problems found
    # is the office's (the units have not seen their results yet).
    campaign = get_object_or_404(
        Campaign.objects.filter(status=Campaign.Status.PUBLISHED), pk=campaign_id
    )
    tasks = (
        Task.objects.filter(campaign=campaign, state__in=PUBLIC_STATES)
        .select_related("lead_unit")
        .order_by("lead_unit__sort_order", "lead_unit__code", "due_date", "id")
    )
    by_unit = defaultdict(list)
    for task in tasks:
        by_unit[task.lead_unit].append(task)
    return render(
        request,
        "rectification/public_board.html",
        {"campaign": campaign, "units": dict(by_unit), **problem_counts(campaign)},
    )


def problem_counts(campaign: Campaign) -> dict[str, int]:
    """本轮确认问题 X 项，已交办 Y 项，已销号 Z 项."""
    confirmed = set(
        Finding.objects.filter(campaign=campaign, status=Finding.Status.CONFIRMED)
        .exclude(verification=Finding.Verification.FALSE)
        .values_list("pk", flat=True)
    )
    states: dict[int, set[str]] = defaultdict(set)
    public = Task.objects.filter(finding__in=confirmed, state__in=PUBLIC_STATES)
    for finding, state in public.values_list("finding", "state"):
        states[finding].add(state)
    return {
        "confirmed": len(confirmed),
        "assigned": len(states),
        "closed": sum(1 for s in states.values() if s == {Task.State.CLOSED}),
    }
