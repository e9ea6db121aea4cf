"""Server-rendered pages of the 整改台账: the unit inbox and the findings (问题).

The task page is in ``task_pages``, the ledger in ``ledger_pages``. They do what
``rectification.api`` does, through the same services; every finding is fetched
through ``visible_findings``, every task through ``visible_tasks`` (404 outside
them). A refusal re-renders the page with its message and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from analysis.access import visible_findings
from analysis.models import Finding
from analysis.services import finding_decide
from organizations.access import scope_for
from questionnaires.services import ServiceError

from .access import earlier_for, office_of_findings, visible_tasks
from .forms import FindingDecisionForm, FindingTaskForm
from .ledger import OPEN_STATES
from .models import Task, TaskEvent
from .services import task_create
from .task_pages import offered_actions

SOON_DAYS = 7


def _last_transitions(tasks: list[Task]) -> dict[int, TaskEvent]:
    last: dict[int, TaskEvent] = {}
    events = TaskEvent.objects.filter(
        task__in=tasks, kind=TaskEvent.Kind.TRANSITION
    ).order_by("at", "id")
    for event in events:
        last[event.task_id] = event
    return last


def _task_groups(user, tasks: QuerySet[Task]) -> dict[str, list[Task]]:
    """Each task once: returned, needs action, due soon or overdue, the rest."""
    today = timezone.localdate()
    tasks = list(tasks.exclude(state=Task.State.DISMISSED).order_by("due_date", "id"))
    last = _last_transitions(tasks)
    groups: dict[str, list[Task]] = {
        "action": [],
        "returned": [],
        "due": [],
        "other": [],
    }
    for task in tasks:
        task.actions = offered_actions(task, user)
        event = last.get(task.pk)
        task.return_reason = event.comment if event and event.action == "return" else ""
        due_soon = task.due_date is not None and task.state in OPEN_STATES
        due_soon = due_soon and task.due_date <= today + timedelta(days=SOON_DAYS)
        task.overdue = due_soon and task.due_date < today
        if task.return_reason and task.state == Task.State.IN_PROGRESS:
            groups["returned"].append(task)
        elif task.actions and task.state != Task.State.CLOSED:
            # A closed task may still be reopened, but nothing waits on anyone.
            groups["action"].append(task)
        elif due_soon or task.colour:
            groups["due"].append(task)
        else:
            groups["other"].append(task)
    return groups


def _inbox(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    findings = list(
        visible_findings(request.user)
        .exclude(status=Finding.Status.DISMISSED)
        .order_by("campaign", "unit__sort_order", "unit__code", "id")
    )
    tasks = list(visible_tasks(request.user))
    earlier = earlier_for(request.user, findings)
    is_office = office_of_findings(request.user)
    for finding in findings:
        finding.is_office = is_office(finding)
        # Only the tasks this reader may see, not every task of the finding.
        finding.visible_tasks = [
            task for task in tasks if task.finding_id == finding.pk
        ]
        finding.earlier = earlier.get(finding.pk)
    context = {
        "candidates": [
            f for f in findings if f.status == Finding.Status.CANDIDATE and f.is_office
        ],
        "confirmed": [f for f in findings if f.status == Finding.Status.CONFIRMED],
        "groups": _task_groups(request.user, visible_tasks(request.user)),
        "verifications": Finding.Verification.choices,
        "error": error,
    }
    return render(request, "rectification/inbox.html", context, status=status)


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox(request)


def _office_finding(request: HttpRequest, finding_id: int) -> Finding:
    finding = get_object_or_404(visible_findings(request.user), pk=finding_id)
    if not scope_for(request.user).can_administer(finding.campaign.organizer_id):
        raise Http404
    return finding


@login_required
@require_POST
def finding_decision(request: HttpRequest, finding_id: int) -> HttpResponse:
    """The office confirms a candidate finding or dismisses it with a reason."""
    finding = _office_finding(request, finding_id)
    form = FindingDecisionForm(request.POST)
    if not form.is_valid():
        return _inbox(request, error=_("表单填写有误。"), status=400)
    try:
        finding_decide(finding=finding, user=request.user, **form.cleaned_data)
    except ServiceError as exc:
        return _inbox(request, error=exc.message, status=400)
    messages.success(request, _("已处理问题“%(t)s”。") % {"t": finding.title})
    return redirect("rectification-inbox")


# --- One finding, and a task from it ---------------------------------------------


def _refusal(finding: Finding) -> str:
    """Why no task may be made from this finding now, or ""."""
    if finding.status == Finding.Status.CANDIDATE:
        return _("该问题尚待确认：确认后才能建立整改任务。")
    if finding.verification == Finding.Verification.FALSE:
        return _("该问题经核实不属实，不建立整改任务。")
    return ""


def _finding_page(
    request: HttpRequest,
    finding: Finding,
    *,
    form: FindingTaskForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    office = office_of_findings(request.user)(finding)
    refusal = _refusal(finding)
    if form is None and office and not refusal:
        form = FindingTaskForm(
            initial={"title": finding.title, "requirements": finding.description}
        )
    context = {
        "finding": finding,
        "tasks": visible_tasks(request.user).filter(finding=finding).order_by("id"),
        "earlier": earlier_for(request.user, [finding]).get(finding.pk),
        "is_office": office,
        "refusal": refusal,
        "form": form if office and not refusal else None,
        "error": error,
    }
    return render(request, "rectification/finding.html", context, status=status)


@login_required
@require_safe
def finding_detail(request: HttpRequest, finding_id: int) -> HttpResponse:
    finding = get_object_or_404(visible_findings(request.user), pk=finding_id)
    return _finding_page(request, finding)


@login_required
@require_POST
def finding_task(request: HttpRequest, finding_id: int) -> HttpResponse:
    """The office turns a confirmed finding into a task, with its requirements, a
    responsible person and a due date: handed to the lead unit at once ("assign")
    or kept as a draft to verify first."""
    finding = _office_finding(request, finding_id)
    form = FindingTaskForm(request.POST)
    if not form.is_valid():
        return _finding_page(
            request, finding, form=form, error=_("请按提示修改后再提交。"), status=400
        )
    fields = {k: v for k, v in form.cleaned_data.items() if v}
    assign = request.POST.get("then") == "assign"
    try:
        task = task_create(
            user=request.user, finding=finding, fields=fields, assign=assign
        )
    except ServiceError as exc:
        return _finding_page(request, finding, form=form, error=exc.message, status=400)
    if assign:
        messages.success(request, _("已建立整改任务并交办给牵头单位。"))
    else:
        messages.success(request, _("已建立整改任务（草稿）：核实后交办。"))
    return redirect("rectification-task", task_id=task.pk)
