"""The workbench in a real browser: the office follows its link to the units
without commitments, a unit manager follows its link to a task it must act on.
The workbench adds no form of its own."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from organizations.models import Membership, Unit
from rectification.models import Task
from rectification.services import task_create, task_transition
from tests.base import make_unit, make_user
from tests.browser import BrowserTestCase
from tests.questionnaires.helpers import make_round


class WorkbenchBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit(
            "A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        self.branch = make_unit(
            "A-1", Unit.Kind.BRANCH, committee, "student", name="甲学院学生党支部"
        )
        office = make_user("office", Membership.Role.OFFICE, school)
        make_user("manager", Membership.Role.MANAGER, committee)
        self.round = make_round(
            school, title="2026 年冬季评议", kinds={"branch": "wuhao-branch"}
        )
        self.task = task_create(
            user=office,
            fields={
                "title": "督查发现：办事指南未公开",
                "lead_unit": self.branch,
                "source": Task.Source.INSPECTION,
            },
        )
        task_transition(task=self.task, action="verify", user=office)
        task_transition(
            task=self.task,
            action="assign",
            user=office,
            fields={
                "responsible_person": "王书记",
                "due_date": timezone.localdate() + timedelta(days=20),
            },
        )

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def test_the_office_follows_its_link_to_the_units_without_commitments(self):
        page = self.desktop()
        self.log_in(page, "office")
        page.goto(self.url("/manage/"))
        section = page.locator("#commitments")
        expect(section.locator("h2")).to_contain_text("1")
        expect(section).to_contain_text("1 个单位中 1 个未填写")
        with page.expect_navigation():
            section.get_by_role("link", name="2026 年冬季评议").click()
        self.assertEqual(
            page.url, self.url(f"/manage/campaigns/{self.round.pk}/commitments/")
        )
        row = page.locator("#commitments tr", has_text="甲学院学生党支部")
        expect(row).to_contain_text("未填写")
        expect(row.get_by_role("link", name="代为填写")).to_be_visible()

    def test_a_manager_follows_its_link_to_a_task_without_javascript(self):
        page = self.desktop(js=False)
        self.log_in(page, "manager")
        self.assertEqual(page.url, self.url("/manage/"))
        tasks = page.locator("#my-tasks")
        expect(tasks).to_contain_text("下一步：提交整改方案")
        with page.expect_navigation():
            tasks.get_by_role("link", name="督查发现：办事指南未公开").click()
        self.assertEqual(page.url, self.url(f"/manage/tasks/{self.task.pk}/"))
        expect(page.locator("h1")).to_contain_text("督查发现：办事指南未公开")
        # The commitments it has to enter are linked from the same page.
        page.go_back()
        expect(page.locator("#my-commitments")).to_contain_text("未填写")
