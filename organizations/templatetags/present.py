"""Presentation filters every app's templates share: percentages and dates as a
party office reads them ("95%", "2026年5月15日", "2026年5月15日—6月14日"), and
``{% capture %}`` for a block that is wrapped only when a page fills it.

Dates follow the active language: Chinese dates in Chinese, the locale's usual
date in English. A datetime is shown in the site's time zone first, so a round
that closes at 00:30 Beijing time is not shown on the previous day.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.template.base import Parser, Token
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

DASH = "—"


@register.filter
def percent(value: Decimal | float | int | None, digits: int = 1) -> str:
    """A share as a percentage with at most ``digits`` decimals, trailing zeros
    dropped and halves rounded up: 0.95 → "95%", 0.9025 → "90.3%"; None → "—"."""
    if value is None or value == "":
        return DASH
    try:
        share = value if isinstance(value, Decimal) else Decimal(str(value))
        places = Decimal(1).scaleb(-int(digits))
        number = (share * 100).quantize(places, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return DASH
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}%"


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


@register.filter
def cn_date(value: dt.date | dt.datetime | None) -> str:
    """2026-05-15 → "2026年5月15日" in Chinese, "May 15, 2026" in English."""
    if not value:
        return DASH
    day = _as_date(value)
    return date_format(day, "Y年n月j日" if _chinese() else "N j, Y")


@register.filter
def cn_datetime(value: dt.datetime | None) -> str:
    """A moment in the site's time zone: "2026年5月15日 14:05"; in English
    "May 15, 2026 14:05"."""
    if not value:
        return DASH
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{cn_date(value)} {date_format(value, 'H:i')}"


@register.filter
def cn_period(
    start: dt.date | dt.datetime | None, end: dt.date | dt.datetime | None
) -> str:
    """Two dates as one period, the end's year left out when it is the start's:
    "2026年5月15日—6月14日"; in English "May 15 – June 14, 2026"."""
    if not start or not end:
        return cn_date(start or end)
    first, last = _as_date(start), _as_date(end)
    if first == last:
        return cn_date(first)
    same_year = first.year == last.year
    if _chinese():
        tail = date_format(last, "n月j日" if same_year else "Y年n月j日")
        return f"{cn_date(first)}—{tail}"
    head = date_format(first, "N j" if same_year else "N j, Y")
    return f"{head} – {date_format(last, 'N j, Y')}"


class CaptureNode(template.Node):
    def __init__(self, nodelist: template.NodeList, name: str) -> None:
        self.nodelist = nodelist
        self.name = name

    def render(self, context: template.Context) -> str:
        context[self.name] = mark_safe(self.nodelist.render(context).strip())
        return ""


@register.tag
def capture(parser: Parser, token: Token) -> CaptureNode:
    """``{% capture as crumbs %}…{% endcapture %}`` renders its content (blocks
    inside it included, so a child template can fill them) into ``crumbs``
    without output, so the page can wrap it only when it is not empty."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError(
            "usage: {% capture as name %}…{% endcapture %}"
        )
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])
