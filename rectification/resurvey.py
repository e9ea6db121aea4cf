"""Re-survey verdicts (METHODS.md §4, §8): the next round tells whether a task worked.

When a round whose baseline is a finding's round is analysed, every task of that
finding awaiting re-survey gets IMPROVED, NOT_IMPROVED or INSUFFICIENT_DATA from
the before/after comparison of the same unit and dimension. NOT IMPROVED reopens
the task; IMPROVED lets the office close it. The figures go into the event.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction

from analysis import stats
from analysis.models import AnalysisRun, Result

from .models import Task, TaskEvent

# Few tasks at a time: the exact, more powerful Boschloo test is affordable here.
TEST_METHOD = "boschloo"


def result_row(run: AnalysisRun | None, task: Task) -> Result | None:
    """The row of ``run`` for the unit (and dimension) of the task's finding."""
    if run is None:
        return None
    finding = task.finding
    level = Result.Level.DIMENSION if finding.dimension_code else Result.Level.UNIT
    return run.results.filter(
        level=level, unit_id=finding.unit_id, dimension_code=finding.dimension_code
    ).first()


def tasks_resurvey(*, run: AnalysisRun) -> list[Task]:
    """Give a verdict to every task awaiting the re-survey that ``run`` provides."""
    campaign = run.campaign
    if campaign.baseline_id is None:
        return []
    baseline_run = (
        AnalysisRun.objects.filter(campaign_id=campaign.baseline_id)
        .order_by("-created_at", "-id")
        .first()
    )
    tasks = Task.objects.filter(
        state=Task.State.AWAITING_RESURVEY, finding__campaign_id=campaign.baseline_id
    ).select_related("finding")
    decided = []
    for task in tasks:
        before, after = result_row(baseline_run, task), result_row(run, task)
        k0, n0 = (before.n_satisfied, before.n_valid) if before else (0, 0)
        k1, n1 = (after.n_satisfied, after.n_valid) if after else (0, 0)
        verdict = str(
            stats.improvement_verdict(
                np.array([k0]),
                np.array([n0]),
                np.array([k1]),
                np.array([n1]),
                float(campaign.target),
                method=TEST_METHOD,
                min_n=campaign.min_flag_size,
            )[0]
        )
        if (
            task.resurvey_figures.get("round") == campaign.pk
            and task.resurvey_verdict == verdict
        ):
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
            "target": float(campaign.target),
            "test": TEST_METHOD,
            "verdict": verdict,
        }
        if n0 and n1:
            p = stats.improvement_test(
                np.array([k0]),
                np.array([n0]),
                np.array([k1]),
                np.array([n1]),
                method=TEST_METHOD,
            )
            diff, low, high = stats.newcombe_difference_interval(k1, n1, k0, n0)
            figures.update(
                p_improved=float(p[0]),
                diff=float(diff),
                diff_ci=[float(low), float(high)],
            )
        decided.append(_apply(task, verdict, figures))
    return decided


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
