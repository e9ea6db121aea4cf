"""From a confirmed problem to a task, visibly: 待交办 in the ledger, its totals and
export; the task-creation form and its refusals; no task for a problem judged
不属实; the public board's counts; 连续两轮 for a problem found again."""

import csv
import io
from datetime import timedelta

from django.utils import timezone

from analysis.models import Finding
from analysis.repeats import earlier_findings, rounds_before
from questionnaires.services import ServiceError
from rectification.models import Task, TaskEvent
from rectification.services import task_create, task_transition
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round

LEDGER = "/manage/ledger/"
INBOX = "/manage/rectification/"


def finding_url(finding, rest=""):
    return f"/manage/findings/{finding.pk}/{rest}"


def round_of(organizer, title, *, days_ago, status="published", **extra):
    """A finished round that opened ``days_ago`` days ago."""
    now = timezone.now()
    campaign = make_round(
        organizer,
        title=title,
        open_it=False,
        kinds={"branch": "wuhao-branch"},
        opens_at=now - timedelta(days=days_ago),
        closes_at=now - timedelta(days=days_ago - 7),
        **extra,
    )
    campaign.status = status
    campaign.save(update_fields=["status"])
    return campaign


def finding_of(campaign, unit, title, *, status="confirmed", **extra):
    defaults = {"trigger": "statistical", "dimension_code": ""}
    return Finding.objects.create(
        campaign=campaign, unit=unit, title=title, status=status, **defaults | extra
    )


class TaskFormMixin:
    def form(self, **overrides):
        data = {
            "title": "提升窗口服务",
            "requirements": "延长办公时间，每月公示",
            "task_type": "deadline",
            "responsible_person": "王书记",
            "responsible_email": "",
            "responsible_leader": "",
            "due_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
            "then": "assign",
        }
        return {**data, **overrides}


