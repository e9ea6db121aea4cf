"""Free-text comments of a unit, as a reader may see them (METHODS.md §6, §7).

Shown only when the unit has at least ``min_comment_responses`` responses and at
least ``min_comments`` comments (the office's raw view excepted); personal data masked; order shuffled; never a
timestamp. Each comment is paired with the rating its respondent gave (the
headline question), which is the comment's sentiment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from organizations.models import Unit
from questionnaires.models import Answer, Question

from .access import Reading


@dataclass(frozen=True)
class UnitComments:
    allowed: bool
    reason: str = ""
    comments: list[tuple[str, str]] = field(
        default_factory=list
    )  # (masked text, polarity)


def _polarity_by_response(campaign_id: int, unit: Unit) -> dict:
    rows = Answer.objects.filter(
        point__campaign_id=campaign_id,
        point__unit=unit,
        question__headline=True,
        level__isnull=False,
    ).values_list("response_id", "level__polarity")
    return dict(rows)


def unit_comments(reading: Reading, unit: Unit) -> UnitComments:
    """The comments of one unit in the reading's round, or why they are withheld."""
    from .themes import mask_personal

    if not reading.allowed:
        return UnitComments(False, _("本轮结果尚未发布。"))
    campaign = reading.campaign
    result = reading.run.results.filter(level="unit", unit=unit).first()
    n_responses = result.n_responses if result else 0
    texts = list(
        Answer.objects.filter(point__campaign=campaign, point__unit=unit)
        .filter(~Q(text=""), question__kind=Question.Kind.TEXT)
        .values_list("response_id", "text")
    )
    too_few = (
        n_responses < campaign.min_comment_responses
        or len(texts) < campaign.min_comments
    )
    if too_few and not reading.raw:
        return UnitComments(
            False,
            _(
                "意见不予显示：需至少 %(n)d 份答卷且至少 %(c)d 条意见（现有 %(rn)d 份、%(rc)d 条）。"
            )
            % {
                "n": campaign.min_comment_responses,
                "c": campaign.min_comments,
                "rn": n_responses,
                "rc": len(texts),
            },
        )
    polarity = _polarity_by_response(campaign.pk, unit)
    comments = [
        (mask_personal(text), polarity.get(response_id, ""))
        for response_id, text in texts
    ]
    # Shuffled with a fresh seed, so the order says nothing about when they came in.
    random.SystemRandom().shuffle(comments)
    return UnitComments(True, "", comments)
