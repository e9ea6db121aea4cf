"""Rounds for tests, built with the real services on the PersonaTestCase tree."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from questionnaires.forms_spec import form_spec
from questionnaires.models import (
    Campaign,
    CampaignQuestionnaire,
    CollectionPoint,
    Questionnaire,
)
from questionnaires.services import campaign_open

KINDS = {"committee": "wuhao-committee", "branch": "wuhao-branch", "window": "window"}


def builtin(key: str) -> Questionnaire:
    return Questionnaire.objects.published().get(key=key, version=1)


def make_round(
    organizer,
    *,
    mode: str = "open",
    title: str = "测试轮次",
    open_it: bool = True,
    kinds=None,
    **extra,
) -> Campaign:
    now = timezone.now()
    campaign = Campaign.objects.create(
        organizer=organizer,
        title=title,
        opens_at=extra.pop("opens_at", now - timedelta(days=1)),
        closes_at=extra.pop("closes_at", now + timedelta(days=7)),
        access_mode=mode,
        **extra,
    )
    for kind, key in (KINDS if kinds is None else kinds).items():
        CampaignQuestionnaire.objects.create(
            campaign=campaign, unit_kind=kind, questionnaire=builtin(key)
        )
    if open_it:
        campaign_open(campaign=campaign)
        campaign.refresh_from_db()
    return campaign


def point_of(campaign: Campaign, unit) -> CollectionPoint:
    return CollectionPoint.objects.select_related(
        "campaign", "unit", "questionnaire"
    ).get(campaign=campaign, unit=unit)


def full_answers(point: CollectionPoint, level: str | None = None) -> list[dict]:
    """A complete valid answer set: the given (or first) level on every scale item."""
    answers = []
    for question in form_spec(point.questionnaire).questions:
        if question.kind == "scale":
            code = (
                level
                if level and any(lv.code == level for lv in question.levels)
                else question.levels[0].code
            )
            answers.append({"question": question.id, "level": code})
        elif question.kind in ("single", "multiple"):
            answers.append(
                {"question": question.id, "options": [question.options[0].id]}
            )
        else:
            answers.append({"question": question.id, "text": "很好，继续保持。"})
    return answers


def question(point: CollectionPoint, kind: str, *, headline: bool | None = None):
    for q in form_spec(point.questionnaire).questions:
        if q.kind == kind and (headline is None or q.headline == headline):
            return q
    raise LookupError(kind)


def write_out(*points: CollectionPoint) -> None:
    """Write these points' anonymity pools out whole, as the round's close does."""
    from questionnaires.pool import pool_flush_points

    pool_flush_points([point.pk for point in points])


def accepted(point: CollectionPoint | None = None) -> int:
    """Responses accepted so far: written out, or still waiting in the pool."""
    from questionnaires.models import PendingSubmission, Response

    written, waiting = Response.objects.all(), PendingSubmission.objects.all()
    if point is not None:
        written, waiting = written.filter(point=point), waiting.filter(point=point)
    return written.count() + waiting.count()
