"""seed_demo: the demo university, its rounds, and the rectification loop that a
newcomer sees on first start (ledger, public board, tasks in every state)."""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from pathlib import Path

from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory, TestCase, override_settings
from django.utils import timezone
from scipy.stats import boschloo_exact

from analysis.models import AnalysisRun, Finding, Result
from organizations.models import Membership, Unit
from questionnaires.models import (
    BallotCode,
    Campaign,
    CollectionPoint,
    PendingSubmission,
    Response,
)
from rectification.models import Evidence, ExtensionRequest, Task, TaskEvent
from rectification.supervision import colour_for

S = Task.State


class SeedDemoTests(TestCase):
    @override_settings(DEBUG=True)
    def test_it_builds_the_demo_university_once(self):
        call_command("seed_demo", stdout=io.StringIO())
        counts = {
            kind: Unit.objects.filter(kind=kind).count() for kind in Unit.Kind.values
        }
        call_command("seed_demo", stdout=io.StringIO())
        self.assertEqual(
            counts,
            {kind: Unit.objects.filter(kind=kind).count() for kind in Unit.Kind.values},
        )
        self.assertEqual(counts["school"], 1)
        self.assertGreaterEqual(counts["committee"], 6)
        self.assertGreaterEqual(counts["branch"], 20)
        self.assertGreaterEqual(counts["window"], 5)
        categories = set(
            Unit.objects.filter(kind="committee").values_list("category", flat=True)
        )
        self.assertEqual(categories, {"teaching", "administration", "logistics"})
        branch_types = set(
            Unit.objects.filter(kind="branch").values_list("category", flat=True)
        )
        self.assertEqual(branch_types, {"staff", "student"})
        self.assertEqual(Membership.objects.filter(user__username="leader").count(), 1)

    @override_settings(DEBUG=True)
    def test_it_prints_logins_that_work(self):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        self.assertIn("leader-demo-2026", out.getvalue())
        # As the login page asks: with the request (django-axes needs it).
        login = RequestFactory().post("/accounts/login/")
        self.assertIsNotNone(
            authenticate(login, username="leader", password="leader-demo-2026")
        )
        managers = Membership.objects.filter(role="manager")
        self.assertEqual(
            managers.count(), Unit.objects.filter(kind="committee").count()
        )

    def test_it_refuses_when_debug_is_off_without_yes(self):
        with self.assertRaises(CommandError):
            call_command("seed_demo", stdout=io.StringIO())
        self.assertFalse(Unit.objects.exists())
        self.assertFalse(get_user_model().objects.exists())

    def test_yes_allows_it_when_debug_is_off(self):
        call_command("seed_demo", "--yes", stdout=io.StringIO())
        self.assertTrue(Unit.objects.exists())

    @override_settings(DEBUG=True)
    def test_if_empty_leaves_a_database_with_units_alone(self):
        Unit.objects.create(code="X", name="别的学校", kind="school")
        out = io.StringIO()
        call_command("seed_demo", "--if-empty", stdout=out)
        self.assertEqual(Unit.objects.count(), 1)
        self.assertIn("not loaded", out.getvalue())


