"""The admin applies the same rules as the pages and the API: a staff manager reads
no candidate findings, no runs and no draft tasks, and nobody edits a task there
(an edit there would write no event to the audit trail)."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from analysis.models import AnalysisRun, Finding
from rectification.models import Task, TaskEvent
from tests.analysis.synthetic import analysed, fill
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of


class AdminScopeTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school, kinds={"branch": "wuhao-branch"})
        fill(point_of(cls.campaign, cls.branch_a), n=120, satisfied=84)
        fill(point_of(cls.campaign, cls.branch_b), n=120, satisfied=119)
        analysed(cls.campaign)  # closed, not published
        cls.candidate = Finding.objects.get(unit=cls.branch_a, dimension_code="")
        cls.draft = Task.objects.create(
            finding=cls.candidate,
            campaign=cls.campaign,
            source="survey",
            title="草稿任务",
            lead_unit=cls.branch_a,
        )
        TaskEvent.objects.create(task=cls.draft, kind="created", actor=cls.leader)
        for user in (cls.manager_a, cls.leader):
            user.is_staff = True
            user.save()
            user.user_permissions.add(
                *Permission.objects.filter(
                    content_type__app_label__in=["analysis", "rectification"]
                )
            )

    def listed(self, user, path: str) -> int:
        self.client.force_login(user)
        response = self.client.get(f"/admin/{path}/")
        self.assertEqual(response.status_code, 200, path)
        return response.context["cl"].result_count

    def test_a_staff_manager_lists_none_of_the_offices_rows(self):
        for path in (
            "analysis/finding",
            "analysis/analysisrun",
            "analysis/result",
            "rectification/task",
            "rectification/taskevent",
        ):
            self.assertEqual(self.listed(self.manager_a, path), 0, path)
        self.client.force_login(self.manager_a)
        response = self.client.get(f"/admin/rectification/task/{self.draft.pk}/change/")
        self.assertIn(response.status_code, (302, 404))

    def test_the_office_lists_them(self):
        self.assertEqual(
            self.listed(self.leader, "analysis/finding"),
            Finding.objects.count(),
        )
        self.assertEqual(
            self.listed(self.leader, "analysis/analysisrun"),
            AnalysisRun.objects.count(),
        )
        self.assertEqual(self.listed(self.leader, "rectification/task"), 1)

    def test_nobody_edits_a_task_in_the_admin(self):
        self.client.force_login(self.leader)
        url = f"/admin/rectification/task/{self.draft.pk}/change/"
        self.assertEqual(self.client.get(url).status_code, 200)  # view only
        response = self.client.post(
            url, {"title": "后台改写", "lead_unit": self.branch_b.pk}
        )
        self.assertEqual(response.status_code, 403)
        self.draft.refresh_from_db()
        self.assertEqual(self.draft.title, "草稿任务")
