"""The rectification state machine (METHODS.md §8), in one place.

``task_transition`` is the only code that changes a task's state. Each action
names who may take it; anything else is refused with the current state and the
actions this user could take. Every change of state or field writes exactly one
append-only event; a refusal writes none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.models import Finding
from organizations.access import scope_for
from questionnaires.services import ServiceError

from .models import ExtensionRequest, Task, TaskEvent

S = Task.State
OFFICE, MANAGER, SYSTEM = "office", "manager", "system"
LOOKBACK_DAYS = 90


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str
    who: str
    needs_comment: bool = False


RULES: dict[str, Rule] = {
    "verify": Rule((S.DRAFT,), S.VERIFYING, OFFICE),
    "dismiss": Rule((S.VERIFYING,), S.DISMISSED, OFFICE, needs_comment=True),
    "assign": Rule((S.VERIFYING,), S.ASSIGNED, OFFICE),
    "submit_plan": Rule((S.ASSIGNED,), S.IN_PROGRESS, MANAGER),
    "request_acceptance": Rule((S.IN_PROGRESS,), S.UNDER_REVIEW, MANAGER),
    "return": Rule((S.UNDER_REVIEW,), S.IN_PROGRESS, OFFICE, needs_comment=True),
    "accept": Rule((S.UNDER_REVIEW,), S.AWAITING_RESURVEY, OFFICE),
    "close": Rule((S.AWAITING_RESURVEY,), S.CLOSED, OFFICE),
    "reopen": Rule((S.AWAITING_RESURVEY, S.CLOSED), S.IN_PROGRESS, OFFICE),
}

# Fields each side may set, with a transition or on their own.
OFFICE_FIELDS = {
    "title",
    "description",
    "lead_unit",
    "responsible_leader",
    "responsible_person",
    "responsible_email",
    "supervising_office",
    "task_type",
    "due_date",
    "requirements",
}
MANAGER_FIELDS = {"cause_analysis", "goal", "measures"}


class TransitionRefused(ServiceError):
    code = "transition_refused"

    def __init__(
        self, message: str, *, task: Task, action: str, allowed: list[str]
    ) -> None:
        super().__init__(message)
        self.state = task.state
        self.action = action
        self.allowed = allowed


def _roles(user, task: Task) -> set[str]:
    scope = scope_for(user)
    roles = set()
    if scope.can_administer(task.lead_unit_id):
        roles.add(OFFICE)
    if scope.manages(task.lead_unit_id):
        roles.add(MANAGER)
    return roles


def allowed_actions(task: Task, user) -> list[str]:
    roles = _roles(user, task)
    return [
        name
        for name, rule in RULES.items()
        if task.state in rule.sources
        and rule.who in roles
        and _precondition(task, name) is None
    ]


def _precondition(task: Task, action: str) -> str | None:
    """Why an action cannot happen now regardless of who asks, or None."""
    if action == "assign" and not (
        task.lead_unit_id and task.responsible_person and task.due_date
    ):
        return _("交办需要牵头单位、责任人和完成时限。")
    if action == "submit_plan" and not (
        task.cause_analysis.strip() and task.measures.strip()
    ):
        return _("提交整改方案需要填写原因分析和整改措施。")
    if action == "close" and task.resurvey_verdict != "IMPROVED":
        return _("回访测评结论为“已改善”后才能销号。")
    return None


def _record(
    task: Task,
    *,
    kind: str,
    actor,
    action: str = "",
    from_state: str = "",
    changes=None,
    comment: str = "",
) -> TaskEvent:
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=task.state,
        changes=changes or {},
        comment=comment,
    )


def _apply_fields(
    task: Task, fields: dict[str, Any], allowed: set[str], *, user
) -> dict[str, list[Any]]:
    unknown = set(fields) - allowed
    if unknown:
        raise ServiceError(
            _("不能修改这些字段：%(f)s。") % {"f": ", ".join(sorted(unknown))},
            code="field_not_allowed",
        )
    lead = fields.get("lead_unit")
    if lead is not None and not scope_for(user).can_administer(lead.pk):
        # The office moves a task only within the units it runs.
        raise ServiceError(_("您不能把任务交给该单位。"), code="not_office")
    changes = {}
    for name, value in fields.items():
        old = getattr(task, name)
        if old != value:
            changes[name] = [_jsonable(old), _jsonable(value)]
            setattr(task, name, value)
    return changes


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def task_transition(
    *,
    task: Task,
    action: str,
    user,
    comment: str = "",
    fields: dict[str, Any] | None = None,
) -> Task:
    """Take ``action`` on ``task`` as ``user``; refuse anything the table does not allow."""
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        rule = RULES.get(action)
        roles = _roles(user, task)
        refuse = None
        if rule is None:
            refuse = _("未知的操作“%(a)s”。") % {"a": action}
        elif task.state not in rule.sources:
            refuse = _("当前状态“%(s)s”不能执行“%(a)s”。") % {
                "s": task.get_state_display(),
                "a": action,
            }
        elif rule.who not in roles:
            refuse = _("您无权对该任务执行“%(a)s”。") % {"a": action}
        elif rule.needs_comment and not comment.strip():
            refuse = _("此操作需要填写理由。")
        if refuse is None:
            changes = _apply_fields(
                task,
                fields or {},
                OFFICE_FIELDS if rule.who == OFFICE else MANAGER_FIELDS,
                user=user,
            )
            refuse = _precondition(task, action)
        if refuse is not None:
            task.refresh_from_db()
            raise TransitionRefused(
                refuse, task=task, action=action, allowed=allowed_actions(task, user)
            )
        previous = task.state
        _move(task, action, rule)
        _record(
            task,
            kind=TaskEvent.Kind.TRANSITION,
            actor=user,
            action=action,
            from_state=previous,
            changes=changes,
            comment=comment.strip(),
        )
    return task


def _move(task: Task, action: str, rule: Rule) -> None:
    now = timezone.now()
    target = rule.target
    if action == "accept":
        task.accepted_at = now
        if not task.survey_derived:
            target = S.CLOSED  # no next round can verify it: acceptance closes it
    if target == S.CLOSED:
        task.closed_at = now
        task.lookback_on = timezone.localdate() + timedelta(days=LOOKBACK_DAYS)
    if action == "reopen":
        task.closed_at = None
        task.resurvey_verdict = ""
    task.state = target
    task.save()


def task_update(*, task: Task, user, fields: dict[str, Any], comment: str = "") -> Task:
    """Change fields without changing state: the office its assignment fields, the
    lead unit's managers their plan. One event records every changed field."""
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        roles = _roles(user, task)
        allowed = (OFFICE_FIELDS if OFFICE in roles else set()) | (
            MANAGER_FIELDS if MANAGER in roles else set()
        )
        if not allowed:
            raise TransitionRefused(
                _("您无权修改该任务。"),
                task=task,
                action="update",
                allowed=allowed_actions(task, user),
            )
        if task.state in (S.CLOSED, S.DISMISSED):
            raise TransitionRefused(
                _("任务已结束，不能修改。"),
                task=task,
                action="update",
                allowed=allowed_actions(task, user),
            )
        changes = _apply_fields(task, fields, allowed, user=user)
        if changes:
            task.save()
            _record(
                task,
                kind=TaskEvent.Kind.CHANGE,
                actor=user,
                from_state=task.state,
                changes=changes,
                comment=comment,
            )
    return task


