"""Re-survey verdicts are bounded work done once: one exact test per task gives
both the verdict and the p-value in its figures, a re-run of the same round with
the same counts tests nothing again, and past the bound on tables the figures
name Fisher's test, which then decided."""

from __future__ import annotations

from unittest import mock

from django.urls import reverse
from scipy.stats import boschloo_exact

from analysis import stats
from analysis.models import Finding, Result
from analysis.services import finding_decide
from analysis.stats import change
from rectification.models import Task, TaskEvent
from rectification.resurvey import tasks_resurvey
from rectification.services import task_create
from tests.analysis.synthetic import analysed, fill
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import make_round, point_of


class ResurveyWorkTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        kinds = {"branch": "wuhao-branch"}
        cls.spring = make_round(cls.school, title="春季", kinds=kinds)
        fill(point_of(cls.spring, cls.branch_a), n=120, satisfied=84)  # 70%: RED
        fill(point_of(cls.spring, cls.branch_b), n=120, satisfied=119)
        analysed(cls.spring)
        finding = Finding.objects.get(
            campaign=cls.spring, unit=cls.branch_a, dimension_code=""
        )
        finding_decide(finding=finding, user=cls.leader, confirm=True)
        cls.task = task_create(user=cls.leader, finding=finding, fields={})
        Task.objects.filter(pk=cls.task.pk).update(state=Task.State.AWAITING_RESURVEY)
        cls.autumn = make_round(
            cls.school, title="秋季", kinds=kinds, baseline=cls.spring
        )
        # 100 of 120 (83%): below the target, so the test decides.
        fill(point_of(cls.autumn, cls.branch_a), n=120, satisfied=100)
        fill(point_of(cls.autumn, cls.branch_b), n=120, satisfied=118)
        cls.autumn_run = analysed(cls.autumn)

    def resurvey(self, run=None) -> tuple[list[Task], int]:
        with mock.patch.object(
            change, "boschloo_greater", wraps=change.boschloo_greater
        ) as exact:
            decided = tasks_resurvey(run=run or self.autumn_run)
        return decided, exact.call_count

    def unit_row(self, run=None):
        return (run or self.autumn_run).results.get(level="unit", unit=self.branch_a)

    def test_it_takes_its_rows_test_and_runs_none_again(self):
        decided, tests_run = self.resurvey()
        self.assertEqual([task.pk for task in decided], [self.task.pk])
        self.assertEqual(tests_run, 0)  # the analysis tested the row's table
        figures = decided[0].resurvey_figures
        self.assertEqual(figures["p_improved"], self.unit_row().p_improved)
        before, after = figures["before"], figures["after"]
        p = stats.improvement_test(
            before["n_satisfied"],
            before["n_valid"],
            after["n_satisfied"],
            after["n_valid"],
        )
        self.assertEqual(figures["p_improved"], float(p))
        self.assertEqual(figures["test"], "boschloo")
        self.assertEqual(figures["min_n"], self.autumn.min_flag_size)
        expected = "IMPROVED" if p <= 0.05 else "NOT_IMPROVED"
        self.assertEqual(decided[0].resurvey_verdict, expected)

    def test_without_its_rows_p_it_tests_its_table_once(self):
        Result.objects.filter(pk=self.unit_row().pk).update(p_improved=None)
        decided, tests_run = self.resurvey()
        self.assertEqual(tests_run, 1)
        figures = decided[0].resurvey_figures
        before, after = figures["before"], figures["after"]
        p = stats.improvement_test(
            before["n_satisfied"],
            before["n_valid"],
            after["n_satisfied"],
            after["n_valid"],
        )
        self.assertEqual(figures["p_improved"], float(p))

    def test_a_rerun_with_the_same_counts_tests_nothing_again(self):
        self.resurvey()
        events = TaskEvent.objects.filter(task=self.task).count()
        decided, tests_run = self.resurvey()
        self.assertEqual((decided, tests_run), ([], 0))
        self.assertEqual(TaskEvent.objects.filter(task=self.task).count(), events)

    def test_figures_from_before_this_rule_are_decided_once_more_without_an_event(
        self,
    ):
        self.resurvey()
        task = Task.objects.get(pk=self.task.pk)
        if task.state != Task.State.AWAITING_RESURVEY:
            Task.objects.filter(pk=task.pk).update(state=Task.State.AWAITING_RESURVEY)
        figures = dict(task.resurvey_figures)
        del figures["min_n"]  # as stored before the figures named it
        Task.objects.filter(pk=task.pk).update(resurvey_figures=figures)
        events = TaskEvent.objects.filter(task=task).count()
        decided, tests_run = self.resurvey()
        self.assertEqual((decided, tests_run), ([], 0))
        self.assertEqual(TaskEvent.objects.filter(task=task).count(), events)

    def test_past_the_bound_on_tables_fishers_test_decides_and_is_named(self):
        with mock.patch.object(change, "BOSCHLOO_MAX_TABLES", 100):
            run = analysed(self.autumn)
            decided, tests_run = self.resurvey(run)
        self.assertEqual(tests_run, 0)
        figures = decided[0].resurvey_figures
        self.assertEqual(figures["test"], "fisher")
        before, after = figures["before"], figures["after"]
        p = stats.improvement_test(
            before["n_satisfied"],
            before["n_valid"],
            after["n_satisfied"],
            after["n_valid"],
            method="fisher",
        )
        self.assertEqual(figures["p_improved"], float(p))


