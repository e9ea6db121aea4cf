"""Tasks and their figures before publication: drafts and tasks being verified are
the office's; titles carry no figures; a task's figures reach anyone else only
through analysis.access (published round, a unit in their scope, not hidden), so a
cooperating unit never reads the lead unit's; the public board shows published
rounds only."""

from __future__ import annotations

import re

from analysis.models import Finding
from analysis.services import finding_decide
from questionnaires.services import campaign_publish
from rectification.models import Task
from rectification.resurvey import tasks_resurvey
from rectification.services import task_create, task_transition
from tests.analysis.synthetic import analysed, fill, published
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of

FIGURE = re.compile(r"\d+(\.\d+)?\s*%")


class TaskVisibilityTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        kinds = {"branch": "wuhao-branch"}
        cls.spring = make_round(cls.school, title="春季", kinds=kinds)
        fill(point_of(cls.spring, cls.branch_a), n=120, satisfied=84)  # 70%: RED
        fill(point_of(cls.spring, cls.branch_b), n=120, satisfied=119)
        analysed(cls.spring)
        cls.finding = Finding.objects.get(
            campaign=cls.spring, unit=cls.branch_a, dimension_code=""
        )
        finding_decide(finding=cls.finding, user=cls.leader, confirm=True)
        cls.draft = task_create(
            user=cls.leader,
            finding=cls.finding,
            fields={"cooperating_units": [cls.branch_b]},
        )
        cls.assigned = task_create(
            user=cls.leader,
            finding=cls.finding,
            fields={"title": "整改甲支部", "cooperating_units": [cls.branch_b]},
        )
        task_transition(task=cls.assigned, action="verify", user=cls.leader)
        cls.verifying = Task.objects.get(pk=cls.assigned.pk)
        cls.verifying_copy = task_create(
            user=cls.leader, finding=cls.finding, fields={"title": "核实中"}
        )
        task_transition(task=cls.verifying_copy, action="verify", user=cls.leader)
        task_transition(
            task=cls.assigned,
            action="assign",
            user=cls.leader,
            fields={"responsible_person": "王书记", "due_date": "2027-03-01"},
        )

    def listed(self, user) -> set[int]:
        response = self.api(user).get("/api/v1/tasks/")
        self.assertEqual(response.status_code, 200)
        return {item["id"] for item in response.json()["results"]}

    def page(self, user, task):
        self.client.force_login(user)
        return self.client.get(f"/manage/tasks/{task.pk}/")

    def test_the_findings_title_carries_no_figures(self):
        self.assertIsNone(FIGURE.search(self.finding.title), self.finding.title)
        for task in Task.objects.all():
            self.assertIsNone(FIGURE.search(task.title), task.title)

    def test_drafts_and_tasks_being_verified_are_the_offices(self):
        hidden = {self.draft.pk, self.verifying_copy.pk}
        self.assertEqual(self.listed(self.leader), hidden | {self.assigned.pk})
        for user in (self.manager_a, self.manager_b, self.reviewer):
            self.assertEqual(self.listed(user), {self.assigned.pk}, user)
            for task in (self.draft, self.verifying_copy):
                self.assertEqual(self.page(user, task).status_code, 404, user)
        self.client.force_login(self.manager_a)
        ledger = self.client.get("/manage/ledger/export.csv").content.decode(
            "utf-8-sig"
        )
        self.assertNotIn("核实中", ledger)
        self.assertIn("整改甲支部", ledger)

    def test_before_publication_only_the_office_reads_the_snapshot(self):
        office = self.page(self.leader, self.assigned).content.decode()
        self.assertIn("70.0%", office)
        for user in (self.manager_a, self.manager_b):
            html = self.page(user, self.assigned).content.decode()
            self.assertEqual(self.page(user, self.assigned).status_code, 200)
            self.assertNotIn("70.0%", html, user)

    def test_after_publication_the_lead_unit_reads_it_and_the_cooperating_unit_does_not(
        self,
    ):
        campaign_publish(campaign=self.spring)
        self.assertIn(
            "70.0%", self.page(self.manager_a, self.assigned).content.decode()
        )
        cooperating = self.page(self.manager_b, self.assigned)
        self.assertEqual(cooperating.status_code, 200)
        self.assertNotIn("70.0%", cooperating.content.decode())


class ResurveyFigureTests(PersonaTestCase):
    """A re-survey of an open round with n = 4 stored raw figures that managers read."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        kinds = {"branch": "wuhao-branch"}
        cls.spring = make_round(cls.school, title="春季", kinds=kinds)
        fill(point_of(cls.spring, cls.branch_a), n=120, satisfied=84)
        fill(point_of(cls.spring, cls.branch_b), n=120, satisfied=119)
        analysed(cls.spring)
        published(cls.spring)
        finding = Finding.objects.get(
            campaign=cls.spring, unit=cls.branch_a, dimension_code=""
        )
        finding_decide(finding=finding, user=cls.leader, confirm=True)
        cls.task = task_create(user=cls.leader, finding=finding, fields={})
        Task.objects.filter(pk=cls.task.pk).update(state=Task.State.AWAITING_RESURVEY)
        cls.autumn = make_round(
            cls.school, title="秋季", kinds=kinds, baseline=cls.spring
        )
        fill(point_of(cls.autumn, cls.branch_a), n=4, satisfied=4)  # hidden
        fill(point_of(cls.autumn, cls.branch_b), n=60, satisfied=59)
        tasks_resurvey(run=analysed(cls.autumn))
        cls.task.refresh_from_db()

    def figures(self, user):
        task = self.api(user).get(f"/api/v1/tasks/{self.task.pk}/").json()
        events = self.api(user).get(f"/api/v1/tasks/{self.task.pk}/events/").json()
        in_events = [e["changes"].get("figures") for e in events["results"]]
        return task["resurvey_figures"], [f for f in in_events if f]

    def test_the_re_survey_was_recorded(self):
        self.assertEqual(self.task.resurvey_figures["after"]["n_valid"], 4)

    def test_a_manager_reads_no_re_survey_figures_of_an_open_round(self):
        self.assertEqual(self.figures(self.manager_a), (None, []))
        self.client.force_login(self.manager_a)
        html = self.client.get(f"/manage/tasks/{self.task.pk}/").content.decode()
        self.assertNotIn("整改后（回访轮次）", html)

    def test_nor_once_published_when_the_unit_was_hidden(self):
        published(self.autumn)
        self.assertEqual(self.figures(self.manager_a), (None, []))

    def test_the_office_reads_them(self):
        figures, in_events = self.figures(self.leader)
        self.assertEqual(figures["after"]["n_valid"], 4)
        self.assertTrue(in_events)


def test_titles_made_before_carry_their_figures_no_more():
    from importlib import import_module

    migration = import_module("rectification.migrations.0004_titles_without_figures")
    assert migration.without_figures("总体满意率 70.0%，显著低于目标 95%") == (
        "总体满意率显著低于目标"
    )
    assert migration.without_figures("“领导班子好”满意率 81.3%，显著低于目标") == (
        "“领导班子好”满意率显著低于目标"
    )
    for kept in ("改进窗口服务态度", "总体满意率 70%（办公室改写）"):
        assert migration.without_figures(kept) == kept