def task_report_progress(*, task: Task, user, text: str) -> TaskEvent:
    """A progress report by the lead unit: an event, no change of state."""
    task = Task.objects.get(
        pk=task.pk
    )  # the state as it is now, not as the caller saw it
    if MANAGER not in _roles(user, task):
        raise TransitionRefused(
            _("只有牵头单位可以报告进展。"),
            task=task,
            action="progress",
            allowed=allowed_actions(task, user),
        )
    if not text.strip():
        raise ServiceError(_("请填写进展情况。"), code="empty")
    if task.state not in (S.ASSIGNED, S.IN_PROGRESS):
        raise TransitionRefused(
            _("当前状态不接受进展报告。"),
            task=task,
            action="progress",
            allowed=allowed_actions(task, user),
        )
    return _record(
        task,
        kind=TaskEvent.Kind.PROGRESS,
        actor=user,
        from_state=task.state,
        comment=text.strip(),
    )


def task_create(
    *,
    user,
    fields: dict[str, Any],
    finding: Finding | None = None,
    assign: bool = False,
) -> Task:
    """A draft task: from a confirmed finding (one finding may give several), or a
    manual one (an inspection, say). Only the office creates tasks.

    With ``assign`` the office hands it to the lead unit at once: the draft is
    verified and assigned through ``task_transition`` (its rules, its events), and
    if assigning is refused nothing is created."""
    with transaction.atomic():
        if finding is not None:
            if finding.status != Finding.Status.CONFIRMED:
                raise ServiceError(
                    _("只有已确认的问题可以生成整改任务。"),
                    code="finding_not_confirmed",
                )
            if finding.verification == Finding.Verification.FALSE:
                raise ServiceError(
                    _("该问题经核实不属实，不建立整改任务。"),
                    code="finding_not_true",
                )
            fields = {
                "title": finding.title,
                "description": finding.description,
                "lead_unit": finding.unit,
                **fields,
                "campaign": finding.campaign,
                "source": Task.Source.SURVEY,
            }
        elif fields.get("source") == Task.Source.SURVEY:
            raise ServiceError(
                _("评议问题的整改任务须来自问题清单。"), code="survey_needs_finding"
            )
        scope = scope_for(user)
        if not scope.can_administer(fields["lead_unit"].pk):
            raise ServiceError(_("您不能为该单位建立整改任务。"), code="not_office")
        cooperating = fields.pop("cooperating_units", [])
        outside = [unit for unit in cooperating if not scope.can_administer(unit.pk)]
        if outside:
            raise ServiceError(
                _("您不能让这些单位配合整改：%(u)s。")
                % {"u": "、".join(unit.name for unit in outside)},
                code="not_office",
            )
        task = Task.objects.create(finding=finding, **fields)
        task.cooperating_units.set(cooperating)
        _record(task, kind=TaskEvent.Kind.CREATED, actor=user, comment="")
        if assign:
            task = task_transition(task=task, action="verify", user=user)
            task = task_transition(task=task, action="assign", user=user)
    return task