class OneVerdictTests(PersonaTestCase):
    """Issue 12, defect 4: a result row and the task of the same unit get the same
    verdict from the same test. 12/20 → 17/20 is the issue's table: Fisher's
    p = 0.078 (the rows used it), Boschloo's 0.043 (the tasks used it)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        kinds = {"branch": "wuhao-branch"}
        cls.spring = make_round(cls.school, title="春季", kinds=kinds)
        fill(point_of(cls.spring, cls.branch_a), n=20, satisfied=12)
        fill(point_of(cls.spring, cls.branch_b), n=20, satisfied=19)
        analysed(cls.spring)
        cls.tasks = []
        for finding in Finding.objects.filter(campaign=cls.spring, unit=cls.branch_a):
            finding_decide(finding=finding, user=cls.leader, confirm=True)
            cls.tasks.append(task_create(user=cls.leader, finding=finding, fields={}))
        Task.objects.filter(pk__in=[t.pk for t in cls.tasks]).update(
            state=Task.State.AWAITING_RESURVEY
        )
        cls.autumn = make_round(
            cls.school, title="秋季", kinds=kinds, baseline=cls.spring
        )
        fill(point_of(cls.autumn, cls.branch_a), n=20, satisfied=17)
        fill(point_of(cls.autumn, cls.branch_b), n=20, satisfied=19)
        cls.autumn_run = analysed(cls.autumn)

    def test_the_row_and_the_task_give_one_verdict_from_one_test(self):
        self.assertTrue(self.tasks)
        decided = {task.pk: task for task in tasks_resurvey(run=self.autumn_run)}
        self.assertEqual(set(decided), {task.pk for task in self.tasks})
        for task in decided.values():
            finding = task.finding
            row = self.autumn_run.results.get(
                level="dimension" if finding.dimension_code else "unit",
                unit=self.branch_a,
                dimension_code=finding.dimension_code,
            )
            figures = task.resurvey_figures
            self.assertEqual(row.verdict, task.resurvey_verdict)
            self.assertEqual(row.p_improved, figures["p_improved"])
            self.assertEqual(figures["test"], "boschloo")
            self.assertIn(figures["rule"], {"test", "regression_guard"})
            before, after = figures["before"], figures["after"]
            table = [
                [after["n_satisfied"], before["n_satisfied"]],
                [
                    after["n_valid"] - after["n_satisfied"],
                    before["n_valid"] - before["n_satisfied"],
                ],
            ]
            # Independent: scipy's own Boschloo test.
            expected = boschloo_exact(table, alternative="greater").pvalue
            self.assertAlmostEqual(figures["p_improved"], expected, places=6)
        unit_row = self.autumn_run.results.get(level="unit", unit=self.branch_a)
        self.assertAlmostEqual(unit_row.p_improved, 0.0432, places=3)

    def test_a_row_tested_in_a_batch_and_its_task_share_one_p(self):
        # A round has thousands of rows, tested in one batch; a task's table,
        # tested alone, could differ from it in the 12th digit.
        with mock.patch.object(change, "BOSCHLOO_BATCH", 1):
            run = analysed(self.autumn)
        decided = tasks_resurvey(run=run)
        self.assertTrue(decided)
        for task in decided:
            row = run.results.get(
                level="dimension" if task.finding.dimension_code else "unit",
                unit=self.branch_a,
                dimension_code=task.finding.dimension_code,
            )
            self.assertEqual(row.p_improved, task.resurvey_figures["p_improved"])
            self.assertEqual(row.verdict, task.resurvey_verdict)

    def test_the_task_page_says_which_rule_decided(self):
        decided = tasks_resurvey(run=self.autumn_run)
        task = next(t for t in decided if not t.finding.dimension_code)
        figures = task.resurvey_figures
        # Two units of one kind: the family cannot rule out that they are
        # alike, so the guard expects the unit back near their pooled rate.
        self.assertEqual(figures["prior"]["plausible"][1], None)  # M = ∞
        self.assertLess(figures["p_improved"], 0.05)
        self.assertEqual(
            (task.resurvey_verdict, figures["rule"]),
            ("NOT_IMPROVED", "regression_guard"),
        )
        self.assertGreater(figures["p_expected"], 0.05)
        self.login(self.leader)
        page = self.client.get(reverse("rectification-task", args=[task.pk]))
        self.assertContains(page, "未超出基线经收缩后的预期")
        self.assertContains(page, "均值回归")
