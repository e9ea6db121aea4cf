"""The rectification pages in a real browser, as the office and the lead unit use
them: headless Chromium on a desktop screen, zh-CN (see tests/browser.py).

One journey submits every form of the inbox and the task page: the office
dismisses one candidate finding and confirms another, turns it into a task,
verifies and assigns it; the lead unit's manager submits the plan, reports
progress, uploads a PNG and asks for more time twice; the office approves one
extension and rejects the other, returns the task once and accepts it; the
re-survey round's analyse button gives the verdict that lets the office close the
task, and the office reopens it. Another test does a task's dismissal with
JavaScript off, from the login on.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import timedelta
from pathlib import Path

from django.test import override_settings
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from analysis.models import AnalysisRun, Finding
from analysis.services import campaign_analyze
from organizations.models import Membership, Unit
from questionnaires.services import campaign_close, campaign_publish
from rectification.models import Evidence, ExtensionRequest, Task, TaskEvent
from tests.analysis.synthetic import fill
from tests.base import make_unit, make_user
from tests.browser import BrowserTestCase
from tests.questionnaires.helpers import make_round, point_of

OVERALL = "总体满意率"
DIMENSION = "“领导班子好”满意率"


class RectificationBrowserTests(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        media = override_settings(
            MEDIA_ROOT=self.enterContext(tempfile.TemporaryDirectory())
        )
        media.enable()
        self.addCleanup(media.disable)
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit(
            "A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        self.branch = make_unit(
            "A-1", Unit.Kind.BRANCH, committee, "student", name="甲学院学生党支部"
        )
        make_user("office", Membership.Role.OFFICE, school)
        make_user("manager", Membership.Role.MANAGER, committee)
        # The baseline round: 24 of 40 satisfied, so the analysis finds problems
        # (candidate findings) for the branch, overall and in each dimension.
        self.baseline = make_round(
            school, title="2026 年春季评议", kinds={"branch": "wuhao-branch"}
        )
        fill(point_of(self.baseline, self.branch), n=40, satisfied=24)
        self.baseline = campaign_close(campaign=self.baseline)
        campaign_analyze(campaign=self.baseline)
        self.candidates = Finding.objects.filter(
            campaign=self.baseline, status=Finding.Status.CANDIDATE
        )
        self.assertGreater(self.candidates.count(), 1)

    # --- Helpers ---------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def submit(self, page, form, button: str) -> None:
        with page.expect_navigation():
            form.get_by_role("button", name=button, exact=True).click()

    def act(self, page, task: Task, action: str, button: str, **fields) -> None:
        """Fill one action form on the task page and press its button."""
        form = page.locator(f"form.action-form[action$='/actions/{action}/']")
        for name, value in fields.items():
            control = form.locator(f"[name={name}]")
            if control.evaluate("node => node.tagName") == "SELECT":
                control.select_option(value)
            else:
                control.fill(value)
        self.submit(page, form, button)
        self.assertEqual(page.url, self.url(f"/manage/tasks/{task.pk}/"))
        self.assert_message(page, f"已执行“{button}”。")

    def assert_message(self, page, text: str) -> None:
        expect(page.locator("ul.messages")).to_contain_text(text)

    def assert_state(self, page, task: Task, state: str) -> None:
        task.refresh_from_db()
        self.assertEqual(task.state, state)
        expect(page.locator(".toolbar .badge").first).to_have_text(
            str(Task.State(state).label)
        )

    def open_task(self, page, task: Task) -> None:
        page.goto(self.url(f"/manage/tasks/{task.pk}/"))

    def finding(self, title: str) -> Finding:
        return self.candidates.get(unit=self.branch, title__startswith=title)

    # --- The journey ---------------------------------------------------------------

    def test_the_whole_task_lifecycle_through_the_pages(self):
        office, manager = self.desktop(), self.desktop()
        self.log_in(office, "office")
        self.log_in(manager, "manager")
        overall, dimension = self.finding(OVERALL), self.finding(DIMENSION)

        # The office decides two candidate findings on the inbox.
        office.goto(self.url("/manage/rectification/"))
        row = office.locator("#candidates tr", has_text=dimension.title)
        row.locator("input[name=comment]").fill("该维度已有专项整改")
        self.submit(office, row, "排除")
        self.assert_message(office, "已处理问题")
        dimension.refresh_from_db()
        self.assertEqual(
            (dimension.status, dimension.decision_comment),
            ("dismissed", "该维度已有专项整改"),
        )
        expect(office.locator("#candidates")).not_to_contain_text(dimension.title)

        row = office.locator("#candidates tr", has_text=overall.title)
        row.locator("select[name=verification]").select_option("true")
        self.submit(office, row, "确认")
        overall.refresh_from_db()
        self.assertEqual((overall.status, overall.verification), ("confirmed", "true"))
        confirmed = office.locator("#findings tr", has_text=overall.title)
        expect(confirmed).to_contain_text("属实")

        # ... and turns the confirmed one into a draft task, on the finding's page.
        expect(confirmed).to_contain_text("待交办")
        with office.expect_navigation():
            confirmed.get_by_role("link", name="建立整改任务").click()
        form = office.locator("#new-task form")
        form.get_by_label("整改事项").fill("提升支部服务满意度")
        form.get_by_label("整改要求和初步措施").fill("调整办公时间")
        form.locator("[name=responsible_person]").fill("张书记")
        due = timezone.localdate() + timedelta(days=60)
        form.get_by_label("完成时限").fill(due.isoformat())
        self.submit(office, form, "仅建立草稿")
        task = Task.objects.get(finding=overall)
        self.assertEqual(office.url, self.url(f"/manage/tasks/{task.pk}/"))
        self.assert_message(office, "已建立整改任务（草稿）")
        self.assertEqual(
            (task.title, task.due_date, task.lead_unit, task.requirements),
            ("提升支部服务满意度", due, self.branch, "调整办公时间"),
        )
        self.assert_state(office, task, "draft")
        expect(office.locator("h1")).to_have_text("提升支部服务满意度")

        # Verification and assignment by the office.
        self.act(office, task, "verify", "开始核实")
        self.assert_state(office, task, "verifying")
        self.act(
            office,
            task,
            "assign",
            "交办",
            responsible_person="王书记",
            responsible_email="wang@example.edu",
            responsible_leader="李副书记",
            task_type="deadline",
            comment="请于期限内完成",
        )
        self.assert_state(office, task, "assigned")
        self.assertEqual(
            (task.responsible_person, task.responsible_leader, task.task_type),
            ("王书记", "李副书记", "deadline"),
        )
        expect(office.locator("#fields")).to_contain_text("wang@example.edu")

        # The lead unit's manager finds it on the inbox and submits the plan.
        manager.goto(self.url("/manage/rectification/"))
        with manager.expect_navigation():
            manager.locator("#tasks").get_by_role(
                "link", name="提升支部服务满意度"
            ).click()
        self.act(
            manager,
            task,
            "submit_plan",
            "提交整改方案",
            cause_analysis="服务时间与师生需求不匹配",
            goal="满意率达到 95%",
            measures="延长办公时间；每月公示办理情况",
        )
        self.assert_state(manager, task, "in_progress")
        self.assertEqual(task.measures, "延长办公时间；每月公示办理情况")
        expect(manager.locator("#fields")).to_contain_text("服务时间与师生需求不匹配")

        # Progress, then a real PNG as evidence.
        form = manager.locator("#progress form", has_text="报告进展")
        form.locator("textarea[name=text]").fill("已延长午间办公时间")
        self.submit(manager, form, "提交进展")
        self.assert_message(manager, "已报告进展。")
        self.assertTrue(TaskEvent.objects.filter(task=task, kind="progress").exists())
        expect(manager.locator("#timeline")).to_contain_text("已延长午间办公时间")

        png = Path(self.enterContext(tempfile.TemporaryDirectory())) / "公示照片.png"
        Image.new("RGB", (64, 32), (200, 30, 30)).save(png)
        form = manager.locator("#evidence form")
        form.locator("input[type=file]").set_input_files(png)
        self.submit(manager, form, "上传")
        self.assert_message(manager, "已上传佐证材料。")
        evidence = Evidence.objects.get(task=task)
        self.assertEqual(evidence.original_name, "公示照片.png")
        self.assertEqual(evidence.content_type, "image/png")
        self.assertEqual(evidence.sha256, hashlib.sha256(png.read_bytes()).hexdigest())
        listed = manager.locator("#evidence table")
        expect(listed.get_by_role("link", name="公示照片.png")).to_be_visible()
        expect(listed).to_contain_text(evidence.sha256)

        # Two extension requests: the office approves the first, rejects the second.
        later, latest = due + timedelta(days=30), due + timedelta(days=60)
        self.request_extension(manager, task, later, "寒假期间无法公示")
        self.open_task(office, task)
        pending = office.locator(".extension", has_text="寒假期间无法公示")
        pending.locator("input[name=comment]").fill("同意")
        self.submit(office, pending, "批准")
        self.assert_message(office, "已批准延期申请。")
        task.refresh_from_db()
        self.assertEqual(task.due_date, later)
        first = ExtensionRequest.objects.get(reason="寒假期间无法公示")
        self.assertEqual(first.status, "approved")
        expect(
            office.locator(".extension", has_text="寒假期间无法公示")
        ).to_contain_text("已批准")
        expect(office.locator(".toolbar")).to_contain_text(
            f"{later.year}年{later.month}月{later.day}日"
        )

        self.request_extension(manager, task, latest, "还需要再延一个月")
        self.open_task(office, task)
        pending = office.locator(".extension", has_text="还需要再延一个月")
        pending.locator("input[name=comment]").fill("期限不再延长")
        self.submit(office, pending, "不批准")
        self.assert_message(office, "已审批：不批准延期。")
        second = ExtensionRequest.objects.get(reason="还需要再延一个月")
        self.assertEqual(
            (second.status, second.decision_comment), ("rejected", "期限不再延长")
        )
        task.refresh_from_db()
        self.assertEqual(task.due_date, later)
        expect(
            office.locator(".extension", has_text="还需要再延一个月")
        ).to_contain_text("未批准")

        # Acceptance: asked for, returned once with a reason, asked again, given.
        self.open_task(manager, task)
        self.act(manager, task, "request_acceptance", "申请验收")
        self.assert_state(manager, task, "under_review")
        self.open_task(office, task)
        self.act(office, task, "return", "退回重改", comment="缺少公示现场照片")
        self.assert_state(office, task, "in_progress")
        self.open_task(manager, task)
        expect(manager.locator("#timeline")).to_contain_text("缺少公示现场照片")
        self.act(manager, task, "request_acceptance", "申请验收", comment="已补充照片")
        self.open_task(office, task)
        self.act(office, task, "accept", "验收通过")
        self.assert_state(office, task, "awaiting_resurvey")
        self.assertIsNotNone(task.accepted_at)
        self.assertNotIn("close", self.offered(office))

        # The re-survey round: 39 of 40 satisfied. Its analyse button gives the
        # task its verdict, and with "improved" the office may close it.
        followup = make_round(
            self.baseline.organizer,
            title="2026 年秋季回访评议",
            kinds={"branch": "wuhao-branch"},
            baseline=self.baseline,
        )
        fill(point_of(followup, self.branch), n=40, satisfied=39)
        campaign_close(campaign=followup)
        office.goto(self.url(f"/manage/campaigns/{followup.pk}/results/"))
        with office.expect_navigation():
            office.get_by_role("button", name="立即统计").click()
        self.assertEqual(AnalysisRun.objects.filter(campaign=followup).count(), 1)
        self.assert_message(office, "1 项整改任务得到回访测评结论")
        task.refresh_from_db()
        self.assertEqual(task.resurvey_verdict, "IMPROVED")

        self.open_task(office, task)
        expect(office.locator("#fields")).to_contain_text("已改善")
        self.act(office, task, "close", "销号", comment="回访测评已改善")
        self.assert_state(office, task, "closed")
        self.assertIsNotNone(task.closed_at)
        expect(office.locator("#fields")).to_contain_text(
            f"{task.lookback_on.year}年{task.lookback_on.month}月{task.lookback_on.day}日"
        )

        # The 回头看 finds it slipping back: the office reopens it.
        self.act(office, task, "reopen", "重新整改", comment="回头看发现问题反弹")
        self.assert_state(office, task, "in_progress")
        self.assertIsNone(task.closed_at)
        actions = list(
            task.events.filter(kind="transition")
            .order_by("at", "id")
            .values_list("action", flat=True)
        )
        self.assertEqual(
            actions,
            [
                "verify",
                "assign",
                "submit_plan",
                "request_acceptance",
                "return",
                "request_acceptance",
                "accept",
                "close",
                "reopen",
            ],
        )

    def request_extension(self, page, task: Task, new_due, reason: str) -> None:
        self.open_task(page, task)
        form = page.locator("#progress form", has_text="延期理由")
        form.locator("input[name=new_due_date]").fill(new_due.isoformat())
        form.locator("textarea[name=reason]").fill(reason)
        self.submit(page, form, "申请延期")
        self.assert_message(page, "已提交延期申请。")
        self.assertTrue(
            ExtensionRequest.objects.filter(
                task=task, status="pending", new_due_date=new_due
            ).exists()
        )
        expect(page.locator(".extension", has_text=reason)).to_contain_text("待审批")

    def offered(self, page) -> list[str]:
        return page.locator("form.action-form").evaluate_all(
            "forms => forms.map(f => f.action.split('/').slice(-2)[0])"
        )

    # --- Without JavaScript ------------------------------------------------------

    def test_without_javascript_the_office_confirms_and_dismisses_a_task(self):
        page = self.desktop(js=False)
        self.log_in(page, "office")
        overall = self.finding(OVERALL)

        page.goto(self.url("/manage/rectification/"))
        row = page.locator("#candidates tr", has_text=overall.title)
        self.submit(page, row, "确认")
        overall.refresh_from_db()
        self.assertEqual(overall.status, "confirmed")

        confirmed = page.locator("#findings tr", has_text=overall.title)
        with page.expect_navigation():
            confirmed.get_by_role("link", name="建立整改任务").click()
        form = page.locator("#new-task form")
        form.get_by_label("整改要求和初步措施").fill("核实后再定")
        form.locator("[name=responsible_person]").fill("张书记")
        due = timezone.localdate() + timedelta(days=30)
        form.get_by_label("完成时限").fill(due.isoformat())
        self.submit(page, form, "仅建立草稿")
        task = Task.objects.get(finding=overall)
        self.assertEqual(task.title, overall.title)

        self.act(page, task, "verify", "开始核实")
        self.assert_state(page, task, "verifying")
        self.act(page, task, "dismiss", "不予整改", comment="已在上级专项整改中解决")
        self.assert_state(page, task, "dismissed")
        self.assertEqual(
            task.events.get(action="dismiss").comment, "已在上级专项整改中解决"
        )
        expect(page.locator("#timeline")).to_contain_text("已在上级专项整改中解决")
        self.assertEqual(page.locator("form.action-form").count(), 0)

    # --- From the ledger's 待交办 row to an assigned task ---------------------------

    def test_a_waiting_problem_becomes_an_assigned_task_on_one_page(self):
        overall = self.finding(OVERALL)
        overall.status, overall.verification = "confirmed", "true"
        overall.save()
        campaign_publish(campaign=self.baseline)
        page = self.desktop()
        self.log_in(page, "office")
        board = self.url(f"/public/campaigns/{self.baseline.pk}/")

        page.goto(self.url("/manage/ledger/"))
        expect(page.locator("nav.crumbs")).to_have_text("工作台 › 整改台账")
        expect(page.locator("#filters select[name=state] option").first).to_have_text(
            "全部"
        )
        row = page.locator("#tasks tr.pending", has_text=overall.title)
        expect(row).to_contain_text("待交办")
        expect(page.locator("#summary")).to_contain_text("已销号 0 / 共 1 项")
        with page.expect_navigation():
            row.get_by_role("link", name="建立整改任务").click()

        # A due date in the past is refused inline, and nothing is created.
        form = page.locator("#new-task form")
        form.get_by_label("整改要求和初步措施").fill("延长办公时间；每月公示办理情况")
        form.locator("[name=responsible_person]").fill("王书记")
        form.get_by_label("责任领导").fill("李副书记")
        past = timezone.localdate() - timedelta(days=1)
        form.get_by_label("完成时限").fill(past.isoformat())
        self.submit(page, form, "建立并交办")
        expect(page.locator("#new-task .errorlist")).to_have_text(
            "完成时限不能早于今天。"
        )
        self.assertFalse(Task.objects.filter(finding=overall).exists())

        form = page.locator("#new-task form")
        expect(form.locator("[name=responsible_person]")).to_have_value("王书记")
        due = timezone.localdate() + timedelta(days=45)
        form.get_by_label("完成时限").fill(due.isoformat())
        form.get_by_label("整改类型").select_option("immediate")
        self.submit(page, form, "建立并交办")
        task = Task.objects.get(finding=overall)
        self.assertEqual(page.url, self.url(f"/manage/tasks/{task.pk}/"))
        self.assert_message(page, "已建立整改任务并交办给牵头单位。")
        self.assert_state(page, task, "assigned")
        self.assertEqual(
            (task.responsible_person, task.responsible_leader, task.due_date),
            ("王书记", "李副书记", due),
        )
        self.assertEqual(task.task_type, "immediate")
        expect(page.locator("nav.crumbs")).to_have_text(
            f"工作台 › 整改台账 › 任务 #{task.pk}"
        )
        expect(page.locator("#fields")).to_contain_text(
            "延长办公时间；每月公示办理情况"
        )

        page.goto(board)
        expect(page.locator(".board-counts")).to_have_text(
            "本轮确认问题1项，已交办1项，已销号0项。"
        )
