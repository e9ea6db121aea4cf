"""The whole loop: a round, its analysis, a finding, a task worked through, and the
next round deciding whether the task can be closed (销号) or must be reopened."""

import io

from django.core.management import call_command

from analysis.models import Finding
from questionnaires.services import campaign_close
from rectification.models import Task, TaskEvent
from tests.analysis.synthetic import fill
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of

URL = "/api/v1/tasks/"


class WholeLoopTests(PersonaTestCase):
    def spring_task(self) -> Task:
        spring = make_round(
            self.school, title="春季测评", kinds={"branch": "wuhao-branch"}
        )
        fill(point_of(spring, self.branch_a), n=120, satisfied=96)  # 80%: RED
        fill(point_of(spring, self.branch_b), n=120, satisfied=118)
        campaign_close(campaign=spring)
        call_command("analyze_campaign", str(spring.pk), stdout=io.StringIO())
        finding = Finding.objects.get(
            campaign=spring, unit=self.branch_a, dimension_code=""
        )
        office, manager = self.api(self.leader), self.api(self.manager_a)
        self.assertEqual(
            office.post(
                f"/api/v1/findings/{finding.pk}/confirm/",
                {"verification": "true"},
                format="json",
            ).status_code,
            200,
        )
        task_id = office.post(URL, {"finding": finding.pk}, format="json").json()["id"]

        def move(client, action, **body):
            response = client.post(
                f"{URL}{task_id}/transitions/",
                {"action": action, **body},
                format="json",
            )
            self.assertEqual(response.status_code, 200, response.content)
            return response.json()

        move(office, "verify")
        move(
            office,
            "assign",
            fields={"responsible_person": "甲支部书记", "due_date": "2027-01-15"},
        )
        move(
            manager,
            "submit_plan",
            fields={
                "cause_analysis": "联系群众不够",
                "goal": "满意率达到95%",
                "measures": "每月走访",
            },
        )
        self.assertEqual(
            manager.post(
                f"{URL}{task_id}/progress/", {"text": "已走访三次"}, format="json"
            ).status_code,
            201,
        )
        move(manager, "request_acceptance")
        self.assertEqual(move(office, "accept")["state"], "awaiting_resurvey")
        self.spring = spring
        return Task.objects.get(pk=task_id)

    def autumn(self, satisfied: int) -> None:
        autumn = make_round(
            self.school,
            title="秋季测评",
            kinds={"branch": "wuhao-branch"},
            baseline=self.spring,
        )
        fill(point_of(autumn, self.branch_a), n=120, satisfied=satisfied)
        fill(point_of(autumn, self.branch_b), n=120, satisfied=118)
        campaign_close(campaign=autumn)
        call_command("analyze_campaign", str(autumn.pk), stdout=io.StringIO())

    def test_better_answers_give_improved_and_the_office_closes(self):
        task = self.spring_task()
        self.autumn(satisfied=117)  # 97.5%
        task.refresh_from_db()
        self.assertEqual(
            (task.state, task.resurvey_verdict), ("awaiting_resurvey", "IMPROVED")
        )
        event = TaskEvent.objects.filter(task=task).last()
        self.assertEqual(event.kind, "resurvey")
        self.assertAlmostEqual(event.changes["figures"]["after"]["rate"], 117 / 120)
        response = self.api(self.leader).post(
            f"{URL}{task.pk}/transitions/", {"action": "close"}, format="json"
        )
        self.assertEqual(response.json()["state"], "closed")
        self.assertIsNotNone(response.json()["lookback_on"])

    def test_worse_answers_give_not_improved_and_reopen_the_task(self):
        task = self.spring_task()
        self.autumn(satisfied=90)  # 75%
        task.refresh_from_db()
        self.assertEqual(
            (task.state, task.resurvey_verdict), ("in_progress", "NOT_IMPROVED")
        )
        event = TaskEvent.objects.filter(task=task).last()
        self.assertEqual(
            (event.action, event.from_state, event.to_state),
            ("reopen", "awaiting_resurvey", "in_progress"),
        )
        self.assertIsNone(event.actor)
        close = self.api(self.leader).post(
            f"{URL}{task.pk}/transitions/", {"action": "close"}, format="json"
        )
        self.assertEqual(close.status_code, 409)

    def test_a_second_analysis_does_not_decide_again(self):
        task = self.spring_task()
        self.autumn(satisfied=117)
        events = TaskEvent.objects.filter(task=task).count()
        autumn = task.finding.campaign.followups.get()
        call_command("analyze_campaign", str(autumn.pk), stdout=io.StringIO())
        self.assertEqual(TaskEvent.objects.filter(task=task).count(), events)
