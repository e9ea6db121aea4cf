"""Formatting of result figures in templates: rates, differences, p-values, flags.

The verdicts in words (:data:`FLAG_VERDICTS`) are the one place every page — the
results, the unit report, the workbench, the rectification task — takes them
from; the colour names stay for the legend and the API keeps its own codes.
"""

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
# What a flag means for the office, said in words so that colour is never the only
# signal (the badge keeps its colour beside them).
FLAG_VERDICTS = {
    "RED": _("显著低于目标（列入问题清单）"),
    "AMBER": _("未达标（需关注）"),
    "GREEN": _("达到目标"),
    "GREEN_CONFIRMED": _("达到目标（已确认）"),
    "GREY": _("样本不足（仅供参考）"),
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


@register.filter
def flag_verdict(flag: str) -> str:
    """A flag as the office acts on it: "RED" → "显著低于目标（列入问题清单）"."""
    return str(FLAG_VERDICTS.get(flag, DASH))


@register.filter
def alpha_words(alpha: float | None) -> str:
    """Cronbach's α of a dimension for a table cell: "0.83"; a negative α (the
    items disagree more than they agree) says so in words; None → "—"."""
    if alpha is None:
        return DASH
    alpha = float(alpha)
    if alpha < 0:
        return str(_("题目一致性差（α = %(alpha).2f）") % {"alpha": alpha})
    return f"{alpha:.2f}"


@register.filter
def point_size(value: float | None) -> str:
    """A margin in percentage points, unsigned, for "低 5 个百分点": 0.05 → "5",
    0.025 → "2.5"."""
    if value is None:
        return DASH
    return f"{round(float(value) * 100, 1):g}"
