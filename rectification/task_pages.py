"""The task page of the 整改台账 and its actions.

They do what ``rectification.api`` does, through the same services; every task is
fetched through ``visible_tasks`` (404 outside it). A refusal re-renders the page
with its message and changes nothing (409 for a refused action, 400 for a bad
form); every action that succeeds says so in a flash message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from analysis.access import visible_findings
from organizations.access import scope_for
from questionnaires.services import ServiceError

from .access import earlier_for, resurvey_for, snapshot_for, visible_tasks
from .evidence import evidence_add
from .forms import ActionForm, DecideForm, EvidenceForm, ExtensionForm, ProgressForm
from .models import Task
from .services import (
    MANAGER_FIELDS,
    OFFICE_FIELDS,
    RULES,
    TransitionRefused,
    allowed_actions,
    extension_decide,
    extension_request,
    task_report_progress,
    task_transition,
)

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


def _field_value(task: Task, field: str) -> Any:
    # The plan starts from the office's requirements until the unit writes its own.
    if field == "measures" and not task.measures:
        return task.requirements
    return getattr(task, field)


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
                        "value": _field_value(task, field),
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
    earlier = earlier_for(request.user, [task.finding]) if task.finding_id else {}
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
        "earlier": earlier.get(task.finding_id),
        "finding_visible": bool(task.finding_id)
        and visible_findings(request.user).filter(pk=task.finding_id).exists(),
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
    approved = form.cleaned_data.get("approve", False)
    return _done(
        request, task, _("已批准延期申请。") if approved else _("已审批：不批准延期。")
    )
