"""Counting answers in the database: one GROUP BY per round, never row by row.

The database returns counts per (unit, question, level); everything after that is
numpy arrays (analysis/stats.py). However many responses a round has, what comes
back is at most units × questions × levels rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count

from questionnaires.models import Answer, BallotCode, CollectionPoint, Response


@dataclass
class CampaignCounts:
    """Counts of one round, keyed by ids; built by :func:`campaign_counts`."""

    # (unit_id, question_id) -> {level_id: n}
    levels: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    # unit_id -> responses
    responses: dict[int, int] = field(default_factory=dict)
    # (unit_id, question_id) -> {option_id: n}
    options: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    # unit_id -> (ballots issued, ballots used), ballot mode only
    ballots: dict[int, tuple[int, int]] = field(default_factory=dict)


def campaign_counts(campaign_id: int) -> CampaignCounts:
    """Four grouped queries: scale levels, chosen options, responses and ballots per unit."""
    counts = CampaignCounts()
    answers = Answer.objects.filter(point__campaign_id=campaign_id).order_by()
    level_rows = (
        answers.filter(level__isnull=False)
        .values_list("point__unit_id", "question_id", "level_id")
        .annotate(n=Count("*"))
    )
    levels: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for unit_id, question_id, level_id, n in level_rows:
        levels[(unit_id, question_id)][level_id] = n
    counts.levels = dict(levels)

    option_rows = (
        answers.filter(option__isnull=False)
        .values_list("point__unit_id", "question_id", "option_id")
        .annotate(n=Count("*"))
    )
    options: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for unit_id, question_id, option_id, n in option_rows:
        options[(unit_id, question_id)][option_id] = n
    counts.options = dict(options)

    response_rows = (
        Response.objects.filter(point__campaign_id=campaign_id)
        .order_by()
        .values_list("point__unit_id")
        .annotate(n=Count("*"))
    )
    counts.responses = dict(response_rows)

    ballot_rows = (
        BallotCode.objects.filter(point__campaign_id=campaign_id)
        .order_by()
        .values_list("point__unit_id")
        .annotate(issued=Count("*"), used=Count("used_on"))
    )
    counts.ballots = {unit_id: (issued, used) for unit_id, issued, used in ballot_rows}
    return counts


def campaign_points(campaign_id: int) -> list[CollectionPoint]:
    return list(
        CollectionPoint.objects.filter(campaign_id=campaign_id).select_related(
            "unit", "unit__parent", "questionnaire"
        )
    )
