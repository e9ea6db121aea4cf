"""Re-survey verdicts are bounded work done once: one exact test per task gives
both the verdict and the p-value in its figures, a re-run of the same round with
the same counts tests nothing again, and past the bound on tables the figures
name Fisher's test, which then decided."""

from __future__ import annotations

from unittest import mock

from analysis import stats
from analysis.models import Finding
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

    def resurvey(self) -> tuple[list[Task], int]:
        with mock.patch.object(
            change, "boschloo_greater", wraps=change.boschloo_greater
        ) as exact:
            decided = tasks_resurvey(run=self.autumn_run)
        return decided, exact.call_count

    def test_it_runs_the_exact_test_once_per_task(self):
        decided, tests_run = self.resurvey()
        self.assertEqual([task.pk for task in decided], [self.task.pk])
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
        self.assertEqual(figures["test"], "boschloo")
        self.assertEqual(figures["min_n"], self.autumn.min_flag_size)
        expected = "IMPROVED" if p <= 0.05 else "NOT_IMPROVED"
        self.assertEqual(decided[0].resurvey_verdict, expected)

    def test_a_rerun_with_the_same_counts_tests_nothing_again(self):
        self.resurvey()
        events = TaskEvent.objects.filter(task=self.task).count()
        decided, tests_run = self.resurvey()
        self.assertEqual((decided, tests_run), ([], 0))
        self.assertEqual(TaskEvent.objects.filter(task=self.task).count(), events)

    def test_figures_from_before_this_rule_are_tested_once_more_without_an_event(
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
        self.assertEqual((decided, tests_run), ([], 1))
        self.assertEqual(TaskEvent.objects.filter(task=task).count(), events)

    def test_past_the_bound_on_tables_fishers_test_decides_and_is_named(self):
        with mock.patch.object(change, "BOSCHLOO_MAX_TABLES", 100):
            decided, tests_run = self.resurvey()
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
