"""The public rectification board (整改公示): what was found and what was done, per unit.

No login. Shows confirmed problems that became tasks, their measures, state and
closing date — never comments, evidence files, figures of hidden groups, or tasks
still being verified.
"""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

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
    closed = sum(1 for task in tasks if task.state == Task.State.CLOSED)
    return render(
        request,
        "rectification/public_board.html",
        {
            "campaign": campaign,
            "units": dict(by_unit),
            "total": len(tasks),
            "closed": closed,
        },
    )
