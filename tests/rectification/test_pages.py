"""The rectification pages: the unit inbox, the task page and the ledger."""

import csv
import io
import tempfile
from datetime import date, timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from analysis.models import Finding
from rectification.models import Evidence, ExtensionRequest, Task, TaskEvent
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round

INBOX = "/manage/rectification/"
LEDGER = "/manage/ledger/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def task_url(task, rest=""):
    return f"/manage/tasks/{task.pk}/{rest}"


class PageTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.media = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        cls.enterClassContext(override_settings(MEDIA_ROOT=cls.media))
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        cls.campaign.status = "published"
        cls.campaign.save()
        snapshot = {
            "suppressed": False,
            "rate": 0.61,
            "ci": [0.52, 0.7],
            "n_valid": 80,
            "n_satisfied": 49,
            "p_value": 0.0004,
            "q_value": 0.002,
            "flag": "RED",
            "computed_at": "2026-01-05T10:00:00",
        }
        cls.finding_a = Finding.objects.create(
            campaign=cls.campaign,
            unit=cls.branch_a,
            trigger="statistical",
            title="甲支部满意率偏低",
            status="confirmed",
            evidence=snapshot,
        )
        cls.finding_b = Finding.objects.create(
            campaign=cls.campaign,
            unit=cls.branch_b,
            trigger="statistical",
            dimension_code="d1",
            title="乙支部满意率偏低",
            status="confirmed",
            evidence={**snapshot, "suppressed": True},
        )
        cls.candidate = Finding.objects.create(
            campaign=cls.campaign,
            unit=cls.branch_a,
            trigger="theme",
            theme_key="t1",
            title="窗口排队时间长",
        )
        cls.task_a = cls.make_task(cls.finding_a, "甲支部整改公示")
        cls.task_b = cls.make_task(cls.finding_b, "乙支部整改公示")

    @classmethod
    def make_task(cls, finding, title, **extra):
        task = Task.objects.create(
            finding=finding,
            campaign=finding.campaign,
            source="survey",
            title=title,
            lead_unit=finding.unit,
            **extra,
        )
        TaskEvent.objects.create(task=task, kind="created", actor=cls.leader)
        return task

    def post(self, user, url, data=None, **extra):
        self.login(user)
        return self.client.post(url, data or {}, **extra)

    def act(self, user, task, action, **data):
        return self.post(user, task_url(task, f"actions/{action}/"), data)

    def events(self, task):
        return TaskEvent.objects.filter(task=task).count()

    # --- who sees what ------------------------------------------------------

    def test_it_requires_login(self):
        for url in (INBOX, LEDGER, task_url(self.task_a), LEDGER + "export.csv"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 302)
                self.assertIn("/login", response["Location"])

    def assign(self, *tasks) -> None:
        """Past verification, where the lead unit's managers and reviewers see it."""
        Task.objects.filter(pk__in=[t.pk for t in tasks]).update(state="assigned")

    def test_each_persona_on_each_page(self):
        self.assign(self.task_a, self.task_b)
        cases = [
            (self.leader, INBOX, 200),
            (self.manager_a, INBOX, 200),
            (self.manager_b, INBOX, 200),
            (self.reviewer, INBOX, 200),
            (self.leader, LEDGER, 200),
            (self.manager_a, LEDGER, 200),
            (self.manager_b, LEDGER, 200),
            (self.reviewer, LEDGER, 200),
            (self.leader, task_url(self.task_a), 200),
            (self.leader, task_url(self.task_b), 200),
            (self.manager_a, task_url(self.task_a), 200),
            (self.manager_a, task_url(self.task_b), 404),
            (self.manager_b, task_url(self.task_a), 404),
            (self.manager_b, task_url(self.task_b), 200),
            (self.reviewer, task_url(self.task_a), 200),
        ]
        for user, url, status in cases:
            with self.subTest(user=user.username, url=url):
                self.login(user)
                self.assertEqual(self.client.get(url).status_code, status)

    def test_the_inbox_shows_candidates_to_the_office_only(self):
        self.login(self.leader)
        page = self.client.get(INBOX).content.decode()
        self.assertIn("窗口排队时间长", page)
        self.assertIn(f"/manage/findings/{self.finding_a.pk}/#new-task", page)
        self.login(self.manager_a)
        page = self.client.get(INBOX).content.decode()
        self.assertNotIn("窗口排队时间长", page)
        self.assertNotIn("#new-task", page)
        self.assertIn("甲支部满意率偏低", page)
        self.assertNotIn("乙支部", page)

    def test_the_inbox_groups_returned_and_overdue_tasks(self):
        returned = self.make_task(self.finding_a, "退回的任务", state="in_progress")
        TaskEvent.objects.create(
            task=returned,
            kind="transition",
            action="return",
            from_state="under_review",
            to_state="in_progress",
            comment="缺少佐证照片",
        )
        self.make_task(
            self.finding_a,
            "逾期的任务",
            state="under_review",
            colour="red",
            due_date=timezone.localdate() - timedelta(days=3),
        )
        self.login(self.manager_a)
        response = self.client.get(INBOX)
        groups = response.context["groups"]
        self.assertEqual([t.title for t in groups["returned"]], ["退回的任务"])
        self.assertEqual([t.title for t in groups["due"]], ["逾期的任务"])
        self.assertContains(response, "缺少佐证照片")
        self.assertContains(response, "duban-red")

    def test_a_closed_task_waits_on_nobody(self):
        closed = self.make_task(self.finding_a, "已销号的任务", state="closed")
        self.login(self.leader)
        groups = self.client.get(INBOX).context["groups"]
        self.assertIn(
            "reopen", [a for t in groups["other"] if t == closed for a in t.actions]
        )
        self.assertNotIn(closed, groups["action"])
        self.assertIn(closed, groups["other"])

    def test_manager_a_cannot_touch_b_s_task(self):
        self.task_b.state = "in_progress"
        self.task_b.save()
        before = self.events(self.task_b)
        upload = SimpleUploadedFile("x.pdf", PDF)
        for url, data in [
            (task_url(self.task_b, "actions/request_acceptance/"), {}),
            (task_url(self.task_b, "progress/"), {"text": "偷偷报告"}),
            (task_url(self.task_b, "evidence/"), {"file": upload}),
            (
                task_url(self.task_b, "extensions/"),
                {"reason": "x", "new_due_date": "2030-01-01"},
            ),
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.post(self.manager_a, url, data).status_code, 404)
        self.assertEqual(self.events(self.task_b), before)
        self.assertFalse(Evidence.objects.filter(task=self.task_b).exists())

    def test_non_office_sees_no_suppressed_figures(self):
        self.assign(self.task_b)
        self.login(self.manager_b)
        response = self.client.get(task_url(self.task_b))
        self.assertIsNone(response.context["snapshot"])
        self.assertContains(response, "数据不予显示")
        self.assertNotContains(response, "61.0%")
        self.login(self.leader)
        self.assertContains(self.client.get(task_url(self.task_b)), "61.0%")

    # --- the whole path through the forms --------------------------------------

    def test_the_whole_path_through_the_forms(self):
        task, office, manager = self.task_a, self.leader, self.manager_a
        steps = [
            (office, "actions/verify/", {}, "verifying"),
            (
                office,
                "actions/assign/",
                {
                    "responsible_person": "王书记",
                    "responsible_email": "wang@example.edu",
                    "responsible_leader": "李副书记",
                    "due_date": "2027-03-01",
                    "task_type": "deadline",
                },
                "assigned",
            ),
            (
                manager,
                "actions/submit_plan/",
                {
                    "cause_analysis": "宣传不到位",
                    "goal": "满意率 85%",
                    "measures": "每月公示",
                },
                "in_progress",
            ),
            (manager, "progress/", {"text": "已公示一次"}, "in_progress"),
            (
                manager,
                "evidence/",
                {"file": SimpleUploadedFile("公示.pdf", PDF)},
                "in_progress",
            ),
            (manager, "actions/request_acceptance/", {}, "under_review"),
            (office, "actions/return/", {"comment": "缺少照片"}, "in_progress"),
            (manager, "actions/request_acceptance/", {}, "under_review"),
            (office, "actions/accept/", {}, "awaiting_resurvey"),
        ]
        for user, rest, data, state in steps:
            with self.subTest(step=rest):
                before = self.events(task)
                response = self.post(user, task_url(task, rest), data)
                self.assertRedirects(response, task_url(task))
                self.assertEqual(self.events(task), before + 1)
                task.refresh_from_db()
                self.assertEqual(task.state, state)
        self.assertEqual(task.responsible_person, "王书记")
        self.assertEqual(task.due_date, date(2027, 3, 1))
        self.assertEqual(task.measures, "每月公示")
        returned = task.events.get(action="return")
        self.assertEqual((returned.actor, returned.comment), (office, "缺少照片"))
        page = self.client.get(task_url(task))
        self.assertContains(page, "缺少照片")
        self.assertContains(page, "公示.pdf")
        self.assertContains(page, Evidence.objects.get(task=task).sha256)
        timeline = [row["event"].action for row in page.context["timeline"]]
        self.assertEqual(timeline[:3], ["", "verify", "assign"])

    def test_the_page_offers_assign_and_submit_plan_with_their_fields(self):
        self.act(self.leader, self.task_a, "verify")
        self.login(self.leader)
        page = self.client.get(task_url(self.task_a))
        self.assertEqual(
            [a["name"] for a in page.context["actions"]], ["dismiss", "assign"]
        )
        self.assertContains(page, 'name="responsible_person"')
        self.act(
            self.leader,
            self.task_a,
            "assign",
            responsible_person="王书记",
            due_date="2027-03-01",
        )
        self.login(self.manager_a)
        page = self.client.get(task_url(self.task_a))
        self.assertEqual([a["name"] for a in page.context["actions"]], ["submit_plan"])
        self.assertEqual(
            [t.title for t in self.client.get(INBOX).context["groups"]["action"]],
            ["甲支部整改公示"],
        )
        self.login(self.manager_b)
        self.assertEqual(self.client.get(INBOX).context["groups"]["action"], [])

    def test_a_refused_action_re_renders_with_the_message(self):
        Task.objects.filter(pk=self.task_a.pk).update(state="under_review")
        before = self.events(self.task_a)
        response = self.act(self.manager_a, self.task_a, "accept")
        self.assertEqual(response.status_code, 409)
        self.assertContains(response, "您无权对该任务执行", status_code=409)
        self.assertEqual(self.events(self.task_a), before)
        self.task_a.refresh_from_db()
        self.assertEqual(self.task_a.state, "under_review")

    def test_assign_without_a_person_is_refused_and_changes_nothing(self):
        self.act(self.leader, self.task_a, "verify")
        response = self.act(
            self.leader, self.task_a, "assign", responsible_leader="李副书记"
        )
        self.assertContains(response, "交办需要", status_code=409)
        self.task_a.refresh_from_db()
        self.assertEqual(
            (self.task_a.state, self.task_a.responsible_leader), ("verifying", "")
        )

    def test_dismiss_without_a_reason_is_refused_on_the_page(self):
        self.act(self.leader, self.task_a, "verify")
        response = self.act(self.leader, self.task_a, "dismiss", comment="  ")
        self.assertContains(response, "此操作需要填写理由", status_code=409)
        self.task_a.refresh_from_db()
        self.assertEqual(self.task_a.state, "verifying")

    def test_a_bad_upload_is_refused(self):
        self.task_a.state = "in_progress"
        self.task_a.save()
        response = self.post(
            self.manager_a,
            task_url(self.task_a, "evidence/"),
            {"file": SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>")},
        )
        self.assertContains(response, "只接受 PDF", status_code=400)
        self.assertFalse(Evidence.objects.exists())

    def test_an_extension_is_requested_and_approved(self):
        self.task_a.state, self.task_a.due_date = "in_progress", date(2027, 1, 1)
        self.task_a.save()
        self.post(
            self.manager_a,
            task_url(self.task_a, "extensions/"),
            {"reason": "寒假", "new_due_date": "2027-03-01"},
        )
        extension = ExtensionRequest.objects.get(task=self.task_a)
        url = task_url(self.task_a, f"extensions/{extension.pk}/decide/")
        self.assertEqual(
            self.post(self.manager_a, url, {"approve": "on"}).status_code, 409
        )
        self.assertRedirects(
            self.post(self.leader, url, {"approve": "on"}), task_url(self.task_a)
        )
        self.task_a.refresh_from_db()
        self.assertEqual(self.task_a.due_date, date(2027, 3, 1))

    # --- findings on the inbox -------------------------------------------------

    def test_dismissing_a_finding_needs_a_reason(self):
        url = f"/manage/findings/{self.candidate.pk}/decide/"
        response = self.post(self.leader, url, {"comment": ""})
        self.assertContains(response, "排除问题需要说明理由", status_code=400)
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, "candidate")
        self.post(self.leader, url, {"comment": "与事实不符"})
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, "dismissed")

    def test_the_office_confirms_a_finding_and_creates_a_task(self):
        url = f"/manage/findings/{self.candidate.pk}/decide/"
        self.post(self.leader, url, {"confirm": "on", "verification": "true"})
        self.candidate.refresh_from_db()
        self.assertEqual(self.candidate.status, "confirmed")
        due = timezone.localdate() + timedelta(days=30)
        response = self.post(
            self.leader,
            f"/manage/findings/{self.candidate.pk}/task/",
            {
                "title": "缩短排队时间",
                "requirements": "增设窗口",
                "task_type": "deadline",
                "responsible_person": "王书记",
                "due_date": due.isoformat(),
                "then": "draft",
            },
        )
        task = Task.objects.get(title="缩短排队时间")
        self.assertRedirects(response, task_url(task))
        self.assertEqual(
            (task.lead_unit, task.state, task.requirements, task.due_date),
            (self.branch_a, "draft", "增设窗口", due),
        )

    def test_a_manager_cannot_decide_findings(self):
        url = f"/manage/findings/{self.finding_a.pk}/decide/"
        self.assertEqual(
            self.post(self.manager_a, url, {"confirm": "on"}).status_code, 404
        )
        url = f"/manage/findings/{self.finding_a.pk}/task/"
        self.assertEqual(
            self.post(self.manager_a, url, {"title": "x"}).status_code, 404
        )

    # --- the ledger ----------------------------------------------------------------

    def test_the_ledger_exports_only_visible_tasks(self):
        self.assign(self.task_a, self.task_b)
        self.login(self.manager_a)
        response = self.client.get(LEDGER + "export.csv")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        self.assertEqual(rows[0][:3], ["序号", "问题来源", "存在问题"])
        self.assertEqual([row[2] for row in rows[1:]], ["甲支部整改公示"])
        self.login(self.leader)
        response = self.client.get(LEDGER + "export.xlsx")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.client.get(LEDGER + "export.pdf").status_code, 404)

    def test_the_ledger_filters(self):
        self.task_b.colour, self.task_b.state = "red", "in_progress"
        self.task_b.due_date = timezone.localdate() - timedelta(days=1)
        self.task_b.save()
        self.login(self.leader)
        response = self.client.get(LEDGER, {"colour": "red", "overdue": "on"})
        self.assertEqual(
            [t.title for t in response.context["tasks"]], ["乙支部整改公示"]
        )
        self.assertEqual(response.context["summary"]["overdue"], 1)
        self.assertContains(response, "export.csv?colour=red")
        response = self.client.get(LEDGER, {"unit": self.branch_a.pk})
        self.assertEqual(
            [t.title for t in response.context["tasks"]], ["甲支部整改公示"]
        )
        self.login(self.manager_b)
        response = self.client.get(LEDGER)
        self.assertEqual(
            [r["unit_name"] for r in response.context["rows"]], ["乙机关教工党支部"]
        )

    def test_the_nav_links_to_the_ledger(self):
        self.login(self.manager_a)
        self.assertContains(self.client.get(INBOX), 'href="/manage/ledger/"')
