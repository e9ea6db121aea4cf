"""Server-rendered pages of the 整改台账: the unit inbox, the task page and the ledger.

They do what ``rectification.api`` does, through the same services; every task is
fetched through ``visible_tasks`` (404 outside it), every finding through
``visible_findings``. A refusal re-renders the page with its message and changes
nothing (409 for a refused action, 400 for a bad form).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from analysis.access import visible_findings
from analysis.models import Finding
from analysis.services import finding_decide
from organizations.access import scope_for
from organizations.models import Unit
from questionnaires.models import Campaign
from questionnaires.services import ServiceError
from survey_service.spreadsheets import CONTENT_TYPES

from .access import resurvey_for, snapshot_for, visible_tasks
from .evidence import evidence_add
from .ledger import OPEN_STATES, ledger_rows, ledger_summary, ledger_table
from .models import Task, TaskEvent
from .services import (
    MANAGER_FIELDS,
    OFFICE_FIELDS,
    RULES,
    TransitionRefused,
    allowed_actions,
    extension_decide,
    extension_request,
    task_create,
    task_report_progress,
    task_transition,
)

SOON_DAYS = 7
ACTION_LABELS = {
    "verify": gettext_lazy("开始核实"),
    "dismiss": gettext_lazy("不予整改"),
    "assign": gettext_lazy("交办"),
    "submit_plan": gettext_lazy("提交整改方案"),
    "request_acceptance": gettext_lazy("申请验收"),
    "return": gettext_lazy("退回重改"),
    "accept": gettext_lazy("验收通过"),
    "close": gettext_lazy("销号"),
    "reopen": gettext_lazy("重新整改"),
}
# The task fields each action's form asks for (and sends to task_transition).
ACTION_FIELDS = {
    "assign": [
        "responsible_person",
        "responsible_email",
        "responsible_leader",
        "due_date",
        "task_type",
    ],
    "submit_plan": ["cause_analysis", "goal", "measures"],
}
FIELD_KINDS = {
    "responsible_email": "email",
    "due_date": "date",
    "task_type": "select",
    "cause_analysis": "textarea",
    "goal": "textarea",
    "measures": "textarea",
}
# What the service's preconditions need: marked required in the browser too.
REQUIRED_FIELDS = {"responsible_person", "due_date", "cause_analysis", "measures"}
VERDICT_LABELS = {
    "IMPROVED": gettext_lazy("已改善"),
    "NOT_IMPROVED": gettext_lazy("未改善"),
    "INSUFFICIENT_DATA": gettext_lazy("样本不足，暂无结论"),
}


class ActionForm(forms.Form):
    responsible_person = forms.CharField(
        label=gettext_lazy("责任人"), max_length=100, required=False
    )
    responsible_email = forms.EmailField(
        label=gettext_lazy("责任人邮箱"), required=False
    )
    responsible_leader = forms.CharField(
        label=gettext_lazy("责任领导"), max_length=100, required=False
    )
    due_date = forms.DateField(label=gettext_lazy("完成时限"), required=False)
    task_type = forms.ChoiceField(
        label=gettext_lazy("整改类型"), choices=Task.Type.choices, required=False
    )
    cause_analysis = forms.CharField(label=gettext_lazy("原因分析"), required=False)
    goal = forms.CharField(label=gettext_lazy("整改目标"), required=False)
    measures = forms.CharField(label=gettext_lazy("整改措施"), required=False)
    comment = forms.CharField(
        label=gettext_lazy("理由或说明"), max_length=5000, required=False
    )


class ProgressForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("进展情况"), max_length=5000)


class EvidenceForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("佐证材料"))


class ExtensionForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("延期理由"), max_length=5000)
    new_due_date = forms.DateField(label=gettext_lazy("申请延至"))


class DecideForm(forms.Form):
    approve = forms.BooleanField(required=False)
    comment = forms.CharField(max_length=5000, required=False)


class FindingDecisionForm(forms.Form):
    confirm = forms.BooleanField(required=False)
    comment = forms.CharField(max_length=2000, required=False)
    verification = forms.ChoiceField(
        choices=[("", "—"), *Finding.Verification.choices], required=False
    )


class FindingTaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("整改事项"), max_length=200)
    due_date = forms.DateField(label=gettext_lazy("完成时限"), required=False)


class LedgerFilter(forms.Form):
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("评议轮次"), queryset=Campaign.objects.none(), required=False
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("牵头单位"), queryset=Unit.objects.none(), required=False
    )
    state = forms.ChoiceField(
        label=gettext_lazy("状态"),
        choices=[("", "—"), *Task.State.choices],
        required=False,
    )
    colour = forms.ChoiceField(
        label=gettext_lazy("督办"),
        choices=[("", "—"), *[c for c in Task.Colour.choices if c[0]]],
        required=False,
    )
    overdue = forms.BooleanField(label=gettext_lazy("只看逾期"), required=False)

    def __init__(self, data: Any, *, tasks: QuerySet[Task]) -> None:
        super().__init__(data)
        self.fields["campaign"].queryset = Campaign.objects.filter(
            pk__in=tasks.values("campaign")
        ).order_by("-opens_at")
        self.fields["unit"].queryset = Unit.objects.filter(
            pk__in=tasks.values("lead_unit")
        ).order_by("sort_order", "code")

    def filter(self, tasks: QuerySet[Task]) -> QuerySet[Task]:
        if not self.is_valid():
            return tasks.none()
        data = self.cleaned_data
        if data["campaign"]:
            tasks = tasks.filter(campaign=data["campaign"])
        if data["unit"]:
            tasks = tasks.filter(lead_unit=data["unit"])
        if data["state"]:
            tasks = tasks.filter(state=data["state"])
        if data["colour"]:
            tasks = tasks.filter(colour=data["colour"])
        if data["overdue"]:
            tasks = tasks.filter(
                due_date__lt=timezone.localdate(), state__in=OPEN_STATES
            )
        return tasks.order_by("due_date", "id")


def offered_actions(task: Task, user) -> list[str]:
    """``allowed_actions`` plus the actions whose missing fields their own form asks
    for: ``allowed_actions`` offers assign only once a responsible person and a due
    date are set, and submit_plan only once a plan is written, yet the page sets
    them with the action itself."""
    allowed = allowed_actions(task, user)
    scope = scope_for(user)
    fillable = {
        "assign": lambda: scope.can_administer(task.lead_unit_id),
        "submit_plan": lambda: scope.manages(task.lead_unit_id),
    }
    return [
        name
        for name in RULES
        if name in allowed
        or (name in fillable and task.state in RULES[name].sources and fillable[name]())
    ]


# --- The unit inbox -------------------------------------------------------------


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
        elif task.actions:
            groups["action"].append(task)
        elif due_soon or task.colour:
            groups["due"].append(task)
        else:
            groups["other"].append(task)
    return groups


def _inbox(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    scope = scope_for(request.user)
    findings = (
        visible_findings(request.user)
        .exclude(status=Finding.Status.DISMISSED)
        .order_by("campaign", "unit__sort_order", "unit__code", "id")
    )
    administered = set(scope.administered_units().values_list("pk", flat=True))
    tasks = list(visible_tasks(request.user))
    for finding in findings:
        finding.is_office = scope.everything or finding.campaign.organizer_id in (
            administered
        )
        # Only the tasks this reader may see, not every task of the finding.
        finding.visible_tasks = [
            task for task in tasks if task.finding_id == finding.pk
        ]
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


@login_required
@require_POST
def finding_task(request: HttpRequest, finding_id: int) -> HttpResponse:
    """The office turns a confirmed finding into a draft task."""
    finding = _office_finding(request, finding_id)
    form = FindingTaskForm(request.POST)
    if not form.is_valid():
        return _inbox(request, error=_("请填写整改事项。"), status=400)
    fields = {k: v for k, v in form.cleaned_data.items() if v}
    try:
        task = task_create(user=request.user, finding=finding, fields=fields)
    except ServiceError as exc:
        return _inbox(request, error=exc.message, status=400)
    messages.success(request, _("已建立整改任务。"))
    return redirect("rectification-task", task_id=task.pk)


# --- The task page ---------------------------------------------------------------


def _field_label(name: str) -> str:
    """Event keys are task fields or a few others ("evidence" names a reverse
    relation, which has no verbose name)."""
    others = {
        "extension": _("延期审批"),
        "extension_requested": _("申请延至"),
        "evidence": _("佐证材料"),
        "resurvey_verdict": _("回访测评结论"),
        "colour": _("督办"),
    }
    if name in others:
        return others[name]
    try:
        return str(getattr(Task._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def _timeline(task: Task) -> list[dict[str, Any]]:
    states = dict(Task.State.choices)
    rows = []
    for event in task.events.select_related("actor").order_by("at", "id"):
        changes = []
        for name, value in (event.changes or {}).items():
            if name == "figures":
                continue  # shown in the re-survey card
            if isinstance(value, list) and len(value) == 2:
                old, new = value
            elif isinstance(value, dict) and "name" in value:  # an evidence file
                old, new = None, f"{value['name']} · SHA-256 {value.get('sha256', '')}"
            else:
                old, new = None, value
            changes.append({"label": _field_label(name), "old": old, "new": new})
        rows.append(
            {
                "event": event,
                "action": ACTION_LABELS.get(event.action, event.action),
                "from": states.get(event.from_state, event.from_state),
                "to": states.get(event.to_state, event.to_state),
                "changes": changes,
            }
        )
    return rows


def _action_forms(task: Task, actions: list[str]) -> list[dict[str, Any]]:
    forms_ = []
    for name in actions:
        fields = ACTION_FIELDS.get(name, [])
        forms_.append(
            {
                "name": name,
                "label": ACTION_LABELS[name],
                "fields": [
                    {
                        "name": field,
                        "label": Task._meta.get_field(field).verbose_name,
                        "value": getattr(task, field),
                        "kind": FIELD_KINDS.get(field, "text"),
                        "required": field in REQUIRED_FIELDS,
                    }
                    for field in fields
                ],
                "needs_reason": RULES[name].needs_comment,
            }
        )
    return forms_


def _task_page(
    request: HttpRequest, task: Task, *, error: str = "", status: int = 200
) -> HttpResponse:
    scope = scope_for(request.user)
    office = scope.can_administer(task.lead_unit_id)
    manager = scope.manages(task.lead_unit_id)
    snapshot = snapshot_for(request.user, task)
    actions = offered_actions(task, request.user)
    context = {
        "task": task,
        "is_office": office,
        "is_manager": manager,
        "actions": _action_forms(task, actions),
        "timeline": _timeline(task),
        "evidence": task.evidence.select_related("uploaded_by"),
        "extensions": task.extensions.select_related("requested_by", "decided_by"),
        "milestones": task.milestones.all(),
        "cooperating": task.cooperating_units.all(),
        "snapshot": snapshot,
        "snapshot_hidden": snapshot is None
        and bool(task.finding_id and task.finding.evidence),
        "resurvey": resurvey_for(request.user, task),
        "verdict_label": VERDICT_LABELS.get(task.resurvey_verdict, ""),
        "may_upload": (office or manager)
        and task.state
        in (Task.State.ASSIGNED, Task.State.IN_PROGRESS, Task.State.UNDER_REVIEW),
        "may_report": manager
        and task.state in (Task.State.ASSIGNED, Task.State.IN_PROGRESS),
        "may_extend": manager
        and task.state
        in (Task.State.ASSIGNED, Task.State.IN_PROGRESS, Task.State.UNDER_REVIEW),
        "task_types": Task.Type.choices,
        "error": error,
    }
    return render(request, "rectification/task.html", context, status=status)


def _visible_task(request: HttpRequest, task_id: int) -> Task:
    return get_object_or_404(
        visible_tasks(request.user).select_related("finding"), pk=task_id
    )


def _done(request: HttpRequest, task: Task, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("rectification-task", task_id=task.pk)


def _refused(request: HttpRequest, task: Task, exc: ServiceError) -> HttpResponse:
    status = 409 if isinstance(exc, TransitionRefused) else 400
    task.refresh_from_db()
    return _task_page(request, task, error=exc.message, status=status)


@login_required
@require_safe
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_page(request, _visible_task(request, task_id))


@login_required
@require_POST
def task_action(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    """One of the §8 actions, with the fields its form sends."""
    task = _visible_task(request, task_id)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, error=_("表单填写有误。"), status=400)
    allowed = OFFICE_FIELDS | MANAGER_FIELDS
    fields = {
        name: form.cleaned_data[name]
        for name in ACTION_FIELDS.get(action, [])
        if name in request.POST and name in allowed
    }
    if fields.get("task_type") == "":
        fields.pop("task_type")
    try:
        task_transition(
            task=task,
            action=action,
            user=request.user,
            comment=form.cleaned_data["comment"],
            fields=fields,
        )
    except ServiceError as exc:
        return _refused(request, task, exc)
    label = ACTION_LABELS.get(action, action)
    return _done(request, task, _("已执行“%(a)s”。") % {"a": label})


@login_required
@require_POST
def task_progress(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    form = ProgressForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, error=_("请填写进展情况。"), status=400)
    try:
        task_report_progress(
            task=task, user=request.user, text=form.cleaned_data["text"]
        )
    except ServiceError as exc:
        return _refused(request, task, exc)
    return _done(request, task, _("已报告进展。"))


@login_required
@require_POST
def task_evidence(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _task_page(request, task, error=_("请选择文件。"), status=400)
    try:
        evidence_add(task=task, user=request.user, upload=form.cleaned_data["file"])
    except ServiceError as exc:
        return _refused(request, task, exc)
    return _done(request, task, _("已上传佐证材料。"))


@login_required
@require_POST
def task_extension(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        return _task_page(
            request, task, error=_("请填写延期理由和新的完成时限。"), status=400
        )
    try:
        extension_request(task=task, user=request.user, **form.cleaned_data)
    except ServiceError as exc:
        return _refused(request, task, exc)
    return _done(request, task, _("已提交延期申请。"))


@login_required
@require_POST
def task_extension_decide(
    request: HttpRequest, task_id: int, extension_id: int
) -> HttpResponse:
    task = _visible_task(request, task_id)
    extension = get_object_or_404(task.extensions, pk=extension_id)
    form = DecideForm(request.POST)
    form.is_valid()
    try:
        extension_decide(
            request=extension,
            user=request.user,
            approve=form.cleaned_data.get("approve", False),
            comment=form.cleaned_data.get("comment", ""),
        )
    except ServiceError as exc:
        return _refused(request, task, exc)
    return _done(request, task, _("已审批延期申请。"))


# --- The ledger -------------------------------------------------------------------


def _ledger_filter(request: HttpRequest) -> tuple[LedgerFilter, QuerySet[Task]]:
    tasks = visible_tasks(request.user)
    form = LedgerFilter(request.GET, tasks=tasks)
    return form, form.filter(tasks)


@login_required
@require_safe
def ledger(request: HttpRequest) -> HttpResponse:
    form, tasks = _ledger_filter(request)
    query = request.GET.urlencode()
    return render(
        request,
        "rectification/ledger.html",
        {
            "form": form,
            "tasks": tasks.prefetch_related("cooperating_units"),
            "summary": ledger_summary(tasks),
            "rows": ledger_rows(tasks),
            "exports": [
                (fmt, reverse("rectification-ledger-export", args=[fmt]) + "?" + query)
                for fmt in ("csv", "xlsx")
            ],
        },
    )


@login_required
@require_safe
def ledger_export(request: HttpRequest, filetype: str) -> HttpResponse:
    if filetype not in CONTENT_TYPES:
        raise Http404
    _form, tasks = _ledger_filter(request)
    response = HttpResponse(
        ledger_table(tasks, fmt=filetype), content_type=CONTENT_TYPES[filetype]
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="ledger-{stamp}.{filetype}"'
    )
    return response