class PendingTests(TaskFormMixin, PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.round = round_of(cls.school, "2026 年春季评议", days_ago=30)
        cls.waiting_a = finding_of(cls.round, cls.branch_a, "甲支部总体满意率偏低")
        cls.waiting_b = finding_of(
            cls.round, cls.branch_b, "乙支部“作用发挥好”偏低", dimension_code="d2"
        )
        cls.rejected = finding_of(
            cls.round,
            cls.branch_a,
            "窗口态度差",
            verification="false",
            trigger="theme",
            theme_key="t9",
        )
        cls.with_task = finding_of(
            cls.round, cls.branch_b, "乙支部“理论学习好”偏低", dimension_code="d1"
        )
        cls.task = task_create(
            user=cls.leader,
            finding=cls.with_task,
            fields={"responsible_person": "李书记", "due_date": timezone.localdate()},
            assign=True,
        )
        cls.candidate = finding_of(
            cls.round, cls.branch_a, "候选问题", status="candidate", dimension_code="d3"
        )

    def csv_rows(self, query=""):
        response = self.client.get(LEDGER + "export.csv" + query)
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    # --- the ledger -------------------------------------------------------------

    def test_it_lists_confirmed_problems_without_a_task_as_waiting(self):
        self.login(self.leader)
        response = self.client.get(LEDGER)
        self.assertEqual(
            [f.title for f in response.context["pending"]],
            ["甲支部总体满意率偏低", "乙支部“作用发挥好”偏低"],
        )
        summary = response.context["summary"]
        self.assertEqual((summary["pending"], summary["total"]), (2, 3))
        self.assertContains(response, "已销号 0 / 共 3 项")
        self.assertContains(response, "待交办")
        self.assertContains(response, finding_url(self.waiting_a) + "#new-task")
        # The rejected problem and the candidate wait for nothing.
        self.assertNotContains(response, "窗口态度差")
        self.assertNotContains(response, "候选问题")
        rows = {r["unit_name"]: r for r in response.context["rows"]}
        self.assertEqual(
            (rows["甲学院学生党支部"]["pending"], rows["甲学院学生党支部"]["total"]),
            (1, 1),
        )
        self.assertEqual(
            (rows["乙机关教工党支部"]["pending"], rows["乙机关教工党支部"]["total"]),
            (1, 2),
        )

    def test_the_export_has_the_waiting_rows(self):
        self.login(self.leader)
        rows = self.csv_rows()
        header, body = rows[0], rows[1:]
        state = header.index("状态")
        self.assertEqual(
            [(r[2], r[state]) for r in body],
            [
                ("乙支部“理论学习好”偏低", "已交办"),
                ("甲支部总体满意率偏低", "待交办"),
                ("乙支部“作用发挥好”偏低", "待交办"),
            ],
        )
        self.assertEqual([r[0] for r in body], ["1", "2", "3"])
        self.assertEqual(body[1][header.index("牵头单位")], "甲学院学生党支部")
        self.assertEqual(len(body[1]), len(header))
        self.login(self.leader)
        response = self.client.get(LEDGER + "export.xlsx")
        self.assertEqual(response.status_code, 200)

    def test_the_filters_keep_or_drop_waiting_rows(self):
        self.login(self.leader)
        cases = [
            (
                {"state": "pending"},
                ["甲支部总体满意率偏低", "乙支部“作用发挥好”偏低"],
                [],
            ),
            ({"state": "assigned"}, [], ["乙支部“理论学习好”偏低"]),
            ({"unit": self.branch_a.pk}, ["甲支部总体满意率偏低"], []),
            ({"colour": "red"}, [], []),
            ({"overdue": "on"}, [], []),
        ]
        for query, pending, tasks in cases:
            with self.subTest(query=query):
                response = self.client.get(LEDGER, query)
                self.assertEqual(
                    [f.title for f in response.context["pending"]], pending
                )
                self.assertEqual([t.title for t in response.context["tasks"]], tasks)
        rows = self.csv_rows("?state=pending")
        self.assertEqual(len(rows), 3)

    def test_the_filter_selects_say_all(self):
        self.login(self.leader)
        page = self.client.get(LEDGER).content.decode()
        self.assertNotIn("---------", page)
        self.assertEqual(page.count('<option value="" selected>全部</option>'), 4)

    def test_a_manager_sees_its_own_waiting_problems_without_a_create_link(self):
        self.login(self.manager_a)
        response = self.client.get(LEDGER)
        self.assertEqual(
            [f.title for f in response.context["pending"]], ["甲支部总体满意率偏低"]
        )
        self.assertNotContains(response, "#new-task")
        self.assertNotContains(response, "乙支部")

    def test_a_draft_is_a_task_to_the_office_and_still_waiting_to_the_unit(self):
        task_create(user=self.leader, finding=self.waiting_a, fields={})
        self.login(self.leader)
        response = self.client.get(LEDGER)
        self.assertNotIn(self.waiting_a, response.context["pending"])
        self.assertEqual(response.context["summary"]["total"], 3)
        self.login(self.manager_a)
        response = self.client.get(LEDGER)
        self.assertEqual(list(response.context["pending"]), [self.waiting_a])

    def test_a_dismissed_task_is_an_answer_not_a_wait(self):
        task = task_create(user=self.leader, finding=self.waiting_a, fields={})
        task_transition(task=task, action="verify", user=self.leader)
        task_transition(
            task=task, action="dismiss", user=self.leader, comment="已在专项中整改"
        )
        for user in (self.leader, self.manager_a):
            with self.subTest(user=user.username):
                self.login(user)
                pending = self.client.get(LEDGER).context["pending"]
                self.assertNotIn(self.waiting_a, pending)

    # --- a problem judged 不属实 ----------------------------------------------------

    def test_a_rejected_problem_offers_no_task(self):
        self.login(self.leader)
        page = self.client.get(finding_url(self.rejected))
        self.assertContains(page, "该问题经核实不属实，不建立整改任务。")
        self.assertNotContains(page, "建立并交办")
        self.assertNotContains(page, finding_url(self.rejected, "task/"))
        inbox = self.client.get(INBOX)
        self.assertContains(inbox, "核实不属实，不建立整改任务")
        self.assertNotContains(inbox, finding_url(self.rejected) + "#new-task")

    def test_a_task_for_a_rejected_problem_is_refused(self):
        self.login(self.leader)
        response = self.client.post(finding_url(self.rejected, "task/"), self.form())
        self.assertContains(
            response, "该问题经核实不属实，不建立整改任务。", status_code=400
        )
        self.assertFalse(Task.objects.filter(finding=self.rejected).exists())
        with self.assertRaisesMessage(ServiceError, "不属实"):
            task_create(user=self.leader, finding=self.rejected, fields={})
        self.assertEqual(
            self.api(self.leader)
            .post("/api/v1/tasks/", {"finding": self.rejected.pk}, format="json")
            .status_code,
            400,
        )
        self.assertFalse(Task.objects.filter(finding=self.rejected).exists())

    def test_a_candidate_offers_no_task_yet(self):
        self.login(self.leader)
        page = self.client.get(finding_url(self.candidate))
        self.assertContains(page, "该问题尚待确认")
        response = self.client.post(finding_url(self.candidate, "task/"), self.form())
        self.assertContains(response, "只有已确认的问题", status_code=400)
        self.assertFalse(Task.objects.filter(finding=self.candidate).exists())

    # --- the task-creation form -------------------------------------------------

    def test_it_creates_and_assigns_with_measures_person_and_due_date(self):
        self.login(self.leader)
        response = self.client.post(finding_url(self.waiting_a, "task/"), self.form())
        task = Task.objects.get(finding=self.waiting_a)
        self.assertRedirects(
            response, f"/manage/tasks/{task.pk}/", fetch_redirect_response=False
        )
        self.assertEqual(
            (task.state, task.title, task.requirements, task.responsible_person),
            ("assigned", "提升窗口服务", "延长办公时间，每月公示", "王书记"),
        )
        self.assertEqual(task.due_date, timezone.localdate() + timedelta(days=30))
        self.assertEqual(
            list(task.events.values_list("kind", "action")),
            [("created", ""), ("transition", "verify"), ("transition", "assign")],
        )
        page = self.client.get(f"/manage/tasks/{task.pk}/")
        self.assertContains(page, "已建立整改任务并交办给牵头单位。")
        self.assertContains(page, "延长办公时间，每月公示")
        self.assertNotIn(self.waiting_a, self.client.get(LEDGER).context["pending"])

    def test_the_units_plan_starts_from_the_offices_requirements(self):
        self.login(self.leader)
        self.client.post(finding_url(self.waiting_a, "task/"), self.form())
        task = Task.objects.get(finding=self.waiting_a)
        self.login(self.manager_a)
        page = self.client.get(f"/manage/tasks/{task.pk}/")
        (plan,) = [a for a in page.context["actions"] if a["name"] == "submit_plan"]
        measures = {f["name"]: f["value"] for f in plan["fields"]}["measures"]
        self.assertEqual(measures, "延长办公时间，每月公示")
        self.assertEqual(task.measures, "")

    def test_it_keeps_a_draft_when_asked(self):
        self.login(self.leader)
        self.client.post(finding_url(self.waiting_a, "task/"), self.form(then="draft"))
        task = Task.objects.get(finding=self.waiting_a)
        self.assertEqual((task.state, task.responsible_person), ("draft", "王书记"))

    def test_the_forms_refusals_are_inline_and_create_nothing(self):
        yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
        cases = [
            ({"due_date": ""}, "请填写完成时限。"),
            ({"due_date": yesterday}, "完成时限不能早于今天。"),
            ({"due_date": "明天"}, "请按“年-月-日”填写日期。"),
            ({"responsible_person": " "}, "请填写责任人。"),
            ({"requirements": ""}, "请填写整改要求和初步措施。"),
            ({"title": ""}, "请填写整改事项。"),
            ({"responsible_email": "not-an-address"}, "请填写有效的邮箱地址。"),
        ]
        self.login(self.leader)
        for change, message in cases:
            with self.subTest(change=change):
                response = self.client.post(
                    finding_url(self.waiting_a, "task/"), self.form(**change)
                )
                self.assertContains(response, message, status_code=400)
                self.assertContains(response, 'class="errorlist"', status_code=400)
                # What was typed is kept.
                kept = "延长办公时间" if "title" in change else "提升窗口服务"
                self.assertContains(response, kept, status_code=400)
        self.assertFalse(Task.objects.filter(finding=self.waiting_a).exists())
        self.assertFalse(TaskEvent.objects.filter(task__finding=self.waiting_a))

    def test_only_the_office_may_create(self):
        for user in (self.manager_a, self.reviewer):
            with self.subTest(user=user.username):
                self.login(user)
                response = self.client.post(
                    finding_url(self.waiting_a, "task/"), self.form()
                )
                self.assertEqual(response.status_code, 404)
                page = self.client.get(finding_url(self.waiting_a))
                self.assertEqual(page.status_code, 200)
                self.assertNotContains(page, "建立并交办")
        self.login(self.manager_b)
        self.assertEqual(self.client.get(finding_url(self.waiting_a)).status_code, 404)
        self.assertFalse(Task.objects.filter(finding=self.waiting_a).exists())

    # --- the public board ----------------------------------------------------------

    def test_the_board_counts_confirmed_assigned_and_closed_problems(self):
        closed = finding_of(
            self.round, self.branch_a, "已整改的问题", dimension_code="d4"
        )
        Task.objects.create(
            finding=closed,
            campaign=self.round,
            source="survey",
            title="已销号事项",
            lead_unit=self.branch_a,
            state="closed",
            closed_at=timezone.now(),
        )
        half = finding_of(self.round, self.branch_a, "一半整改", dimension_code="d5")
        for state in ("closed", "in_progress"):
            Task.objects.create(
                finding=half,
                campaign=self.round,
                source="survey",
                title=state,
                lead_unit=self.branch_a,
                state=state,
            )
        draft = finding_of(self.round, self.branch_a, "草稿的问题", dimension_code="d6")
        task_create(user=self.leader, finding=draft, fields={})
        response = self.client.get(f"/public/campaigns/{self.round.pk}/")
        # Confirmed and not 不属实: waiting_a, waiting_b, with_task, closed, half,
        # draft; handed over: with_task, closed, half; closed: closed only.
        self.assertContains(response, "本轮确认问题6项，已交办3项，已销号1项。")
        self.assertNotContains(response, "草稿的问题")
        self.assertNotContains(response, "甲支部总体满意率偏低")


class RepeatTests(TaskFormMixin, PersonaTestCase):
    """连续两轮: spring (published), then autumn with spring as its baseline."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.spring = round_of(cls.school, "2026 年春季评议", days_ago=200)
        cls.autumn = round_of(
            cls.school, "2026 年秋季评议", days_ago=20, baseline=cls.spring
        )
        cls.before = finding_of(cls.spring, cls.branch_a, "春季：总体满意率偏低")
        cls.before_task = task_create(
            user=cls.leader,
            finding=cls.before,
            fields={"responsible_person": "王书记", "due_date": timezone.localdate()},
            assign=True,
        )
        cls.again = finding_of(cls.autumn, cls.branch_a, "秋季：总体满意率偏低")
        cls.other_dimension = finding_of(
            cls.autumn, cls.branch_a, "秋季：理论学习偏低", dimension_code="d1"
        )
        cls.other_unit = finding_of(cls.autumn, cls.branch_b, "秋季：乙支部偏低")

    def test_the_helper_matches_unit_and_dimension_in_the_round_before(self):
        found = earlier_findings(
            [self.again, self.other_dimension, self.other_unit],
            among=Finding.objects.all(),
        )
        self.assertEqual(found, {self.again.pk: self.before})

    def test_without_a_baseline_the_organisers_previous_finished_round_counts(self):
        self.autumn.baseline = None
        self.autumn.save(update_fields=["baseline"])
        round_of(self.school, "未开始的轮次", days_ago=100, status="draft")
        round_of(self.unit_a, "甲学院自己的轮次", days_ago=50)
        self.assertEqual(rounds_before(self.autumn), [self.spring])
        found = earlier_findings([self.again], among=Finding.objects.all())
        self.assertEqual(found, {self.again.pk: self.before})

    def test_a_theme_matches_by_its_key(self):
        old = finding_of(
            self.spring, self.branch_a, "意见集中：排队", trigger="theme", theme_key="q"
        )
        new = finding_of(
            self.autumn,
            self.branch_a,
            "意见集中：排队、窗口",
            trigger="theme",
            theme_key="q",
        )
        other = finding_of(
            self.autumn, self.branch_a, "意见集中：食堂", trigger="theme", theme_key="f"
        )
        found = earlier_findings([new, other], among=Finding.objects.all())
        self.assertEqual(found, {new.pk: old})

    def test_an_earlier_problem_not_confirmed_or_judged_false_does_not_count(self):
        for change in ({"status": "candidate"}, {"verification": "false"}):
            with self.subTest(change=change):
                Finding.objects.filter(pk=self.before.pk).update(**change)
                found = earlier_findings([self.again], among=Finding.objects.all())
                self.assertEqual(found, {})
                Finding.objects.filter(pk=self.before.pk).update(
                    status="confirmed", verification=""
                )

    def test_it_is_marked_and_linked_on_inbox_finding_task_and_ledger(self):
        self.login(self.leader)
        earlier_link = finding_url(self.before)
        task_link = f"/manage/tasks/{self.before_task.pk}/"
        inbox = self.client.get(INBOX).content.decode()
        row = inbox[inbox.index("秋季：总体满意率偏低") - 400 :][:1500]
        self.assertIn("连续两轮", row)
        self.assertIn(earlier_link, row)
        self.assertIn(task_link, row)
        self.assertEqual(inbox.count("连续两轮"), 1)

        page = self.client.get(finding_url(self.again))
        self.assertContains(page, "连续两轮")
        self.assertContains(page, earlier_link)
        self.assertContains(page, "上一轮（2026 年春季评议）的同一问题")
        self.assertNotContains(
            self.client.get(finding_url(self.other_dimension)), "连续两轮"
        )

        self.client.post(finding_url(self.again, "task/"), self.form())
        task = Task.objects.get(finding=self.again)
        page = self.client.get(f"/manage/tasks/{task.pk}/")
        self.assertContains(page, "连续两轮")
        self.assertContains(page, earlier_link)
        self.assertContains(page, task_link)

        ledger = self.client.get(LEDGER)
        self.assertEqual(ledger.content.decode().count("连续两轮"), 1)
        (marked,) = [t for t in ledger.context["tasks"] if t.earlier]
        self.assertEqual(marked, task)

    def test_a_waiting_problem_found_again_is_marked_in_the_ledger(self):
        self.login(self.leader)
        ledger = self.client.get(LEDGER)
        (marked,) = [f for f in ledger.context["pending"] if f.earlier]
        self.assertEqual(marked, self.again)
        self.assertEqual(marked.earlier["finding"], self.before)

    def test_a_reader_is_not_linked_to_an_earlier_problem_it_may_not_see(self):
        # Spring not published: its findings are the office's.
        self.spring.status = "closed"
        self.spring.save(update_fields=["status"])
        self.login(self.manager_a)
        page = self.client.get(finding_url(self.again))
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, "连续两轮")
        self.login(self.leader)
        self.assertContains(self.client.get(finding_url(self.again)), "连续两轮")
