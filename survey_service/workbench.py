"""The workbench (工作台): what needs each reader now, by role, each item linked to
the page where it is acted on.

- The office (of the school, or of a sub-tree: its own rounds and units only):
  rounds running, with progress in steps of five as the round page shows it;
  finished rounds waiting for analysis or publication; candidate findings;
  tasks waiting for its decision; red and overdue tasks, 约谈 candidates and
  回头看 due; units without commitments.
- A unit manager: its units' published results, its 问题清单, the tasks it must
  act on (returned ones with the reason) and the commitments to enter.
- A reviewer: published rounds and the ledger's totals, to read.

Everything is read through the access helpers (``scope_for``,
``analysis.access``, ``rectification.access``); the number of queries does not
grow with the number of tasks, findings or units (a draft round adds one).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from analysis.access import result_rows, visible_findings
from analysis.models import AnalysisRun, Finding
from organizations.access import Scope, scope_for
from organizations.models import Membership
from questionnaires.commitment_pages import commitment_counts
from questionnaires.models import Campaign, CollectionPoint
from questionnaires.views import coarse_count
from rectification.access import visible_tasks
from rectification.ledger import OPEN_STATES, ledger_summary, pending_findings
from rectification.models import ExtensionRequest, Task, TaskEvent

LIMIT = 20  # items shown per list; its heading counts them all
RESULT_ROUNDS = 3  # a manager's latest published rounds with their results
S = Task.State
RUNNING = (Campaign.Status.DRAFT, Campaign.Status.OPEN)
# What the office decides on a task in each state (rectification.services.RULES).
DECISIONS = {
    S.DRAFT: gettext_lazy("核实"),
    S.VERIFYING: gettext_lazy("交办或不予整改"),
    S.UNDER_REVIEW: gettext_lazy("验收或退回"),
    S.AWAITING_RESURVEY: gettext_lazy("回访测评已改善，可销号"),
}
# What the lead unit does next (rectification.services.RULES).
MANAGER_ACTIONS = {
    S.ASSIGNED: gettext_lazy("提交整改方案"),
    S.IN_PROGRESS: gettext_lazy("推进整改，完成后申请验收"),
}


def listed(items: list[Any]) -> dict[str, Any]:
    return {"total": len(items), "items": items[:LIMIT], "more": len(items) > LIMIT}


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    memberships = Membership.objects.filter(
        user=request.user, unit__active=True
    ).select_related("unit")
    context: dict[str, Any] = {"scope": scope, "memberships": memberships}
    if scope.is_office:
        context["office"] = office_items(request.user, scope)
    if scope.roots.get(Membership.Role.MANAGER):
        context["manager"] = manager_items(request.user, scope)
    if scope.roots.get(Membership.Role.REVIEWER) and not scope.is_office:
        context["reviewer"] = reviewer_items(request.user, scope)
    return render(request, "workbench/home.html", context)


# --- The office -------------------------------------------------------------------


def office_items(user, scope: Scope) -> dict[str, Any]:
    rounds = Campaign.objects.administered_by(scope).select_related("organizer")
    running = list(rounds.filter(status__in=RUNNING).order_by("opens_at", "pk"))
    finished = list(
        rounds.filter(status=Campaign.Status.CLOSED)
        .annotate(analysed=Exists(AnalysisRun.objects.filter(campaign=OuterRef("pk"))))
        .order_by("closes_at", "pk")
    )
    tasks = office_tasks(user, scope)
    return {
        "open_rounds": _with_progress(
            [c for c in running if c.status == Campaign.Status.OPEN]
        ),
        "drafts": [c for c in running if c.status == Campaign.Status.DRAFT],
        "to_analyse": [c for c in finished if not c.analysed],
        "to_publish": [c for c in finished if c.analysed],
        "finished_total": len(finished),
        "candidates": listed(list(_candidates(user, scope))),
        "pending": listed(list(_office_findings(pending_findings(user), scope))),
        **_office_task_lists(tasks),
        "extensions": listed(
            list(
                ExtensionRequest.objects.filter(
                    status=ExtensionRequest.Status.PENDING, task__in=tasks
                )
                .select_related("task__lead_unit", "requested_by")
                .order_by("requested_at", "pk")
            )
        ),
        "commitments": _missing_commitments(scope),
    }


def office_tasks(user, scope: Scope) -> QuerySet[Task]:
    """The visible tasks whose lead unit this office runs: those it decides on."""
    tasks = visible_tasks(user)
    if scope.everything:
        return tasks
    return tasks.filter(lead_unit__in=scope.administered_units())


def _with_progress(campaigns: list[Campaign]) -> list[Campaign]:
    """Responses so far per round, in steps of five as on the round page
    (``coarse_count``), and how many points show fewer than five."""
    totals: dict[int, int] = defaultdict(int)
    points: dict[int, int] = defaultdict(int)
    few: dict[int, int] = defaultdict(int)
    rows = (
        CollectionPoint.objects.filter(campaign__in=campaigns)
        .with_counts(responses=True)
        .values_list("campaign_id", "n_responses")
    )
    for campaign_id, n in rows:
        totals[campaign_id] += n
        points[campaign_id] += 1
        few[campaign_id] += coarse_count(n) == coarse_count(0)
    now = timezone.now()
    for campaign in campaigns:
        campaign.responses_shown = coarse_count(totals[campaign.pk])
        campaign.n_points = points[campaign.pk]
        campaign.n_few = few[campaign.pk]
        campaign.overdue = campaign.closes_at <= now
    return campaigns


def _candidates(user, scope: Scope) -> QuerySet[Finding]:
    findings = visible_findings(user).filter(status=Finding.Status.CANDIDATE)
    return _office_findings(findings, scope).order_by(
        "campaign__opens_at", "unit__sort_order", "unit__code"
    )


def _office_findings(findings: QuerySet[Finding], scope: Scope) -> QuerySet[Finding]:
    """Findings of the rounds this office runs: those it decides on."""
    if scope.everything:
        return findings
    return findings.filter(campaign__organizer__in=scope.administered_units())


def _office_task_lists(tasks: QuerySet[Task]) -> dict[str, Any]:
    """One query for every task that needs the office, sorted into its lists."""
    today = timezone.localdate()
    open_ = Q(state__in=OPEN_STATES)
    wanted = (
        Q(state__in=[S.DRAFT, S.VERIFYING, S.UNDER_REVIEW])
        | Q(state=S.AWAITING_RESURVEY, resurvey_verdict="IMPROVED")
        | (open_ & (Q(colour=Task.Colour.RED) | Q(due_date__lt=today)))
        | Q(interview_candidate=True)
        | Q(state=S.CLOSED, lookback_on__lte=today)
    )
    lists: dict[str, list[Task]] = {
        "decisions": [],
        "red": [],
        "interviews": [],
        "lookbacks": [],
    }
    for task in tasks.filter(wanted).order_by("due_date", "pk"):
        task.overdue = task.state in OPEN_STATES and bool(
            task.due_date and task.due_date < today
        )
        if task.state in DECISIONS and (
            task.state != S.AWAITING_RESURVEY or task.resurvey_verdict == "IMPROVED"
        ):
            task.decision = DECISIONS[task.state]
            lists["decisions"].append(task)
        if task.state in OPEN_STATES and (
            task.colour == Task.Colour.RED or task.overdue
        ):
            lists["red"].append(task)
        if task.interview_candidate:
            lists["interviews"].append(task)
        if task.state == S.CLOSED and task.lookback_on and task.lookback_on <= today:
            lists["lookbacks"].append(task)
    return {name: listed(found) for name, found in lists.items()}


def _missing_commitments(scope: Scope) -> list[dict[str, Any]]:
    """Draft and open rounds with units this office runs that have entered no
    commitment yet."""
    campaigns = list(
        Campaign.objects.for_scope(scope)
        .filter(status__in=RUNNING)
        .order_by("opens_at", "pk")
    )
    counts = commitment_counts(campaigns, scope.administered_units())
    found = []
    for campaign in campaigns:
        rows = counts[campaign.pk]
        missing = sum(1 for _unit, n in rows if n == 0)
        if missing:
            found.append({"campaign": campaign, "missing": missing, "total": len(rows)})
    return found


# --- A unit manager ---------------------------------------------------------------


def manager_items(user, scope: Scope) -> dict[str, Any]:
    managed = scope.managed_units()
    managed_ids = set(managed.values_list("pk", flat=True))
    return {
        "results": _results(user, scope, managed_ids),
        "findings": listed(
            list(
                visible_findings(user)
                .filter(status=Finding.Status.CONFIRMED, unit__in=managed)
                .order_by("-campaign__opens_at", "unit__sort_order", "unit__code")
            )
        ),
        **_manager_task_lists(user, managed),
        "commitments": _commitments_to_enter(scope, managed),
    }


def _results(user, scope: Scope, managed_ids: set[int]) -> list[dict[str, Any]]:
    """The managed units' rows of the latest published rounds, as
    ``analysis.access`` presents them to this reader."""
    published = (
        Campaign.objects.for_scope(scope)
        .filter(status=Campaign.Status.PUBLISHED)
        .order_by("-published_at", "-pk")[:RESULT_ROUNDS]
    )
    found = []
    for campaign in published:
        _reading, rows = result_rows(user, campaign, level="unit")
        mine = [row for row in rows if row["unit"] in managed_ids]
        if mine:
            found.append({"campaign": campaign, "rows": mine})
    return found


def _manager_task_lists(user, managed) -> dict[str, Any]:
    """Tasks the lead unit acts on; those the office returned, with its reason
    (the comment of the task's last transition, when that was a return)."""
    last = TaskEvent.objects.filter(
        task=OuterRef("pk"), kind=TaskEvent.Kind.TRANSITION
    ).order_by("-at", "-pk")
    tasks = (
        visible_tasks(user)
        .filter(lead_unit__in=managed, state__in=list(MANAGER_ACTIONS))
        .annotate(
            last_action=Subquery(last.values("action")[:1]),
            last_comment=Subquery(last.values("comment")[:1]),
        )
        .order_by("due_date", "pk")
    )
    today = timezone.localdate()
    action, returned = [], []
    for task in tasks:
        task.overdue = bool(task.due_date and task.due_date < today)
        task.next_step = MANAGER_ACTIONS[task.state]
        if task.state == S.IN_PROGRESS and task.last_action == "return":
            task.return_reason = task.last_comment
            returned.append(task)
        else:
            action.append(task)
    return {"tasks": listed(action), "returned": listed(returned)}


def _commitments_to_enter(scope: Scope, managed) -> list[dict[str, Any]]:
    campaigns = list(
        Campaign.objects.for_scope(scope)
        .filter(status__in=RUNNING)
        .order_by("opens_at", "pk")
    )
    counts = commitment_counts(campaigns, managed)
    return [
        {"campaign": campaign, "unit": unit, "n": n}
        for campaign in campaigns
        for unit, n in counts[campaign.pk]
    ]


# --- A reviewer -------------------------------------------------------------------


def reviewer_items(user, scope: Scope) -> dict[str, Any]:
    published = list(
        Campaign.objects.for_scope(scope)
        .filter(status=Campaign.Status.PUBLISHED)
        .order_by("-published_at", "-pk")
    )
    # The ledger page's totals: tasks, and confirmed problems waiting for one.
    summary = ledger_summary(visible_tasks(user), pending=list(pending_findings(user)))
    return {"published": listed(published), "ledger": summary}
