"""Rounds with known truth, written straight into the response tables.

The collection service is tested on its own; here thousands of answers are made
quickly with exact proportions, so each unit's true rate is known.
"""

from __future__ import annotations

from django.utils import timezone

from questionnaires.models import (
    Answer,
    CollectionPoint,
    Question,
    Response,
    ScaleLevel,
)


def fill(
    point: CollectionPoint,
    *,
    n: int,
    satisfied: int,
    dont_know: int = 0,
    comments: list[str] = (),
) -> None:
    """``n`` responses to every scale question: ``satisfied`` 满意, ``dont_know`` 不了解,
    the rest 不满意 (three_dk scale); ``comments`` as free-text answers."""
    questions = list(Question.objects.filter(questionnaire=point.questionnaire))
    levels = {
        level.code: level for level in ScaleLevel.objects.filter(scale__key="three_dk")
    }
    today = timezone.localdate()
    responses = Response.objects.bulk_create(
        Response(point=point, questionnaire=point.questionnaire, submitted_on=today)
        for _ in range(n)
    )
    answers = []
    for i, response in enumerate(responses):
        code = (
            "satisfied"
            if i < satisfied
            else "dont_know"
            if i < satisfied + dont_know
            else "dissatisfied"
        )
        for question in questions:
            if question.kind == Question.Kind.SCALE:
                answers.append(
                    Answer(
                        response=response,
                        point=point,
                        question=question,
                        level=levels[code],
                    )
                )
            elif question.kind == Question.Kind.TEXT and i < len(comments):
                answers.append(
                    Answer(
                        response=response,
                        point=point,
                        question=question,
                        text=comments[i],
                    )
                )
    Answer.objects.bulk_create(answers, batch_size=2000)


def analysed(campaign):
    """Close the round if it is still open (analysis waits for the close), then
    analyse it; returns the run."""
    from analysis.services import campaign_analyze
    from questionnaires.models import Campaign
    from questionnaires.services import campaign_close

    if campaign.status == Campaign.Status.OPEN:
        campaign_close(campaign=campaign)
    campaign.refresh_from_db()
    return campaign_analyze(campaign=campaign)


def published(campaign):
    """Close the round if it is still open, then publish its results."""
    from questionnaires.models import Campaign
    from questionnaires.services import campaign_close, campaign_publish

    campaign.refresh_from_db()
    if campaign.status == Campaign.Status.OPEN:
        campaign_close(campaign=campaign)
    return campaign_publish(campaign=campaign)
