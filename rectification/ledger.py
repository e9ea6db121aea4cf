"""The 整改台账: summary figures, a per-unit table and the export in the usual column order."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from survey_service.spreadsheets import write_csv, write_xlsx

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


def _overdue(task: Task, today) -> bool:
    return (
        task.state in OPEN_STATES
        and task.due_date is not None
        and task.due_date < today
    )


def ledger_summary(tasks: QuerySet[Task]) -> dict[str, Any]:
    today = timezone.localdate()
    tasks = list(tasks)
    active = [t for t in tasks if t.state != Task.State.DISMISSED]
    closed = [t for t in active if t.state == Task.State.CLOSED and t.closed_at]
    days = [(t.closed_at - t.created_at).total_seconds() / 86400 for t in closed]
    by_state: dict[str, int] = defaultdict(int)
    by_colour: dict[str, int] = defaultdict(int)
    for task in tasks:
        by_state[task.state] += 1
        if task.colour:
            by_colour[task.colour] += 1
    return {
        "total": len(active),
        "closed": len(closed),
        "closure_rate": len(closed) / len(active) if active else None,
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


def ledger_rows(tasks: QuerySet[Task]) -> list[dict[str, Any]]:
    """Per lead unit: tasks, closed, overdue, red, closure rate."""
    today = timezone.localdate()
    units: dict[int, dict[str, Any]] = {}
    for task in tasks.select_related("lead_unit"):
        if task.state == Task.State.DISMISSED:
            continue
        row = units.setdefault(
            task.lead_unit_id,
            {
                "unit": task.lead_unit_id,
                "unit_code": task.lead_unit.code,
                "unit_name": task.lead_unit.name,
                "total": 0,
                "closed": 0,
                "overdue": 0,
                "red": 0,
            },
        )
        row["total"] += 1
        row["closed"] += task.state == Task.State.CLOSED
        row["overdue"] += _overdue(task, today)
        row["red"] += task.colour == Task.Colour.RED
    for row in units.values():
        row["closure_rate"] = row["closed"] / row["total"] if row["total"] else None
    return sorted(units.values(), key=lambda r: (-r["overdue"], r["unit_code"]))


def ledger_table(tasks: QuerySet[Task], *, fmt: str) -> bytes:
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
    if fmt == "xlsx":
        return write_xlsx(COLUMNS, rows, title="整改台账")
    return write_csv(COLUMNS, rows)
