"""Supervision (督办): the daily colours of open tasks, 约谈 candidates and reminders.

METHODS.md §8: blue 7 days before the due date, yellow when a milestone is missed,
red when overdue; a task red for 30 days or red twice is listed for 约谈. Run once
a day by ``manage.py escalate_tasks``; running it again on the same day changes
nothing and sends nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Milestone, Task, TaskEvent

S = Task.State
C = Task.Colour
OPEN_STATES = (S.ASSIGNED, S.IN_PROGRESS, S.UNDER_REVIEW)
BLUE_DAYS = 7
INTERVIEW_DAYS_RED = 30
INTERVIEW_TIMES_RED = 2
REMINDED = (C.BLUE, C.YELLOW, C.RED)


def colour_for(*, due_date: date | None, today: date, milestone_missed: bool) -> str:
    """The colour of an open task on ``today``; the worst rule that applies wins."""
    if due_date is None:
        return C.NONE
    if today > due_date:
        return C.RED
    if milestone_missed:
        return C.YELLOW
    if (due_date - today).days <= BLUE_DAYS:
        return C.BLUE
    return C.NONE


@dataclass(frozen=True)
class ColourChange:
    task: Task
    old: str
    new: str


@dataclass
class EscalationReport:
    today: date
    changes: list[ColourChange] = field(default_factory=list)
    # Open tasks per colour after this run.
    totals: Counter[str] = field(default_factory=Counter)
    interview_candidates: list[Task] = field(default_factory=list)
    new_interview_candidates: list[Task] = field(default_factory=list)
    reminders_sent: int = 0
    summary_sent: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.new_interview_candidates)

    def changed_to(self, colour: str) -> int:
        return sum(1 for change in self.changes if change.new == colour)


def tasks_escalate(*, today: date | None = None) -> EscalationReport:
    """Recompute every task's colour for ``today`` (the school's date by default),
    record each change as one escalation event and mail reminders and a summary.

    The mail is sent inside the transaction: if sending fails nothing is recorded,
    so the next run sends it again instead of the reminders being lost.
    """
    today = today or timezone.localdate()
    report = EscalationReport(today=today)
    missed = Milestone.objects.filter(
        task=OuterRef("pk"), due_date__lt=today, done_on__isnull=True
    )
    with transaction.atomic():
        tasks = (
            Task.objects.filter(
                Q(state__in=OPEN_STATES, due_date__isnull=False)
                | ~Q(colour=C.NONE)
                | Q(interview_candidate=True)
            )
            .annotate(milestone_missed=Exists(missed))
            .select_related("lead_unit")
            .select_for_update(of=("self",))
            .order_by("due_date", "id")
        )
        for task in tasks:
            _escalate_one(task, today=today, report=report)
        if report.changed:
            _send_mail(report)
    return report


def _escalate_one(task: Task, *, today: date, report: EscalationReport) -> None:
    is_open = task.state in OPEN_STATES
    old_colour, old_candidate = task.colour, task.interview_candidate
    new_colour = (
        colour_for(
            due_date=task.due_date,
            today=today,
            milestone_missed=task.milestone_missed,
        )
        if is_open
        else C.NONE
    )
    if new_colour == C.RED:
        if old_colour != C.RED:
            task.times_red += 1
        if old_colour != C.RED or task.red_since is None:
            task.red_since = today
    else:
        task.red_since = None
    task.colour = new_colour
    task.interview_candidate = is_open and (
        task.times_red >= INTERVIEW_TIMES_RED
        or (new_colour == C.RED and (today - task.red_since).days >= INTERVIEW_DAYS_RED)
    )
    changes: dict[str, list[object]] = {}
    if new_colour != old_colour:
        changes["colour"] = [old_colour, new_colour]
    if task.interview_candidate != old_candidate:
        changes["interview_candidate"] = [old_candidate, task.interview_candidate]
    # Only the supervision fields: a concurrent transition's state is never overwritten.
    task.save(update_fields=["colour", "red_since", "times_red", "interview_candidate"])
    if changes:
        TaskEvent.objects.create(
            task=task,
            kind=TaskEvent.Kind.ESCALATION,
            actor=None,
            action="escalate",
            from_state=task.state,
            to_state=task.state,
            changes=changes,
        )
    if new_colour != old_colour:
        report.changes.append(ColourChange(task, old_colour, new_colour))
    if is_open and new_colour:
        report.totals[new_colour] += 1
    if task.interview_candidate:
        report.interview_candidates.append(task)
        if not old_candidate:
            report.new_interview_candidates.append(task)


def _colour_label(colour: str) -> str:
    return str(C(colour).label)


def _task_line(task: Task) -> str:
    return _("· %(title)s（%(unit)s）完成时限 %(due)s") % {
        "title": task.title,
        "unit": task.lead_unit.name,
        "due": task.due_date.isoformat() if task.due_date else _("未定"),
    }


def _reminders(report: EscalationReport) -> list[mail.EmailMessage]:
    by_person: dict[str, list[ColourChange]] = defaultdict(list)
    for change in report.changes:
        if change.new in REMINDED and change.task.responsible_email:
            by_person[change.task.responsible_email.lower()].append(change)
    messages = []
    for address, changes in sorted(by_person.items()):
        lines = [
            _("%(person)s：") % {"person": changes[0].task.responsible_person},
            "",
            _("截至 %(date)s，您负责的以下整改任务已列入督办：")
            % {"date": report.today.isoformat()},
            "",
        ]
        lines += [
            _("%(task)s：%(colour)s")
            % {"task": _task_line(change.task), "colour": _colour_label(change.new)}
            for change in changes
        ]
        lines += [
            "",
            _("请按期推进整改并及时上传佐证材料；确需延期的，请在期限前提出延期申请。"),
        ]
        messages.append(
            mail.EmailMessage(
                subject=_("【督办提醒】您负责的 %(n)d 项整改任务需要关注")
                % {"n": len(changes)},
                body="\n".join(lines),
                to=[address],
            )
        )
    return messages


def _summary(report: EscalationReport) -> mail.EmailMessage | None:
    recipients = list(settings.SUPERVISION_EMAILS)
    if not recipients:
        return None
    lines = [
        _("%(date)s 整改任务督办情况（在办任务）：")
        % {"date": report.today.isoformat()}
    ]
    lines += [
        _("%(colour)s：%(n)d 项（今日新增 %(new)d 项）")
        % {
            "colour": _colour_label(colour),
            "n": report.totals[colour],
            "new": report.changed_to(colour),
        }
        for colour in (C.RED, C.YELLOW, C.BLUE)
    ]
    lines += ["", _("今日颜色变化：")]
    lines += [
        _("%(task)s：%(old)s → %(new)s")
        % {
            "task": _task_line(change.task),
            "old": _colour_label(change.old),
            "new": _colour_label(change.new),
        }
        for change in report.changes
    ] or [_("（无）")]
    lines += ["", _("约谈对象（红色满 30 天或累计两次红色）：")]
    lines += [
        _("%(task)s，责任人 %(person)s：累计红色 %(times)d 次%(since)s")
        % {
            "task": _task_line(task),
            "person": task.responsible_person or _("未定"),
            "times": task.times_red,
            "since": _("，已持续 %(days)d 天")
            % {"days": (report.today - task.red_since).days}
            if task.red_since
            else "",
        }
        for task in report.interview_candidates
    ] or [_("（无）")]
    return mail.EmailMessage(
        subject=_(
            "【督办】%(date)s 整改督办日报：红 %(red)d、黄 %(yellow)d、蓝 %(blue)d"
        )
        % {
            "date": report.today.isoformat(),
            "red": report.totals[C.RED],
            "yellow": report.totals[C.YELLOW],
            "blue": report.totals[C.BLUE],
        },
        body="\n".join(lines),
        to=recipients,
    )


def _send_mail(report: EscalationReport) -> None:
    messages = _reminders(report)
    summary = _summary(report)
    if summary is not None:
        messages.append(summary)
    if messages:
        with mail.get_connection() as connection:
            connection.send_messages(messages)
    report.reminders_sent = len(messages) - (summary is not None)
    report.summary_sent = summary is not None