class SeedDemoRoundTests(TestCase):
    @override_settings(DEBUG=True)
    def test_it_creates_two_past_rounds_and_two_open_ones_once(self):
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo", stdout=io.StringIO())
        self.assertEqual(Campaign.objects.count(), 4)
        spring, autumn, winter = Campaign.objects.filter(access_mode="open").order_by(
            "opens_at"
        )
        ballot = Campaign.objects.get(access_mode="ballot")
        self.assertEqual(
            [c.status for c in (spring, autumn, winter, ballot)],
            ["closed", "closed", "open", "open"],
        )
        self.assertEqual(autumn.baseline, spring)
        self.assertEqual(winter.baseline, autumn)
        self.assertTrue(winter.points.exists())
        self.assertTrue(winter.commitments.exists())
        # Without answers there is nothing to analyse and nothing to rectify.
        self.assertFalse(AnalysisRun.objects.exists())
        self.assertFalse(Task.objects.exists())

    @override_settings(DEBUG=True)
    def test_every_run_prints_a_respondent_url_of_the_open_round(self):
        """So that a second ``make run`` still says where to answer."""
        for _ in range(2):
            out = io.StringIO()
            call_command("seed_demo", "--if-empty", stdout=out)
            (url,) = re.findall(r"Answer as a respondent: (\S+)", out.getvalue())
            point = CollectionPoint.objects.get(token=url.rstrip("/").split("/")[-1])
            self.assertEqual(point.campaign.status, "open")
            self.assertEqual(point.campaign.access_mode, "open")

    @override_settings(DEBUG=True)
    def test_a_negative_count_is_refused(self):
        with self.assertRaises(CommandError):
            call_command("seed_demo", "--responses", "-1", stdout=io.StringIO())


