"""Supervision (督办, METHODS.md §8): colours, 约谈 candidates, events and e-mail."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

from django.core import mail
from django.core.management import CommandError, call_command
from django.test import SimpleTestCase, override_settings

from rectification.models import Milestone, Task, TaskEvent
from rectification.supervision import colour_for, tasks_escalate
from tests.base import PersonaTestCase

TODAY = date(2026, 3, 11)
OFFICE = ["ducha@example.edu.cn"]


class ColourRuleTests(SimpleTestCase):
    def test_it_colours_by_the_worst_rule_that_applies(self):
        cases = [
            (TODAY + timedelta(days=10), False, ""),
            (TODAY + timedelta(days=8), False, ""),
            (TODAY + timedelta(days=7), False, "blue"),
            (TODAY, False, "blue"),
            (TODAY + timedelta(days=10), True, "yellow"),
            (TODAY + timedelta(days=3), True, "yellow"),
            (TODAY - timedelta(days=1), False, "red"),
            (TODAY - timedelta(days=1), True, "red"),
            (None, True, ""),
        ]
        for due, missed, colour in cases:
            with self.subTest(due=due, missed=missed):
                self.assertEqual(
                    colour_for(due_date=due, today=TODAY, milestone_missed=missed),
                    colour,
                )


@override_settings(SUPERVISION_EMAILS=OFFICE)
class EscalationTests(PersonaTestCase):
    def task(self, title: str, due_in: int | None, **fields) -> Task:
        fields.setdefault("state", Task.State.IN_PROGRESS)
        return Task.objects.create(
            source=Task.Source.MANUAL,
            title=title,
            lead_unit=fields.pop("lead_unit", self.branch_a),
            responsible_person=fields.pop("person", "张老师"),
            responsible_email=fields.pop("email", "zhang@example.edu.cn"),
            due_date=None if due_in is None else TODAY + timedelta(days=due_in),
            **fields,
        )

    def escalation_events(self, task: Task | None = None):
        events = TaskEvent.objects.filter(kind=TaskEvent.Kind.ESCALATION)
        return events.filter(task=task) if task else events

    def reload(self, task: Task) -> Task:
        return Task.objects.get(pk=task.pk)

    def test_it_colours_the_brief_cases_and_lists_interview_candidates(self):
        calm = self.task("十天后到期", 10)
        near = self.task("三天后到期", 3)
        milestone = self.task("节点逾期", 20)
        Milestone.objects.create(
            task=milestone, title="完成调研", due_date=TODAY - timedelta(days=1)
        )
        overdue = self.task("逾期一天", -1)
        long_red = self.task(
            "逾期三十一天",
            -31,
            colour="red",
            red_since=TODAY - timedelta(days=31),
            times_red=1,
        )
        twice = self.task("第二次变红", -2, times_red=1)

        report = tasks_escalate(today=TODAY)

        expected = {
            calm: ("", None, 0, False),
            near: ("blue", None, 0, False),
            milestone: ("yellow", None, 0, False),
            overdue: ("red", TODAY, 1, False),
            long_red: ("red", TODAY - timedelta(days=31), 1, True),
            twice: ("red", TODAY, 2, True),
        }
        for task, values in expected.items():
            with self.subTest(task=task.title):
                task = self.reload(task)
                self.assertEqual(
                    (
                        task.colour,
                        task.red_since,
                        task.times_red,
                        task.interview_candidate,
                    ),
                    values,
                )
        self.assertEqual(
            set(report.interview_candidates), {self.reload(long_red), twice}
        )
        self.assertEqual(dict(report.totals), {"blue": 1, "yellow": 1, "red": 3})
        self.assertEqual(report.changed_to("red"), 2)

    def test_each_change_of_colour_writes_one_event_without_an_actor(self):
        near = self.task("三天后到期", 3)
        calm = self.task("十天后到期", 10)
        tasks_escalate(today=TODAY)
        event = self.escalation_events(near).get()
        self.assertEqual(event.changes, {"colour": ["", "blue"]})
        self.assertIsNone(event.actor)
        self.assertEqual((event.from_state, event.to_state), ("in_progress",) * 2)
        self.assertFalse(self.escalation_events(calm).exists())

        tasks_escalate(today=TODAY + timedelta(days=4))  # now overdue
        self.assertEqual(
            [e.changes for e in self.escalation_events(near)],
            [{"colour": ["", "blue"]}, {"colour": ["blue", "red"]}],
        )

    def test_becoming_a_candidate_while_staying_red_is_recorded(self):
        task = self.task(
            "红色满三十天",
            -30,
            colour="red",
            red_since=TODAY - timedelta(days=29),
            times_red=1,
        )
        tasks_escalate(today=TODAY)
        self.assertFalse(self.reload(task).interview_candidate)
        self.assertFalse(self.escalation_events(task).exists())

        report = tasks_escalate(today=TODAY + timedelta(days=1))
        self.assertTrue(self.reload(task).interview_candidate)
        self.assertEqual(
            self.escalation_events(task).get().changes,
            {"interview_candidate": [False, True]},
        )
        self.assertEqual(report.new_interview_candidates, [task])
        self.assertEqual(len(mail.outbox), 1)  # the office's summary only
        self.assertEqual(mail.outbox[0].to, OFFICE)

    def test_rerunning_on_the_same_day_changes_nothing_and_sends_nothing(self):
        self.task("三天后到期", 3)
        self.task("逾期一天", -1)
        self.task("逾期三十一天", -31, red_since=TODAY - timedelta(days=31))
        tasks_escalate(today=TODAY)
        events = TaskEvent.objects.count()
        sent = len(mail.outbox)
        before = list(Task.objects.values().order_by("pk"))

        report = tasks_escalate(today=TODAY)

        self.assertEqual(TaskEvent.objects.count(), events)
        self.assertEqual(len(mail.outbox), sent)
        self.assertEqual(list(Task.objects.values().order_by("pk")), before)
        self.assertFalse(report.changed)
        self.assertEqual(report.reminders_sent, 0)
        self.assertFalse(report.summary_sent)

    def test_leaving_red_clears_red_since_and_a_second_red_counts_twice(self):
        task = self.task("逾期", -1)
        tasks_escalate(today=TODAY)
        Task.objects.filter(pk=task.pk).update(due_date=TODAY + timedelta(days=30))
        tasks_escalate(today=TODAY)
        task = self.reload(task)
        self.assertEqual((task.colour, task.red_since, task.times_red), ("", None, 1))
        self.assertFalse(task.interview_candidate)

        report = tasks_escalate(today=TODAY + timedelta(days=31))
        task = self.reload(task)
        self.assertEqual((task.colour, task.times_red), ("red", 2))
        self.assertTrue(task.interview_candidate)
        self.assertEqual(
            self.escalation_events(task).last().changes,
            {"colour": ["", "red"], "interview_candidate": [False, True]},
        )
        self.assertEqual(report.new_interview_candidates, [task])

    def test_only_open_tasks_are_coloured_and_finished_ones_are_cleared(self):
        for state in ("draft", "verifying", "dismissed", "awaiting_resurvey", "closed"):
            self.task(f"状态 {state}", -5, state=state)
        for state in ("assigned", "under_review"):
            self.task(f"状态 {state}", -5, state=state)
        self.task("无期限", None)
        accepted = self.task(
            "已验收",
            -5,
            state="awaiting_resurvey",
            colour="red",
            red_since=TODAY - timedelta(days=40),
            times_red=2,
            interview_candidate=True,
        )

        report = tasks_escalate(today=TODAY)

        self.assertEqual(
            set(Task.objects.filter(colour="red").values_list("state", flat=True)),
            {"assigned", "under_review"},
        )
        accepted = self.reload(accepted)
        self.assertEqual(
            (accepted.colour, accepted.red_since, accepted.interview_candidate),
            ("", None, False),
        )
        self.assertEqual(accepted.times_red, 2)  # history is kept
        self.assertEqual(
            self.escalation_events(accepted).get().changes,
            {"colour": ["red", ""], "interview_candidate": [True, False]},
        )
        self.assertEqual(dict(report.totals), {"red": 2})

    def test_it_mails_each_responsible_person_once_and_the_office_a_summary(self):
        self.task("三天后到期", 3, email="zhang@example.edu.cn")
        self.task("逾期一天", -1, email="Zhang@example.edu.cn")
        self.task("十天后到期", 10, email="zhang@example.edu.cn")
        self.task(
            "逾期一天（乙）",
            -1,
            lead_unit=self.branch_b,
            person="李老师",
            email="li@example.edu.cn",
        )
        self.task("无邮箱", -1, email="")
        Task.objects.create(
            source=Task.Source.MANUAL,
            title="已在红色",
            lead_unit=self.branch_a,
            responsible_email="wang@example.edu.cn",
            due_date=TODAY - timedelta(days=3),
            state=Task.State.IN_PROGRESS,
            colour="red",
            red_since=TODAY - timedelta(days=2),
            times_red=1,
        )

        report = tasks_escalate(today=TODAY)

        by_address = {tuple(message.to): message for message in mail.outbox}
        self.assertEqual(
            set(by_address),
            {("zhang@example.edu.cn",), ("li@example.edu.cn",), tuple(OFFICE)},
        )
        zhang = by_address[("zhang@example.edu.cn",)]
        self.assertIn("三天后到期", zhang.body)
        self.assertIn("逾期一天", zhang.body)
        self.assertNotIn("十天后到期", zhang.body)
        self.assertIn("蓝色", zhang.body)
        self.assertIn("红色", zhang.body)
        self.assertIn("督办", zhang.subject)
        self.assertNotIn("逾期一天（乙）", zhang.body)
        summary = by_address[tuple(OFFICE)]
        self.assertIn("红 4、黄 0、蓝 1", summary.subject)
        self.assertIn("无邮箱", summary.body)
        self.assertIn("约谈", summary.body)
        self.assertEqual((report.reminders_sent, report.summary_sent), (2, True))

    def test_the_summary_lists_interview_candidates(self):
        self.task(
            "逾期三十一天",
            -31,
            colour="red",
            red_since=TODAY - timedelta(days=31),
            times_red=1,
            person="赵老师",
        )
        tasks_escalate(today=TODAY)
        summary = mail.outbox[-1]
        self.assertEqual(summary.to, OFFICE)
        candidates = summary.body.split("约谈对象")[1]
        self.assertIn("逾期三十一天", candidates)
        self.assertIn("赵老师", candidates)
        self.assertIn("31 天", candidates)

    @override_settings(SUPERVISION_EMAILS=[])
    def test_without_an_office_address_only_reminders_are_sent(self):
        self.task("三天后到期", 3)
        report = tasks_escalate(today=TODAY)
        self.assertEqual([m.to for m in mail.outbox], [["zhang@example.edu.cn"]])
        self.assertFalse(report.summary_sent)

    def test_a_failed_send_records_nothing_so_the_next_run_retries(self):
        task = self.task("三天后到期", 3)
        with (
            mock.patch(
                "django.core.mail.backends.locmem.EmailBackend.send_messages",
                side_effect=OSError("smtp down"),
            ),
            self.assertRaises(OSError),
        ):
            tasks_escalate(today=TODAY)
        self.assertEqual(self.reload(task).colour, "")
        self.assertFalse(self.escalation_events().exists())
        tasks_escalate(today=TODAY)
        self.assertEqual(self.reload(task).colour, "blue")
        self.assertEqual(len(mail.outbox), 2)

    def test_it_uses_the_school_date_when_utc_is_still_yesterday(self):
        # 2026-03-10 17:30 UTC is already 2026-03-11 01:30 in Shanghai.
        due_today = self.task("上海今天到期", 0)
        due_yesterday = self.task("上海昨天到期", -1)
        now = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
        with mock.patch("django.utils.timezone.now", return_value=now):
            report = tasks_escalate()
        self.assertEqual(report.today, TODAY)
        self.assertEqual(self.reload(due_today).colour, "blue")
        # By the UTC date it would be due today (blue); in Shanghai it is overdue.
        self.assertEqual(self.reload(due_yesterday).colour, "red")


@override_settings(SUPERVISION_EMAILS=OFFICE)
class EscalateCommandTests(PersonaTestCase):
    def test_it_prints_the_counts_and_is_idempotent(self):
        for title, days in (("蓝", 3), ("红一", -1), ("红二", -4)):
            Task.objects.create(
                source=Task.Source.MANUAL,
                title=title,
                lead_unit=self.unit_b,
                responsible_email="li@example.edu.cn",
                due_date=TODAY + timedelta(days=days),
                state=Task.State.ASSIGNED,
            )
        out = io.StringIO()
        call_command("escalate_tasks", "--today", "2026-03-11", stdout=out)
        self.assertIn("Supervision 2026-03-11: 3 changed", out.getvalue())
        self.assertIn("blue 1, yellow 0, red 2", out.getvalue())
        self.assertIn("1 reminders, 1 summary", out.getvalue())
        self.assertEqual(len(mail.outbox), 2)

        again = io.StringIO()
        call_command("escalate_tasks", "--today", "2026-03-11", stdout=again)
        self.assertIn("0 changed", again.getvalue())
        self.assertIn("0 reminders, no summary", again.getvalue())
        self.assertEqual(len(mail.outbox), 2)

    def test_it_refuses_a_malformed_date(self):
        with self.assertRaises(CommandError):
            call_command("escalate_tasks", "--today", "11/03/2026")


def test_a_malformed_supervision_address_stops_start_up():
    root = Path(__file__).resolve().parents[2]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DEBUG"} and not key.startswith("DJANGO")
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={
            **env,
            "SECRET_KEY": "x" * 50,
            "SUPERVISION_EMAILS": "ducha@example.edu.cn, not-an-address",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SUPERVISION_EMAILS" in result.stderr
    assert "not-an-address" in result.stderr
