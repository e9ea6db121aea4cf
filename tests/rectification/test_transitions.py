"""The state machine of METHODS.md §8: every action from every state by every persona."""

from datetime import date

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection, transaction

from analysis.models import Finding
from questionnaires.services import ServiceError
from rectification.models import Task, TaskEvent
from rectification.services import (
    RULES,
    TransitionRefused,
    task_create,
    task_report_progress,
    task_transition,
    task_update,
)
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round

S = Task.State


class TransitionMatrixTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        cls.finding = Finding.objects.create(
            campaign=campaign,
            unit=cls.branch_a,
            trigger="statistical",
            title="总体满意率偏低",
            status="confirmed",
        )

    def task_in(self, state: str, *, source: str = "survey") -> Task:
        return Task.objects.create(
            finding=self.finding if source == "survey" else None,
            source=source,
            title="窗口服务态度",
            lead_unit=self.branch_a,
            responsible_person="张老师",
            due_date=date(2027, 3, 1),
            cause_analysis="高峰期人手不足",
            measures="增加午间值班",
            resurvey_verdict="IMPROVED",
            state=state,
        )

    def personas(self):
        return {
            "office": self.fresh(self.leader),
            "manager_a": self.fresh(self.manager_a),
            "manager_b": self.fresh(self.manager_b),
            "reviewer": self.fresh(self.reviewer),
            "anonymous": AnonymousUser(),
        }

    def fresh(self, user):
        return type(user).objects.get(pk=user.pk)

    def test_every_action_from_every_state_by_every_persona(self):
        expected_role = {"office": "office", "manager_a": "manager"}
        for state in S.values:
            for action, rule in RULES.items():
                for name, user in self.personas().items():
                    with self.subTest(state=state, action=action, persona=name):
                        task = self.task_in(state)
                        legal = (
                            state in rule.sources
                            and expected_role.get(name) == rule.who
                        )
                        before = TaskEvent.objects.filter(task=task).count()
                        if legal:
                            moved = task_transition(
                                task=task, action=action, user=user, comment="理由"
                            )
                            expected = rule.target
                            self.assertEqual(moved.state, expected)
                            self.assertEqual(
                                TaskEvent.objects.filter(task=task).count(), before + 1
                            )
                            event = TaskEvent.objects.filter(task=task).last()
                            self.assertEqual(
                                (event.from_state, event.to_state, event.action),
                                (state, expected, action),
                            )
                        else:
                            with self.assertRaises(TransitionRefused) as caught:
                                task_transition(
                                    task=task, action=action, user=user, comment="理由"
                                )
                            self.assertEqual(caught.exception.state, state)
                            self.assertEqual(Task.objects.get(pk=task.pk).state, state)
                            self.assertEqual(
                                TaskEvent.objects.filter(task=task).count(), before
                            )

    def test_refusals_name_the_allowed_actions(self):
        task = self.task_in(S.UNDER_REVIEW)
        with self.assertRaises(TransitionRefused) as caught:
            task_transition(task=task, action="close", user=self.fresh(self.leader))
        self.assertEqual(set(caught.exception.allowed), {"return", "accept"})

    def test_dismissing_and_returning_need_a_reason(self):
        for state, action in ((S.VERIFYING, "dismiss"), (S.UNDER_REVIEW, "return")):
            task = self.task_in(state)
            with self.assertRaises(TransitionRefused):
                task_transition(
                    task=task, action=action, user=self.fresh(self.leader), comment="  "
                )
            self.assertFalse(TaskEvent.objects.filter(task=task).exists())

    def test_closing_needs_an_improved_resurvey(self):
        task = self.task_in(S.AWAITING_RESURVEY)
        Task.objects.filter(pk=task.pk).update(resurvey_verdict="NOT_IMPROVED")
        with self.assertRaises(TransitionRefused):
            task_transition(task=task, action="close", user=self.fresh(self.leader))

    def test_a_plan_needs_causes_and_measures(self):
        task = self.task_in(S.ASSIGNED)
        Task.objects.filter(pk=task.pk).update(measures="")
        with self.assertRaises(TransitionRefused):
            task_transition(
                task=task, action="submit_plan", user=self.fresh(self.manager_a)
            )
        moved = task_transition(
            task=task,
            action="submit_plan",
            user=self.fresh(self.manager_a),
            fields={"measures": "增加值班"},
        )
        self.assertEqual(moved.state, S.IN_PROGRESS)
        self.assertEqual(
            TaskEvent.objects.get(task=task).changes, {"measures": ["", "增加值班"]}
        )

    def test_a_task_not_from_a_survey_closes_on_acceptance(self):
        task = self.task_in(S.UNDER_REVIEW, source="inspection")
        moved = task_transition(
            task=task, action="accept", user=self.fresh(self.leader)
        )
        self.assertEqual(moved.state, S.CLOSED)
        self.assertIsNotNone(moved.lookback_on)

    def test_managers_cannot_set_office_fields_and_the_office_cannot_write_the_plan(
        self,
    ):
        task = self.task_in(S.ASSIGNED)
        with self.assertRaises(ServiceError):
            task_transition(
                task=task,
                action="submit_plan",
                user=self.fresh(self.manager_a),
                fields={"due_date": date(2030, 1, 1)},
            )
        with self.assertRaises(ServiceError):
            task_update(
                task=task, user=self.fresh(self.leader), fields={"measures": "代写"}
            )
        self.assertEqual(Task.objects.get(pk=task.pk).due_date, date(2027, 3, 1))
        self.assertFalse(TaskEvent.objects.filter(task=task).exists())

    def test_field_changes_and_progress_write_one_event_each(self):
        task = self.task_in(S.IN_PROGRESS)
        task_update(
            task=task,
            user=self.fresh(self.leader),
            fields={"due_date": date(2027, 4, 1)},
        )
        task_report_progress(
            task=task, user=self.fresh(self.manager_a), text="已增加午间值班"
        )
        events = list(TaskEvent.objects.filter(task=task))
        self.assertEqual([e.kind for e in events], ["change", "progress"])
        self.assertEqual(events[0].changes, {"due_date": ["2027-03-01", "2027-04-01"]})
        with self.assertRaises(TransitionRefused):
            task_report_progress(
                task=task, user=self.fresh(self.manager_b), text="越权"
            )

    def test_tasks_come_from_confirmed_findings_or_by_hand(self):
        task = task_create(
            user=self.fresh(self.leader), finding=self.finding, fields={}
        )
        self.assertEqual(
            (task.source, task.lead_unit, task.state),
            ("survey", self.branch_a, S.DRAFT),
        )
        second = task_create(
            user=self.fresh(self.leader),
            finding=self.finding,
            fields={"title": "第二项措施"},
        )
        self.assertEqual(self.finding.tasks.count(), 2)
        self.assertEqual(second.title, "第二项措施")
        candidate = Finding.objects.create(
            campaign=self.finding.campaign,
            unit=self.branch_b,
            trigger="manual",
            title="待定",
        )
        with self.assertRaises(ServiceError):
            task_create(user=self.fresh(self.leader), finding=candidate, fields={})
        with self.assertRaises(ServiceError):
            task_create(
                user=self.fresh(self.manager_a),
                fields={"title": "x", "lead_unit": self.branch_a, "source": "manual"},
            )


class AppendOnlyTests(PersonaTestCase):
    def test_postgresql_refuses_updating_or_deleting_events(self):
        if connection.vendor != "postgresql":
            self.skipTest("the append-only trigger is PostgreSQL's")
        task = Task.objects.create(source="manual", title="x", lead_unit=self.branch_a)
        event = TaskEvent.objects.create(task=task, kind="created")
        with self.assertRaises(IntegrityError), transaction.atomic():
            TaskEvent.objects.filter(pk=event.pk).update(comment="改写")
        with self.assertRaises(IntegrityError), transaction.atomic():
            TaskEvent.objects.filter(pk=event.pk).delete()
        self.assertTrue(TaskEvent.objects.filter(pk=event.pk, comment="").exists())
