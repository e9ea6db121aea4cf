"""The workbench (/manage/): each role sees what needs it, and nothing outside its
scope; the number of queries does not grow with the number of tasks."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analysis.models import Finding
from analysis.services import finding_decide
from organizations.models import Membership
from questionnaires.services import campaign_close, commitments_replace
from rectification.models import Task
from rectification.services import extension_request, task_create, task_transition
from rectification.supervision import tasks_escalate
from tests.analysis.synthetic import analysed, fill, published
from tests.base import PersonaTestCase, make_user
from tests.questionnaires.helpers import make_round, point_of

KINDS = {"branch": "wuhao-branch"}
PLAN = {"cause_analysis": "制度执行不到位", "measures": "每周公开办事进度"}


def overall(campaign, unit) -> Finding:
    return Finding.objects.get(
        campaign=campaign, unit=unit, dimension_code="", theme_key=""
    )


def assigned(leader, finding, title, due) -> Task:
    task = task_create(user=leader, finding=finding, fields={"title": title})
    task_transition(task=task, action="verify", user=leader)
    return task_transition(
        task=task,
        action="assign",
        user=leader,
        fields={"responsible_person": "王书记", "due_date": due},
    )


def under_review(leader, manager, finding, title, due) -> Task:
    task = assigned(leader, finding, title, due)
    task_transition(task=task, action="submit_plan", user=manager, fields=PLAN)
    return task_transition(task=task, action="request_acceptance", user=manager)


def returned(leader, manager, finding, title, due, reason) -> Task:
    task = under_review(leader, manager, finding, title, due)
    return task_transition(task=task, action="return", user=leader, comment=reason)


def main_hrefs(html: str) -> list[str]:
    main = html.split("<main>", 1)[1].split("</main>", 1)[0]
    return re.findall(r'href="([^"]+)"', main)


class WorkbenchTestCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.sub_office = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)
        cls.today = today = timezone.localdate()
        # Spring: published, both branches below target.
        cls.spring = make_round(cls.school, title="春季评议", kinds=KINDS)
        fill(point_of(cls.spring, cls.branch_a), n=40, satisfied=20)
        fill(point_of(cls.spring, cls.branch_b), n=40, satisfied=22)
        analysed(cls.spring)
        cls.finding_a = overall(cls.spring, cls.branch_a)
        cls.finding_b = overall(cls.spring, cls.branch_b)
        for finding in (cls.finding_a, cls.finding_b):
            finding_decide(finding=finding, user=cls.leader, confirm=True)
        cls.candidate_a = Finding.objects.filter(
            campaign=cls.spring, unit=cls.branch_a, status=Finding.Status.CANDIDATE
        ).first()
        assert cls.candidate_a is not None
        # Confirmed, and no task yet: 待交办.
        cls.pending_b = Finding.objects.filter(
            campaign=cls.spring, unit=cls.branch_b, status=Finding.Status.CANDIDATE
        ).first()
        finding_decide(finding=cls.pending_b, user=cls.leader, confirm=True)
        published(cls.spring)
        leader, ma, mb = cls.leader, cls.manager_a, cls.manager_b
        cls.task_a = assigned(
            leader, cls.finding_a, "甲整改办事效率", today + timedelta(30)
        )
        cls.returned_a = returned(
            leader,
            ma,
            cls.finding_a,
            "甲整改窗口值班",
            today + timedelta(60),
            "佐证材料不足",
        )
        cls.review_b = under_review(
            leader, mb, cls.finding_b, "乙整改服务态度", today + timedelta(30)
        )
        cls.verifying_b = task_create(
            user=leader, finding=cls.finding_b, fields={"title": "乙整改待核实"}
        )
        task_transition(task=cls.verifying_b, action="verify", user=leader)
        cls.red_a = assigned(
            leader, cls.finding_a, "甲整改逾期事项", today - timedelta(40)
        )
        tasks_escalate(today=today - timedelta(35))
        tasks_escalate(today=today)  # red for 35 days: a 约谈 candidate
        cls.extension = extension_request(
            task=cls.task_a,
            user=ma,
            reason="需要协调后勤处",
            new_due_date=today + timedelta(90),
        )
        # An inspection's task, accepted and so closed; its 回头看 is due.
        cls.closed_a = task_create(
            user=leader,
            fields={
                "title": "甲督查门户网站",
                "lead_unit": cls.branch_a,
                "source": Task.Source.INSPECTION,
            },
        )
        task_transition(task=cls.closed_a, action="verify", user=leader)
        task_transition(
            task=cls.closed_a,
            action="assign",
            user=leader,
            fields={"responsible_person": "李老师", "due_date": today + timedelta(9)},
        )
        task_transition(task=cls.closed_a, action="submit_plan", user=ma, fields=PLAN)
        task_transition(task=cls.closed_a, action="request_acceptance", user=ma)
        task_transition(task=cls.closed_a, action="accept", user=leader)
        Task.objects.filter(pk=cls.closed_a.pk).update(lookback_on=today - timedelta(1))
        # Autumn: one round closed and not analysed, one analysed and not published.
        cls.to_analyse = make_round(cls.school, title="秋季评议", kinds=KINDS)
        campaign_close(campaign=cls.to_analyse)
        cls.to_publish = make_round(cls.school, title="秋季补评", kinds=KINDS)
        fill(point_of(cls.to_publish, cls.branch_a), n=20, satisfied=18)
        analysed(cls.to_publish)
        # Running: the school's winter round, A's own round, the school's draft.
        cls.winter = make_round(cls.school, title="冬季评议", kinds=KINDS)
        fill(point_of(cls.winter, cls.branch_a), n=7, satisfied=7)
        commitments_replace(
            campaign=cls.winter, unit=cls.branch_a, texts=["每周公开办事进度"]
        )
        cls.round_a = make_round(cls.unit_a, title="甲学院轮次", kinds=KINDS)
        fill(point_of(cls.round_a, cls.branch_a), n=12, satisfied=12)
        cls.draft = make_round(cls.school, title="草稿轮次", kinds=KINDS, open_it=False)

    def page(self, user) -> str:
        self.login(user)
        response = self.client.get("/manage/")
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def section(self, html: str, section_id: str) -> str:
        start = html.index(f'id="{section_id}"')
        end = html.find("</section>", start)
        return html[start:end]


class OfficeWorkbenchTests(WorkbenchTestCase):
    def test_it_shows_running_rounds_in_steps_of_five(self):
        rounds = self.section(self.page(self.leader), "open-rounds")
        winter = rounds.split("冬季评议", 1)[1].split("</tr>", 1)[0]
        # 7 answers at A-1, none at B-1: "5+" in all, one point under five.
        self.assertIn('<td class="num">5+</td>', winter)
        self.assertIn('<td class="num">2</td>', winter)
        self.assertIn('<td class="num">1</td>', winter)
        self.assertNotIn(">7<", winter)
        own = rounds.split("甲学院轮次", 1)[1].split("</tr>", 1)[0]
        self.assertIn('<td class="num">10+</td>', own)
        self.assertIn(reverse("manage-campaign", args=[self.winter.pk]), rounds)
        self.assertIn("草稿轮次", rounds)

    def test_it_lists_finished_rounds_by_what_they_wait_for(self):
        finished = self.section(self.page(self.leader), "finished-rounds")
        self.assertIn(reverse("analysis-results", args=[self.to_analyse.pk]), finished)
        self.assertIn(
            reverse("manage-campaign-transition", args=[self.to_publish.pk, "publish"]),
            finished,
        )
        self.assertNotIn(
            reverse("manage-campaign-transition", args=[self.to_analyse.pk, "publish"]),
            finished,
        )
        self.assertNotIn("春季评议", finished)

    def test_it_counts_the_candidate_findings_and_links_the_inbox(self):
        candidates = self.section(self.page(self.leader), "candidates")
        n = Finding.objects.filter(status=Finding.Status.CANDIDATE).count()
        self.assertIn(f'<span class="badge">{n}</span>', candidates)
        self.assertIn(self.candidate_a.title, candidates)
        self.assertIn(reverse("rectification-inbox") + "#candidates", candidates)

    def test_it_lists_confirmed_findings_waiting_for_a_task(self):
        pending = self.section(self.page(self.leader), "pending")
        self.assertIn('<span class="badge">1</span>', pending)
        self.assertIn(self.pending_b.title, pending)
        self.assertIn("B-1", pending)
        self.assertNotIn("A-1", pending)  # A-1's confirmed finding has its tasks
        self.assertIn(reverse("rectification-inbox") + "#findings", pending)

    def test_it_lists_the_tasks_waiting_for_its_decision(self):
        decisions = self.section(self.page(self.leader), "decisions")
        for task in (self.review_b, self.verifying_b):
            self.assertIn(reverse("rectification-task", args=[task.pk]), decisions)
        self.assertIn("验收或退回", decisions)
        self.assertIn("需要协调后勤处", decisions)  # the pending extension
        self.assertNotIn(
            reverse("rectification-task", args=[self.returned_a.pk]), decisions
        )

    def test_it_lists_red_and_overdue_tasks_interviews_and_lookbacks(self):
        html = self.page(self.leader)
        red_url = reverse("rectification-task", args=[self.red_a.pk])
        self.assertIn(red_url, self.section(html, "red"))
        self.assertIn("已逾期", self.section(html, "red"))
        self.assertIn(red_url, self.section(html, "interviews"))
        lookbacks = self.section(html, "lookbacks")
        self.assertIn(reverse("rectification-task", args=[self.closed_a.pk]), lookbacks)
        self.assertNotIn(red_url, lookbacks)

    def test_it_links_the_rounds_with_units_without_commitments(self):
        commitments = self.section(self.page(self.leader), "commitments")
        for campaign, text in (
            (self.winter, "2 个单位中 1 个未填写"),
            (self.round_a, "1 个单位中 1 个未填写"),
            (self.draft, "2 个单位中 2 个未填写"),
        ):
            url = reverse("manage-commitments-overview", args=[campaign.pk])
            item = commitments.split(url, 1)[1].split("</li>", 1)[0]
            self.assertIn(text, item)

    def test_an_empty_section_says_so(self):
        self.login(self.leader)
        Task.objects.filter(interview_candidate=True).update(interview_candidate=False)
        interviews = self.section(self.page(self.leader), "interviews")
        self.assertIn("暂无", interviews)
        self.assertIn('<span class="badge">0</span>', interviews)


class SubOfficeWorkbenchTests(WorkbenchTestCase):
    def test_it_sees_its_own_sub_tree_only(self):
        html = self.page(self.sub_office)
        rounds = self.section(html, "open-rounds")
        self.assertIn("甲学院轮次", rounds)
        self.assertNotIn("冬季评议", rounds)  # the school's: no counts for A
        self.assertNotIn("秋季", html)
        # The school's draft only as A-1's commitments to enter, not as its round.
        self.assertNotIn("草稿轮次", rounds)
        self.assertIn("暂无", self.section(html, "candidates"))
        self.assertIn("暂无", self.section(html, "pending"))
        decisions = self.section(html, "decisions")
        self.assertIn("需要协调后勤处", decisions)  # A-1's extension request
        self.assertNotIn("乙整改", html)
        self.assertIn(
            reverse("rectification-task", args=[self.red_a.pk]),
            self.section(html, "red"),
        )
        commitments = self.section(html, "commitments")
        self.assertIn(
            reverse("manage-commitments-overview", args=[self.round_a.pk]), commitments
        )
        # A-1 has entered the winter round's: nothing missing in A's sub-tree.
        self.assertNotIn(
            reverse("manage-commitments-overview", args=[self.winter.pk]), commitments
        )
        # The school's draft: A-1 takes part and has entered none; B-1 is not A's.
        draft = reverse("manage-commitments-overview", args=[self.draft.pk])
        self.assertIn("1 个单位中 1 个未填写", commitments.split(draft, 1)[1])


class ManagerWorkbenchTests(WorkbenchTestCase):
    def test_it_shows_its_published_results_with_the_report_link(self):
        results = self.section(self.page(self.manager_a), "my-results")
        self.assertIn("春季评议", results)
        self.assertIn(
            reverse("analysis-unit-report", args=[self.spring.pk, self.branch_a.pk]),
            results,
        )
        self.assertIn("50%", results)
        self.assertNotIn("秋季补评", results)  # analysed, not published

    def test_it_shows_its_confirmed_findings(self):
        findings = self.section(self.page(self.manager_a), "my-findings")
        self.assertIn(self.finding_a.title, findings)
        self.assertIn("A-1", findings)
        self.assertNotIn(self.candidate_a.title, findings)

    def test_it_lists_the_tasks_it_must_act_on_with_due_dates(self):
        tasks = self.section(self.page(self.manager_a), "my-tasks")
        self.assertIn(reverse("rectification-task", args=[self.task_a.pk]), tasks)
        self.assertIn("提交整改方案", tasks)
        due = self.task_a.due_date
        self.assertIn(f"{due.year}年{due.month}月{due.day}日", tasks)
        red = tasks.split(reverse("rectification-task", args=[self.red_a.pk]))[1]
        self.assertIn("duban-red", red.split("</tr>", 1)[0])
        self.assertNotIn(
            reverse("rectification-task", args=[self.returned_a.pk]), tasks
        )

    def test_it_shows_returns_with_their_reason(self):
        returns = self.section(self.page(self.manager_a), "my-returns")
        self.assertIn(reverse("rectification-task", args=[self.returned_a.pk]), returns)
        self.assertIn("退回理由：佐证材料不足", returns)

    def test_it_links_the_commitments_to_enter(self):
        commitments = self.section(self.page(self.manager_a), "my-commitments")
        winter = reverse("manage-commitments", args=[self.winter.pk, self.branch_a.pk])
        own = reverse("manage-commitments", args=[self.round_a.pk, self.branch_a.pk])
        self.assertIn(winter, commitments)
        self.assertIn("填写承诺", commitments.split(own, 1)[1].split("</tr>", 1)[0])
        self.assertIn("未填写", commitments)

    def test_it_lists_the_drafts_commitments_too(self):
        commitments = self.section(self.page(self.manager_a), "my-commitments")
        draft = reverse("manage-commitments", args=[self.draft.pk, self.branch_a.pk])
        row = commitments.split(draft, 1)[0].rsplit("<tr>", 1)[1]
        self.assertIn("草稿轮次", row)
        self.assertIn("草稿", row.split("badge", 1)[1])
        self.assertIn("未填写", row)
        # Only the kinds the draft evaluates (branches): not A's committee or window.
        for unit in (self.unit_a, self.window_a):
            self.assertNotIn(
                reverse("manage-commitments", args=[self.draft.pk, unit.pk]),
                commitments,
            )

    def test_it_leaves_out_a_draft_its_units_are_excluded_from(self):
        self.draft.excluded_units.add(self.branch_a)
        html = self.page(self.manager_a)
        self.assertNotIn("草稿轮次", html)
        self.assertIn(
            reverse("manage-commitments", args=[self.draft.pk, self.branch_b.pk]),
            self.section(self.page(self.manager_b), "my-commitments"),
        )

    def test_it_has_no_office_sections(self):
        html = self.page(self.manager_a)
        for section in ("open-rounds", "candidates", "decisions", "red"):
            self.assertNotIn(f'id="{section}"', html)
        self.assertNotIn("需要协调后勤处", html)

    def test_the_manager_of_b_sees_nothing_of_a(self):
        html = self.page(self.manager_b)
        self.assertNotIn("甲", html)
        self.assertNotIn("A-1", html)
        for task in (self.task_a, self.returned_a, self.red_a, self.closed_a):
            self.assertNotIn(reverse("rectification-task", args=[task.pk]), html)
        self.assertIn(
            reverse("analysis-unit-report", args=[self.spring.pk, self.branch_b.pk]),
            self.section(html, "my-results"),
        )
        self.assertIn(
            reverse("manage-commitments", args=[self.winter.pk, self.branch_b.pk]),
            self.section(html, "my-commitments"),
        )


class ReviewerWorkbenchTests(WorkbenchTestCase):
    def test_it_shows_a_read_only_summary(self):
        html = self.page(self.reviewer)
        published_rounds = self.section(html, "published")
        self.assertIn(
            reverse("analysis-results", args=[self.spring.pk]), published_rounds
        )
        self.assertNotIn("秋季补评", published_rounds)
        ledger = self.section(html, "ledger-totals")
        # As the ledger counts them: the five tasks a reviewer sees (not drafts,
        # nor those being verified: rectification.access), and B-1's confirmed
        # problem that waits for a task (待交办).
        self.assertIn('<div class="big">6</div>', ledger)
        self.assertIn("其中待交办 1 项", ledger)

    def test_it_has_no_action_links(self):
        hrefs = main_hrefs(self.page(self.reviewer))
        self.assertTrue(hrefs)
        read_only = re.compile(r"^/manage/(campaigns/\d+/results/|ledger/)$")
        self.assertEqual([href for href in hrefs if not read_only.match(href)], [])
        self.assertNotIn('method="post"', self.page(self.reviewer).split("<main>")[1])


class NoRoleWorkbenchTests(WorkbenchTestCase):
    def test_a_user_without_a_role_is_told_whom_to_ask(self):
        html = self.page(make_user("newcomer"))
        self.assertIn("尚未分配角色，请联系领导小组办公室。", html)
        self.assertNotIn('<section class="card"', html)


class QueryBoundTests(WorkbenchTestCase):
    def queries(self, user) -> int:
        self.login(user)
        with CaptureQueriesContext(connection) as captured:
            self.assertEqual(self.client.get("/manage/").status_code, 200)
        return len(captured)

    def more_tasks(self) -> None:
        today = self.today
        for i in range(4):
            task = assigned(
                self.leader, self.finding_a, f"甲新增{i}", today + timedelta(20 + i)
            )
            extension_request(
                task=task,
                user=self.manager_a,
                reason="需要时间",
                new_due_date=today + timedelta(100),
            )
            returned(
                self.leader,
                self.manager_a,
                self.finding_a,
                f"甲退回{i}",
                today + timedelta(20),
                "再改",
            )
            under_review(
                self.leader, self.manager_b, self.finding_b, f"乙验收{i}", today
            )
            assigned(self.leader, self.finding_a, f"甲逾期{i}", today - timedelta(3))
        tasks_escalate(today=today)

    def test_the_number_of_queries_does_not_grow_with_the_tasks(self):
        for user in (self.leader, self.manager_a, self.reviewer, self.sub_office):
            before = self.queries(user)
            self.more_tasks()
            self.assertEqual(self.queries(user), before, user.username)
