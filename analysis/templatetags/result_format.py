"""Formatting of result figures in templates: rates, differences, p-values, flags."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

FLAG_LABELS = {
    "RED": _("红色"),
    "AMBER": _("黄色"),
    "GREEN": _("绿色"),
    "GREEN_CONFIRMED": _("确认达标"),
    "GREY": _("灰色"),
}
VERDICT_LABELS = {
    "IMPROVED": _("达标或显著提高"),
    "NOT_IMPROVED": _("未达标且未显著提高"),
    "INSUFFICIENT_DATA": _("数据不足"),
}
DASH = "—"


@register.filter
def pct(value: float | None, digits: int = 1) -> str:
    """0.9512 → "95.1%"; None → "—"."""
    if value is None:
        return DASH
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def points(value: float | None) -> str:
    """A difference of rates in percentage points, signed: 0.032 → "+3.2"."""
    if value is None:
        return DASH
    return f"{float(value) * 100:+.1f}"


@register.filter
def pvalue(value: float | None) -> str:
    """For a table cell: "0.034", "< 0.001"."""
    if value is None:
        return DASH
    value = float(value)
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def p_relation(value: float | None) -> str:
    """For a sentence after "p" or "q": "= 0.034", "< 0.001"."""
    text = pvalue(value)
    return text if text.startswith("<") or text == DASH else f"= {text}"


@register.filter
def flag_label(flag: str) -> str:
    return str(FLAG_LABELS.get(flag, DASH))


@register.filter
def verdict_label(verdict: str) -> str:
    return str(VERDICT_LABELS.get(verdict, DASH))