class SeedDemoLoopTests(TestCase):
    """One demo with answers, as ``make run`` loads it (with fewer answers: 400 is
    about the least with which every weak spot of the demo is flagged)."""

    RESPONSES = 400

    @classmethod
    def setUpClass(cls) -> None:
        cls.media = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        cls.enterClassContext(override_settings(MEDIA_ROOT=cls.media))
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        cls.out = io.StringIO()
        with override_settings(DEBUG=True, SUBMIT_RATE_LIMIT=(30, 600)):
            call_command("seed_demo", "--responses", str(cls.RESPONSES), stdout=cls.out)
        rounds = Campaign.objects.filter(access_mode="open").order_by("opens_at")
        cls.spring, cls.autumn, cls.winter = rounds
        cls.leader = get_user_model().objects.get(username="leader")

    def as_user(self, username: str):
        self.client.force_login(get_user_model().objects.get(username=username))
        return self.client

    def manager_of(self, unit: Unit) -> str:
        committee = next(
            u for u in [unit, *unit.ancestors()] if u.kind == Unit.Kind.COMMITTEE
        )
        return Membership.objects.get(unit=committee, role="manager").user.username

    def tasks(self):
        return Task.objects.filter(campaign=self.spring).select_related("lead_unit")

    def test_responses_fill_every_round_through_the_service_once(self):
        for campaign in Campaign.objects.all():
            # Open rounds keep up to two batches in the anonymity pool.
            self.assertEqual(
                Response.objects.filter(point__campaign=campaign).count()
                + PendingSubmission.objects.filter(point__campaign=campaign).count(),
                self.RESPONSES,
                campaign.title,
            )
        ballot_round = Campaign.objects.get(access_mode="ballot")
        used = BallotCode.objects.filter(
            point__campaign=ballot_round, used_on__isnull=False
        ).count()
        self.assertEqual(used, self.RESPONSES)
        self.assertEqual(self.spring.status, "published")
        self.assertEqual(self.autumn.status, "closed")
        # Only the closed rounds are analysed: open rounds wait for their close.
        self.assertEqual(
            set(AnalysisRun.objects.values_list("campaign", flat=True)),
            {self.spring.pk, self.autumn.pk},
        )
        self.assertIn("/b/", self.out.getvalue())
        counts = (
            Response.objects.count() + PendingSubmission.objects.count(),
            AnalysisRun.objects.count(),
            Task.objects.count(),
            TaskEvent.objects.count(),
            Evidence.objects.count(),
        )
        with override_settings(DEBUG=True):
            call_command("seed_demo", "--responses", "400", stdout=io.StringIO())
        self.assertEqual(
            counts,
            (
                Response.objects.count() + PendingSubmission.objects.count(),
                AnalysisRun.objects.count(),
                Task.objects.count(),
                TaskEvent.objects.count(),
                Evidence.objects.count(),
            ),
        )

    def test_the_ledger_lists_tasks_in_every_state(self):
        states = set(self.tasks().values_list("state", flat=True))
        self.assertEqual(
            states, {S.ASSIGNED, S.IN_PROGRESS, S.UNDER_REVIEW, S.CLOSED}, states
        )
        page = self.as_user("leader").get("/manage/ledger/")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        for task in self.tasks():
            self.assertIn(task.title, html)
        for label in ("已交办", "整改中", "待验收", "已销号", "红色（逾期）"):
            self.assertIn(label, html)

    def section(self, html: str, name: str) -> str:
        match = re.search(
            rf'<section class="card" id="{name}">(.*?)</section>', html, re.S
        )
        self.assertIsNotNone(match, name)
        return match[1]

    def test_the_workbench_has_work_on_first_start(self):
        html = self.as_user("leader").get("/manage/").content.decode()
        for name in ("open-rounds", "candidates", "pending", "decisions", "red",
                     "interviews"):  # fmt: skip
            with self.subTest(section=name):
                self.assertNotIn("暂无", self.section(html, name))
                self.assertIn("<a ", self.section(html, name))
        # The unit's move: a task given to it, being done, or sent back.
        for task in self.tasks().filter(state__in=[S.ASSIGNED, S.IN_PROGRESS]):
            html = (
                self.as_user(self.manager_of(task.lead_unit))
                .get("/manage/")
                .content.decode()
            )
            with self.subTest(manager=self.manager_of(task.lead_unit)):
                self.assertIn("<a ", self.section(html, "my-results"))
                mine = self.section(html, "my-tasks") + self.section(html, "my-returns")
                self.assertIn(task.title, mine)

    def test_each_unit_manager_sees_its_own_tasks(self):
        for task in self.tasks():
            html = (
                self.as_user(self.manager_of(task.lead_unit))
                .get("/manage/ledger/")
                .content.decode()
            )
            self.assertIn(task.title, html, task.lead_unit.code)

    def test_the_public_board_shows_non_zero_counts(self):
        page = self.client.get(f"/public/campaigns/{self.spring.pk}/")
        self.assertEqual(page.status_code, 200)
        text = re.sub(r"<[^>]+>", "", page.content.decode())
        counts = [int(n) for n in re.findall(r"(\d+)\s*项", text)]
        self.assertGreaterEqual(len(counts), 2, text)
        self.assertTrue(all(counts), counts)
        for task in self.tasks():
            self.assertIn(task.title, text)

    def rows(self, task: Task) -> tuple[Result, Result]:
        """The task's unit and 维度 in spring's and autumn's latest analysis."""
        finding = task.finding

        def row(campaign):
            run = AnalysisRun.objects.filter(campaign=campaign).latest()
            return run.results.get(
                level="dimension",
                unit=finding.unit,
                dimension_code=finding.dimension_code,
            )

        return row(self.spring), row(self.autumn)

    def p_improved(self, before: Result, after: Result) -> float:
        table = [
            [after.n_satisfied, before.n_satisfied],
            [after.n_valid - after.n_satisfied, before.n_valid - before.n_satisfied],
        ]
        return boschloo_exact(table, alternative="greater").pvalue

    def test_the_autumn_re_survey_closed_a_task_that_improved(self):
        (task,) = self.tasks().filter(state=S.CLOSED)
        self.assertEqual(task.resurvey_verdict, "IMPROVED")
        before, after = self.rows(task)
        self.assertEqual(before.flag, "RED")
        # METHODS.md §4: at target, or a significant improvement.
        rate = after.n_satisfied / after.n_valid
        self.assertTrue(
            rate >= 0.95 or self.p_improved(before, after) <= 0.05,
            (before.n_satisfied, before.n_valid, after.n_satisfied, after.n_valid),
        )
        self.assertEqual(task.resurvey_figures["after"]["n_valid"], after.n_valid)
        actions = list(task.events.values_list("kind", "action", "actor__username"))
        self.assertEqual(actions[-2], ("resurvey", "", None))
        self.assertEqual(actions[-1], ("transition", "close", "leader"))
        self.assertIsNotNone(task.closed_at)

    def test_the_autumn_re_survey_reopened_a_task_that_did_not(self):
        (task,) = self.tasks().filter(resurvey_verdict="NOT_IMPROVED")
        self.assertEqual(task.state, S.IN_PROGRESS)
        before, after = self.rows(task)
        self.assertLess(after.n_satisfied / after.n_valid, 0.95)
        self.assertGreater(self.p_improved(before, after), 0.05)
        reopen = task.events.get(action="reopen")
        self.assertEqual((reopen.actor, reopen.from_state), (None, S.AWAITING_RESURVEY))
        # The office gave it a new due date, on the record.
        change = task.events.filter(kind="change").last()
        self.assertIn("due_date", change.changes)
        self.assertGreater(task.due_date, timezone.localdate())

    def test_a_task_in_progress_has_a_real_pdf_as_evidence(self):
        evidence = Evidence.objects.filter(task__state=S.IN_PROGRESS).first()
        self.assertIsNotNone(evidence)
        data = evidence.file.read()
        self.assertTrue(data.startswith(b"%PDF-"))
        self.assertIn(b"%%EOF", data[-64:])
        self.assertEqual(hashlib.sha256(data).hexdigest(), evidence.sha256)
        self.assertTrue(
            evidence.task.events.filter(kind="evidence", to_state=S.IN_PROGRESS)
        )
        manager = self.manager_of(evidence.task.lead_unit)
        download = self.as_user(manager).get(f"/manage/evidence/{evidence.pk}/")
        self.assertEqual(download.status_code, 200)
        self.assertEqual(download["Content-Type"], "application/pdf")

    def test_a_returned_task_shows_its_reason(self):
        returned = TaskEvent.objects.filter(action="return").select_related("task")
        self.assertEqual(returned.count(), 2)
        # One was resubmitted and waits for acceptance; one is being reworked.
        self.assertEqual(
            {event.task.state for event in returned}, {S.UNDER_REVIEW, S.IN_PROGRESS}
        )
        for event in returned:
            self.assertTrue(event.comment)
            page = self.as_user(self.manager_of(event.task.lead_unit)).get(
                f"/manage/tasks/{event.task.pk}/"
            )
            self.assertContains(page, event.comment)

    def test_one_task_is_red_and_overdue(self):
        (task,) = self.tasks().filter(colour=Task.Colour.RED)
        today = timezone.localdate()
        self.assertLess(task.due_date, today)
        self.assertIn(task.state, (S.ASSIGNED, S.IN_PROGRESS, S.UNDER_REVIEW))
        self.assertEqual(
            colour_for(due_date=task.due_date, today=today, milestone_missed=False),
            Task.Colour.RED,
        )
        self.assertTrue(task.events.filter(kind="escalation"))
        # Red for more than 30 days: listed for 约谈; it asked for more time.
        self.assertTrue(task.interview_candidate)
        self.assertTrue(
            ExtensionRequest.objects.filter(task=task, status="pending").exists()
        )

    def test_findings_wait_for_the_office_and_one_was_not_true(self):
        spring = Finding.objects.filter(campaign=self.spring)
        self.assertTrue(spring.filter(status="candidate").exists())
        self.assertTrue(spring.filter(status="confirmed", tasks__isnull=True))
        (not_true,) = spring.filter(status="dismissed")
        self.assertEqual(not_true.verification, "false")
        self.assertTrue(not_true.decision_comment)
        self.assertFalse(not_true.tasks.exists())

    def test_every_task_has_the_trail_of_its_services(self):
        for task in self.tasks():
            events = list(task.events.order_by("at", "id"))
            self.assertEqual(
                (events[0].kind, events[0].actor), ("created", self.leader)
            )
            state = S.DRAFT
            for event in events[1:]:
                if event.kind == "transition":
                    self.assertEqual(event.from_state, state, task.title)
                    state = event.to_state
            self.assertEqual(state, task.state, task.title)
