"""The 整改台账: summary figures, a per-unit table and the export in the usual column order.

Confirmed problems that no task has taken up yet (``pending``, from
``pending_findings``) count in every total as 待交办: a ledger that says "共 0 项"
while problems wait would read as if nothing had been found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from analysis.access import visible_findings
from analysis.models import Finding
from survey_service.spreadsheets import write_csv, write_xlsx

from .access import visible_tasks
from .models import Task, TaskEvent

OPEN_STATES = (Task.State.ASSIGNED, Task.State.IN_PROGRESS, Task.State.UNDER_REVIEW)

COLUMNS = [
    "序号",
    "问题来源",
    "存在问题",
    "原因分析",
    "整改目标",
    "整改措施",
    "整改类型",
    "责任领导",
    "牵头单位",
    "配合单位",
    "责任人",
    "督办部门",
    "完成时限",
    "最新进展",
    "状态",
    "督办",
    "回访测评",
    "销号时间",
]


def pending_findings(user) -> QuerySet[Finding]:
    """Confirmed problems ``user`` sees that wait for a task (待交办): none of its
    tasks is visible to ``user`` (a draft is the office's: to the unit the problem
    is not handed over yet) and none was dismissed (不予整改 is an answer). A
    problem judged 不属实 gets no task and so does not wait for one."""
    return (
        visible_findings(user)
        .filter(status=Finding.Status.CONFIRMED)
        .exclude(verification=Finding.Verification.FALSE)
        .exclude(
            pk__in=visible_tasks(user).filter(finding__isnull=False).values("finding")
        )
        .exclude(tasks__state=Task.State.DISMISSED)
        .select_related("unit", "campaign")
        .order_by("campaign", "unit__sort_order", "unit__code", "id")
    )


def _overdue(task: Task, today) -> bool:
    return (
        task.state in OPEN_STATES
        and task.due_date is not None
        and task.due_date < today
    )


def ledger_summary(
    tasks: QuerySet[Task], *, pending: Sequence[Finding] | None = None
) -> dict[str, Any]:
    """The figures of the tasks, and of the waiting problems when given (the API
    counts tasks only: without ``pending`` no "pending" figure is given)."""
    today = timezone.localdate()
    tasks = list(tasks)
    active = [t for t in tasks if t.state != Task.State.DISMISSED]
    total = len(active) + len(pending or ())
    closed = [t for t in active if t.state == Task.State.CLOSED and t.closed_at]
    days = [(t.closed_at - t.created_at).total_seconds() / 86400 for t in closed]
    by_state: dict[str, int] = defaultdict(int)
    by_colour: dict[str, int] = defaultdict(int)
    for task in tasks:
        by_state[task.state] += 1
        if task.colour:
            by_colour[task.colour] += 1
    summary = {
        "total": total,
        "closed": len(closed),
        "closure_rate": len(closed) / total if total else None,
        "average_days_to_close": sum(days) / len(days) if days else None,
        "overdue": sum(1 for t in tasks if _overdue(t, today)),
        "interview_candidates": sum(1 for t in tasks if t.interview_candidate),
        "lookback_due": sum(
            1
            for t in tasks
            if t.state == Task.State.CLOSED and t.lookback_on and t.lookback_on <= today
        ),
        "by_state": dict(by_state),
        "by_colour": dict(by_colour),
    }
    if pending is not None:
        summary["pending"] = len(pending)
    return summary


def ledger_rows(
    tasks: QuerySet[Task], *, pending: Sequence[Finding] | None = None
) -> list[dict[str, Any]]:
    """Per lead unit: tasks and (when given) problems waiting for one, closed,
    overdue, red, closure rate."""
    today = timezone.localdate()
    units: dict[int, dict[str, Any]] = {}

    def row_of(unit) -> dict[str, Any]:
        return units.setdefault(
            unit.pk,
            {
                "unit": unit.pk,
                "unit_code": unit.code,
                "unit_name": unit.name,
                "total": 0,
                **({"pending": 0} if pending is not None else {}),
                "closed": 0,
                "overdue": 0,
                "red": 0,
            },
        )

    for finding in pending or ():
        row = row_of(finding.unit)
        row["total"] += 1
        row["pending"] += 1
    for task in tasks.select_related("lead_unit"):
        if task.state == Task.State.DISMISSED:
            continue
        row = row_of(task.lead_unit)
        row["total"] += 1
        row["closed"] += task.state == Task.State.CLOSED
        row["overdue"] += _overdue(task, today)
        row["red"] += task.colour == Task.Colour.RED
    for row in units.values():
        row["closure_rate"] = row["closed"] / row["total"] if row["total"] else None
    return sorted(units.values(), key=lambda r: (-r["overdue"], r["unit_code"]))


def ledger_table(
    tasks: QuerySet[Task], *, fmt: str, pending: Sequence[Finding] = ()
) -> bytes:
    tasks = list(
        tasks.select_related("lead_unit", "finding").prefetch_related(
            "cooperating_units"
        )
    )
    latest: dict[int, str] = {}
    progress = TaskEvent.objects.filter(
        task__in=tasks, kind=TaskEvent.Kind.PROGRESS
    ).order_by("at", "id")
    for event in progress:
        latest[event.task_id] = (
            f"{timezone.localtime(event.at):%Y-%m-%d} {event.comment}"
        )
    rows = [
        [
            number,
            task.get_source_display(),
            task.title,
            task.cause_analysis,
            task.goal,
            task.measures,
            task.get_task_type_display(),
            task.responsible_leader,
            task.lead_unit.name,
            "、".join(unit.name for unit in task.cooperating_units.all()),
            task.responsible_person,
            task.supervising_office,
            task.due_date.isoformat() if task.due_date else "",
            latest.get(task.pk, ""),
            task.get_state_display(),
            task.get_colour_display() if task.colour else "",
            task.resurvey_verdict,
            f"{timezone.localtime(task.closed_at):%Y-%m-%d}" if task.closed_at else "",
        ]
        for number, task in enumerate(tasks, start=1)
    ]
    waiting = _("待交办")
    source = str(Task.Source.SURVEY.label)
    rows += [
        [number, source, finding.title, "", "", "", "", "", finding.unit.name]
        + ["", "", "", "", "", waiting, "", "", ""]
        for number, finding in enumerate(pending, start=len(rows) + 1)
    ]
    if fmt == "xlsx":
        return write_xlsx(COLUMNS, rows, title="整改台账")
    return write_csv(COLUMNS, rows)
