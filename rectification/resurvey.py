"""Re-survey verdicts (METHODS.md §4, §8): the next round tells whether a task worked.

When a round whose baseline is a finding's round is analysed, every task of that
finding awaiting re-survey gets IMPROVED, NOT_IMPROVED or INSUFFICIENT_DATA from
the before/after comparison of the same unit and dimension, by the rule and test
the result rows use (``stats.improvement_decision``, the baseline prior of
``analysis.baseline_priors``): one table, one verdict. NOT IMPROVED reopens the
task; IMPROVED lets the office close it. The figures, with the rule that decided,
go into the event.
"""

from __future__ import annotations

import math

from django.db import transaction

from analysis import stats
from analysis.baseline_priors import NO_PRIOR, BaselinePriors
from analysis.models import AnalysisRun, Result
from analysis.results import IMPROVEMENT_TEST, tested_target

from .models import Task, TaskEvent

# The result rows' test (analysis.results.IMPROVEMENT_TEST): the exact, more
# powerful Boschloo test, bounded work per task (about 0.02 s at 500 answers a
# side; beyond stats.BOSCHLOO_MAX_TABLES tables it is Fisher's).
TEST_METHOD = IMPROVEMENT_TEST


def _row_key(task: Task) -> tuple[str, int, str]:
    finding = task.finding
    level = Result.Level.DIMENSION if finding.dimension_code else Result.Level.UNIT
    return level, finding.unit_id, finding.dimension_code


def result_row(run: AnalysisRun | None, task: Task) -> Result | None:
    """The row of ``run`` for the unit (and dimension) of the task's finding."""
    if run is None:
        return None
    level, unit_id, dimension_code = _row_key(task)
    return run.results.filter(
        level=level, unit_id=unit_id, dimension_code=dimension_code
    ).first()


def _result_rows(
    run: AnalysisRun | None, tasks: list[Task]
) -> dict[tuple[str, int, str], Result]:
    """:func:`result_row` for every task at once, in one query."""
    if run is None or not tasks:
        return {}
    rows: dict[tuple[str, int, str], Result] = {}
    found = run.results.filter(
        level__in=[Result.Level.UNIT, Result.Level.DIMENSION],
        unit_id__in={task.finding.unit_id for task in tasks},
    ).order_by("pk")
    for row in found:
        rows.setdefault((row.level, row.unit_id, row.dimension_code), row)
    return rows


def _counts(row: Result | None) -> tuple[int, int]:
    return (row.n_satisfied, row.n_valid) if row else (0, 0)


def tasks_resurvey(*, run: AnalysisRun) -> list[Task]:
    """Give a verdict to every task awaiting the re-survey that ``run`` provides.

    Each verdict is computed once: its one exact test gives both the verdict and
    the p-value in the figures, and a task whose figures already come from this
    round, with the same counts and rules, is not tested again when the round is
    analysed again."""
    campaign = run.campaign
    if campaign.baseline_id is None:
        return []
    baseline_run = (
        AnalysisRun.objects.filter(campaign_id=campaign.baseline_id)
        .order_by("-created_at", "-id")
        .first()
    )
    tasks = list(
        Task.objects.filter(
            state=Task.State.AWAITING_RESURVEY,
            finding__campaign_id=campaign.baseline_id,
        ).select_related("finding")
    )
    before_rows = _result_rows(baseline_run, tasks)
    after_rows = _result_rows(run, tasks)
    priors = BaselinePriors.of_run(baseline_run) if tasks and baseline_run else None
    target = tested_target(campaign)
    min_n = campaign.min_flag_size
    decided = []
    for task in tasks:
        before_row = before_rows.get(_row_key(task))
        after_row = after_rows.get(_row_key(task))
        k0, n0 = _counts(before_row)
        k1, n1 = _counts(after_row)
        prior = priors.of(before_row) if priors and before_row else NO_PRIOR
        test = (
            str(stats.improvement_method(n0, n1, TEST_METHOD))
            if n0 and n1
            else TEST_METHOD
        )
        stored = task.resurvey_figures
        if (
            stored.get("round") == campaign.pk
            and stored.get("before", {}).get("n_valid") == n0
            and stored.get("before", {}).get("n_satisfied") == k0
            and stored.get("after", {}).get("n_valid") == n1
            and stored.get("after", {}).get("n_satisfied") == k1
            and stored.get("target") == target
            and stored.get("min_n") == min_n
            and stored.get("test") == test
            and stored.get("prior") == prior.figures()
            and task.resurvey_verdict == stored.get("verdict")
        ):
            continue  # decided from these very counts already: nothing new
        p = _row_p(after_row, n0)
        if p is None:
            p = (
                float(stats.improvement_test(k0, n0, k1, n1, method=TEST_METHOD))
                if n0 and n1
                else float("nan")
            )
        decision = stats.improvement_decision(
            k0,
            n0,
            k1,
            n1,
            target,
            method=TEST_METHOD,
            min_n=min_n,
            p_value=p,
            prior_mean=prior.mean,
            prior_concentration=prior.concentrations(),
        )
        verdict = str(decision.verdict)
        if stored.get("round") == campaign.pk and task.resurvey_verdict == verdict:
            continue  # this round already said so: a re-run decides nothing new
        figures = {
            "round": campaign.pk,
            "run": run.pk,
            "before": {
                "n_valid": n0,
                "n_satisfied": k0,
                "rate": k0 / n0 if n0 else None,
            },
            "after": {
                "n_valid": n1,
                "n_satisfied": k1,
                "rate": k1 / n1 if n1 else None,
            },
            "target": target,
            "min_n": min_n,
            "test": test,
            "prior": prior.figures(),
            "verdict": verdict,
            # Which rule gave the verdict (stats.VerdictRule): min_n,
            # target_bound, test or regression_guard.
            "rule": str(decision.rule),
        }
        if n0 and n1:
            diff, low, high = stats.newcombe_difference_interval(k1, n1, k0, n0)
            figures.update(
                p_improved=p,
                diff=float(diff),
                diff_ci=[float(low), float(high)],
                expected=_number(decision.expected),
                p_expected=_number(decision.p_expected),
            )
        decided.append(_apply(task, verdict, figures))
    return decided


def _row_p(row: Result | None, n0: int) -> float | None:
    """The p-value the analysis gave the task's result row against the same
    baseline counts: the very number the results pages show, so that the row
    and the task never differ (a row is tested in a batch of the round's tables,
    which can differ from a test of the table alone in the 12th digit)."""
    if row is None or row.p_improved is None or row.baseline_n_valid != n0:
        return None
    return row.p_improved


def _number(value) -> float | None:
    """A figure for the JSON field: None for NaN (no prior, no guard)."""
    value = float(value)
    return None if math.isnan(value) else value


def _apply(task: Task, verdict: str, figures: dict) -> Task:
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        previous = task.state
        task.resurvey_verdict = verdict
        task.resurvey_figures = figures
        if verdict == "NOT_IMPROVED":
            task.state = Task.State.IN_PROGRESS
        task.save()
        TaskEvent.objects.create(
            task=task,
            kind=TaskEvent.Kind.RESURVEY
            if task.state == previous
            else TaskEvent.Kind.TRANSITION,
            actor=None,
            action="" if task.state == previous else "reopen",
            from_state=previous,
            to_state=task.state,
            changes={"resurvey_verdict": [None, verdict], "figures": figures},
            comment="回访测评："
            + {
                "IMPROVED": "已改善",
                "NOT_IMPROVED": "未改善，重新整改",
                "INSUFFICIENT_DATA": "样本不足，暂无结论",
            }[verdict],
        )
    return task
