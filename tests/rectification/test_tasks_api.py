"""Tasks over the API: scope, transitions with 409 refusals, events, progress, extensions, ledger."""

import io
from datetime import date

from openpyxl import load_workbook

from analysis.models import Finding
from rectification.models import Task, TaskEvent
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round

URL = "/api/v1/tasks/"


class TaskApiTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        cls.finding_a = Finding.objects.create(
            campaign=cls.campaign,
            unit=cls.branch_a,
            trigger="statistical",
            title="甲支部满意率偏低",
            status="confirmed",
        )
        cls.finding_b = Finding.objects.create(
            campaign=cls.campaign,
            unit=cls.branch_b,
            trigger="statistical",
            title="乙支部满意率偏低",
            status="confirmed",
        )

    def create(self, finding):
        response = self.api(self.leader).post(
            URL, {"finding": finding.pk}, format="json"
        )
        self.assertEqual(response.status_code, 201, response.content)
        return Task.objects.get(pk=response.json()["id"])

    def move(self, user, task, action, **body):
        return self.api(user).post(
            f"{URL}{task.pk}/transitions/", {"action": action, **body}, format="json"
        )

    def test_the_whole_path_through_the_api(self):
        task = self.create(self.finding_a)
        office, manager = self.leader, self.manager_a
        self.assertEqual(self.move(office, task, "verify").status_code, 200)
        response = self.move(
            office,
            task,
            "assign",
            fields={"responsible_person": "王书记", "due_date": "2027-03-01"},
        )
        self.assertEqual(response.json()["state"], "assigned", response.content)
        response = self.move(
            manager,
            task,
            "submit_plan",
            fields={"cause_analysis": "宣传不到位", "measures": "每月公示"},
        )
        self.assertEqual(response.json()["state"], "in_progress", response.content)
        self.assertEqual(
            self.api(manager)
            .post(f"{URL}{task.pk}/progress/", {"text": "已公示一次"}, format="json")
            .status_code,
            201,
        )
        self.assertEqual(
            self.move(manager, task, "request_acceptance").json()["state"],
            "under_review",
        )
        self.assertEqual(
            self.move(office, task, "return", comment="缺少佐证").json()["state"],
            "in_progress",
        )
        self.move(manager, task, "request_acceptance")
        self.assertEqual(
            self.move(office, task, "accept").json()["state"], "awaiting_resurvey"
        )
        events = self.api(manager).get(f"{URL}{task.pk}/events/").json()["results"]
        self.assertEqual(
            [e["action"] or e["kind"] for e in events],
            [
                "created",
                "verify",
                "assign",
                "submit_plan",
                "progress",
                "request_acceptance",
                "return",
                "request_acceptance",
                "accept",
            ],
        )

    def test_a_refusal_is_409_with_state_action_and_allowed_actions(self):
        task = self.create(self.finding_a)
        # A draft is the office's alone: the manager cannot even see it.
        self.assertEqual(self.move(self.manager_a, task, "verify").status_code, 404)
        response = self.move(self.leader, task, "accept")
        self.assertEqual(response.status_code, 409)
        body = response.json()
        self.assertEqual((body["state"], body["action"]), ("draft", "accept"))
        self.assertEqual(body["allowed_actions"], ["verify"])
        self.assertEqual(
            TaskEvent.objects.filter(task=task).count(), 1
        )  # only "created"
        Task.objects.filter(pk=task.pk).update(state=Task.State.ASSIGNED)
        response = self.move(self.manager_a, task, "accept")
        self.assertEqual(response.status_code, 409)
        body = response.json()
        self.assertEqual((body["state"], body["action"]), ("assigned", "accept"))
        self.assertNotIn("accept", body["allowed_actions"])

    def test_manager_a_can_neither_see_nor_touch_unit_bs_tasks(self):
        task_b = self.create(self.finding_b)
        client = self.api(self.manager_a)
        self.assertEqual(client.get(URL).json()["count"], 0)
        for method, path, body in (
            ("get", f"{URL}{task_b.pk}/", None),
            ("get", f"{URL}{task_b.pk}/events/", None),
            ("post", f"{URL}{task_b.pk}/transitions/", {"action": "verify"}),
            ("post", f"{URL}{task_b.pk}/progress/", {"text": "x"}),
            ("patch", f"{URL}{task_b.pk}/", {"measures": "x"}),
            (
                "post",
                f"{URL}{task_b.pk}/extensions/",
                {"reason": "x", "new_due_date": "2030-01-01"},
            ),
        ):
            response = getattr(client, method)(path, body, format="json")
            self.assertEqual(response.status_code, 404, path)
        self.assertEqual(TaskEvent.objects.filter(task=task_b).count(), 1)

    def test_the_reviewer_reads_but_cannot_act(self):
        task = self.create(self.finding_a)
        self.assertEqual(self.api(self.reviewer).get(URL).json()["count"], 0)  # draft
        Task.objects.filter(pk=task.pk).update(state=Task.State.ASSIGNED)
        self.assertEqual(self.api(self.reviewer).get(URL).json()["count"], 1)
        self.assertEqual(self.move(self.reviewer, task, "submit_plan").status_code, 409)
        self.assertEqual(self.api().get(URL).status_code, 401)

    def test_only_the_office_creates_tasks_and_only_from_confirmed_findings(self):
        self.assertIn(
            self.api(self.manager_a)
            .post(URL, {"finding": self.finding_a.pk}, format="json")
            .status_code,
            (400, 404),
        )
        candidate = Finding.objects.create(
            campaign=self.campaign, unit=self.branch_a, trigger="manual", title="未确认"
        )
        self.assertEqual(
            self.api(self.leader)
            .post(URL, {"finding": candidate.pk}, format="json")
            .status_code,
            400,
        )
        manual = self.api(self.leader).post(
            URL,
            {
                "source": "inspection",
                "title": "督查发现档案不全",
                "lead_unit": self.unit_b.pk,
            },
            format="json",
        )
        self.assertEqual(manual.status_code, 201, manual.content)
        self.assertEqual(
            self.api(self.leader)
            .post(URL, {"title": "缺牵头单位"}, format="json")
            .status_code,
            400,
        )

    def test_bad_field_values_are_400(self):
        task = self.create(self.finding_a)
        self.move(self.leader, task, "verify")
        self.assertEqual(
            self.move(
                self.leader, task, "assign", fields={"due_date": "明天"}
            ).status_code,
            400,
        )
        self.assertEqual(
            self.move(
                self.leader, task, "assign", fields={"state": "closed"}
            ).status_code,
            400,
        )
        self.assertEqual(Task.objects.get(pk=task.pk).state, "verifying")

    def test_extension_requested_and_approved(self):
        task = self.create(self.finding_a)
        self.move(self.leader, task, "verify")
        self.move(
            self.leader,
            task,
            "assign",
            fields={"responsible_person": "王", "due_date": "2027-03-01"},
        )
        response = self.api(self.manager_a).post(
            f"{URL}{task.pk}/extensions/",
            {"reason": "寒假", "new_due_date": "2027-04-01"},
            format="json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        extension = response.json()["id"]
        self.assertEqual(
            self.api(self.manager_a)
            .post(
                f"{URL}{task.pk}/extensions/{extension}/decide/",
                {"approve": True},
                format="json",
            )
            .status_code,
            409,
        )
        decided = self.api(self.leader).post(
            f"{URL}{task.pk}/extensions/{extension}/decide/",
            {"approve": True},
            format="json",
        )
        self.assertEqual(decided.json()["status"], "approved")
        self.assertEqual(Task.objects.get(pk=task.pk).due_date, date(2027, 4, 1))
        early = self.api(self.manager_a).post(
            f"{URL}{task.pk}/extensions/",
            {"reason": "再延", "new_due_date": "2027-01-01"},
            format="json",
        )
        self.assertEqual(early.status_code, 400)

    def test_the_ledger_summarises_and_exports(self):
        task = self.create(self.finding_a)
        self.create(self.finding_b)
        Task.objects.filter(pk=task.pk).update(
            state="closed", closed_at=task.created_at
        )
        summary = self.api(self.leader).get(f"{URL}ledger/").json()
        self.assertEqual(
            (summary["total"], summary["closed"], summary["closure_rate"]), (2, 1, 0.5)
        )
        self.assertEqual({u["unit_code"] for u in summary["units"]}, {"A-1", "B-1"})
        self.assertEqual(
            {
                u["unit_code"]
                for u in self.api(self.manager_a).get(f"{URL}ledger/").json()["units"]
            },
            {"A-1"},
        )
        sheet = load_workbook(
            io.BytesIO(
                self.api(self.leader).get(f"{URL}ledger/", {"filetype": "xlsx"}).content
            )
        ).active
        header = [cell.value for cell in sheet[1]]
        self.assertEqual(header[:4], ["序号", "问题来源", "存在问题", "原因分析"])
        self.assertEqual(sheet.max_row, 3)