def extension_request(
    *, task: Task, user, reason: str, new_due_date
) -> ExtensionRequest:
    """The lead unit asks for more time; the office decides. Writes an event."""
    task = Task.objects.get(pk=task.pk)
    if MANAGER not in _roles(user, task):
        raise TransitionRefused(
            _("只有牵头单位可以申请延期。"),
            task=task,
            action="extension",
            allowed=allowed_actions(task, user),
        )
    if task.state not in (S.ASSIGNED, S.IN_PROGRESS, S.UNDER_REVIEW):
        raise TransitionRefused(
            _("当前状态不能申请延期。"),
            task=task,
            action="extension",
            allowed=allowed_actions(task, user),
        )
    if not reason.strip():
        raise ServiceError(_("请说明延期理由。"), code="reason_required")
    if task.due_date and new_due_date <= task.due_date:
        raise ServiceError(_("新的完成时限应晚于原时限。"), code="date")
    with transaction.atomic():
        request = ExtensionRequest.objects.create(
            task=task,
            reason=reason.strip(),
            new_due_date=new_due_date,
            requested_by=user,
        )
        _record(
            task,
            kind=TaskEvent.Kind.EXTENSION,
            actor=user,
            from_state=task.state,
            changes={"extension_requested": [None, new_due_date.isoformat()]},
            comment=reason.strip(),
        )
    return request


def extension_decide(
    *, request: ExtensionRequest, user, approve: bool, comment: str = ""
) -> ExtensionRequest:
    task = request.task
    if OFFICE not in _roles(user, task):
        raise TransitionRefused(
            _("只有领导小组办公室可以审批延期。"),
            task=task,
            action="extension",
            allowed=allowed_actions(task, user),
        )
    if request.status != ExtensionRequest.Status.PENDING:
        raise ServiceError(_("该申请已审批。"), code="decided")
    with transaction.atomic():
        request.status = (
            ExtensionRequest.Status.APPROVED
            if approve
            else ExtensionRequest.Status.REJECTED
        )
        request.decided_by, request.decided_at = user, timezone.now()
        request.decision_comment = comment.strip()
        request.save()
        changes = {"extension": [None, request.status]}
        if approve:
            task = Task.objects.select_for_update().get(pk=task.pk)
            changes["due_date"] = [
                _jsonable(task.due_date),
                request.new_due_date.isoformat(),
            ]
            task.due_date = request.new_due_date
            task.save(update_fields=["due_date"])
        _record(
            task,
            kind=TaskEvent.Kind.EXTENSION,
            actor=user,
            from_state=task.state,
            changes=changes,
            comment=comment.strip(),
        )
    return request
