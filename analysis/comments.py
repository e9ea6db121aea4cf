"""Free-text comments of a unit, as a reader may see them (METHODS.md §6, §7).

Shown only when the unit has at least ``min_comment_responses`` responses and at
least ``min_comments`` comments (the office's raw view excepted); personal data
masked (numbers and addresses, and the names of every unit and every person the
service knows); order shuffled; never a timestamp. Each comment is paired with
the rating its respondent gave to the headline question, which is the comment's
sentiment.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _

from organizations.models import Unit
from questionnaires.models import Answer, Campaign, Question

from .access import Reading

if TYPE_CHECKING:
    from .masking import NameMask

# More sources of people's names, from apps analysis may not import (rectification:
# the people responsible for a task); each registers here in its AppConfig.ready.
PERSON_NAME_SOURCES: list[Callable[[], Iterable[str]]] = []
# Several people in one field: "张三、李四", "王五/赵六".
_NAME_SEPARATORS = re.compile(r"[、，,;；/／|]+")


@dataclass(frozen=True)
class UnitComments:
    allowed: bool
    reason: str = ""
    comments: list[tuple[str, str]] = field(
        default_factory=list
    )  # (masked text, polarity)


def split_names(value: str) -> list[str]:
    """The names in a field that may hold several, and the whole field."""
    parts = [part.strip() for part in _NAME_SEPARATORS.split(value)]
    return [value.strip(), *(part for part in parts if part)]


def _user_names() -> Iterator[str]:
    # A Chinese full name is 姓 + 名 with no space; get_full_name() would put
    # the given name first. Each part alone too: comments say "小明" or "欧阳".
    users = get_user_model().objects.exclude(first_name="", last_name="")
    for first, last in users.values_list("first_name", "last_name").iterator():
        first, last = first.strip(), last.strip()
        yield from (last + first, first + last, f"{first} {last}", f"{last} {first}")
        yield from (first, last)


def known_names() -> NameMask:
    """Every unit's name and every person's name the service knows, in a few
    queries: build it once per page, request or analysis, not per comment."""
    from .masking import NameMask

    people = list(_user_names())
    for source in PERSON_NAME_SOURCES:
        for value in source():
            people += split_names(value)
    return NameMask(
        units=Unit.objects.values_list("name", flat=True).iterator(), people=people
    )


def comment_rows(
    campaign: Campaign, unit_ids: list[int] | None = None
) -> dict[int, list[tuple[str, str]]]:
    """Masked comments with their respondent's headline polarity, per unit, in a
    few queries."""
    from .masking import mask_personal

    names = known_names()
    texts = Answer.objects.filter(
        point__campaign=campaign, question__kind=Question.Kind.TEXT
    ).filter(~Q(text=""))
    if unit_ids is not None:
        texts = texts.filter(point__unit_id__in=unit_ids)
    polarity = dict(
        Answer.objects.filter(
            response_id__in=texts.values("response_id"),
            question__headline=True,
            level__isnull=False,
        ).values_list("response_id", "level__polarity")
    )
    rows: dict[int, list[tuple[str, str]]] = defaultdict(list)
    # Many comments say the same ("无", "很好"): each distinct text masked once.
    masked: dict[str, str] = {}
    for unit_id, response_id, text in texts.values_list(
        "point__unit_id", "response_id", "text"
    ).iterator():
        if text not in masked:
            masked[text] = names.mask(mask_personal(text))
        rows[unit_id].append((masked[text], polarity.get(response_id, "dont_know")))
    return dict(rows)


def comments_allowed(campaign: Campaign, n_responses: int, n_comments: int) -> bool:
    return (
        n_responses >= campaign.min_comment_responses
        and n_comments >= campaign.min_comments
    )


def unit_comments(reading: Reading, unit: Unit) -> UnitComments:
    """The comments of one unit in the reading's round, or why they are withheld."""
    if not reading.allowed:
        return UnitComments(False, _("本轮结果尚未发布。"))
    campaign = reading.campaign
    result = reading.run.results.filter(level="unit", unit=unit).first()
    n_responses = result.n_responses if result else 0
    comments = comment_rows(campaign, [unit.pk]).get(unit.pk, [])
    if not reading.raw and not comments_allowed(campaign, n_responses, len(comments)):
        if result is None or result.suppressed:
            # The counts of a hidden unit are hidden figures too.
            return UnitComments(
                False,
                _("意见不予显示：需至少 %(n)d 份答卷且至少 %(c)d 条意见。")
                % {"n": campaign.min_comment_responses, "c": campaign.min_comments},
            )
        return UnitComments(
            False,
            _(
                "意见不予显示：需至少 %(n)d 份答卷且至少 %(c)d 条意见（现有 %(rn)d 份、%(rc)d 条）。"
            )
            % {
                "n": campaign.min_comment_responses,
                "c": campaign.min_comments,
                "rn": n_responses,
                "rc": len(comments),
            },
        )
    # Shuffled with a fresh seed, so the order says nothing about when they came in.
    random.SystemRandom().shuffle(comments)
    return UnitComments(True, "", comments)


def unit_themes(reading: Reading, unit: Unit):
    """The unit's comments and their themes; no themes where comments are withheld."""
    from .themes import Comment, themes

    comments = unit_comments(reading, unit)
    if not comments.allowed:
        return comments, []
    return comments, themes(
        [Comment(text, polarity) for text, polarity in comments.comments]
    )
