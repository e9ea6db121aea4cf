"""Charts of results as inline SVG: pure functions from numbers to SVG text.

No JavaScript and nothing loaded from another host (DESIGN.md: server-rendered
pages). Each chart has a ``viewBox`` so it scales to its container and to an A4
page; every label passes through :func:`html.escape`, so a unit named
``<script>`` stays text. The callers decide what may be shown: a row whose value
is ``None`` is drawn as "样本不足，不予显示", never as a number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from django.utils.translation import gettext as _

from . import stats
from .templatetags.result_format import FLAG_VERDICTS

FONT = (
    '-apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
    '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif'
)
INK, MUTED, GRID, TARGET = "#1f2328", "#59636e", "#e1e6eb", "#b71c1c"
TONES = {
    "RED": "#cf222e",
    "AMBER": "#bf8700",
    "GREEN": "#2da44e",
    "GREEN_CONFIRMED": "#0f5323",
    "GREY": "#8c959f",
    "RISE": "#1a7f37",
    "FALL": "#cf222e",
    "STEADY": "#8c959f",
    "": "#0969da",
}
LIMIT_LEVELS = (0.95, 0.998)


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: a value with its interval, or hidden (None)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    tone: str = ""
    note: str = ""
    emphasis: bool = False


@dataclass(frozen=True)
class Point:
    """One unit on the funnel plot."""

    label: str
    n: int
    rate: float
    tone: str = ""
    href: str = ""


def pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"


def target_label(target: float | None) -> str:
    if target is None:
        return ""
    digits = 0 if round(target * 100, 6).is_integer() else 1
    return _("目标 %(t)s") % {"t": pct(target, digits)}


def _pct_tick(value: float, step: float) -> str:
    digits = 0 if step >= 0.01 - 1e-12 else 1
    return pct(value, digits)


def _points_tick(value: float, step: float) -> str:
    digits = 0 if step >= 0.01 - 1e-12 else 1
    return f"{value * 100:+.{digits}f}" if abs(value) > 1e-12 else "0"


def _num(value: float) -> str:
    """A coordinate, short: SVG needs no more than a tenth of a pixel."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text_width(text: str, size: float) -> float:
    return sum(size if ord(ch) > 0x2E80 else size * 0.56 for ch in text)


def _shorten(text: str, size: float, width: float) -> str:
    """Cut a label to ``width`` with "…"; a unit's code in brackets at the end
    ("图书馆党支部（LIB-01）", where names repeat) is kept and the name cut."""
    if _text_width(text, size) <= width:
        return text
    head, bracket, code = text.rpartition("（")
    suffix = bracket + code if head and code.endswith("）") else ""
    if suffix:
        text = head
    while text and _text_width(text + "…" + suffix, size) > width:
        text = text[:-1]
    return text + "…" + suffix


def nice_step(span: float, ticks: int = 5) -> float:
    """A step of 1, 2, 2.5 or 5 times a power of ten giving about ``ticks`` ticks."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw - 1e-12:
            return factor * power
    return 10 * power


def _ticks(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def rate_domain(
    values: Sequence[float], target: float | None = None
) -> tuple[float, float, float]:
    """An axis for rates: (low, high, step), within [0, 1] and showing the target."""
    found = [v for v in values if v is not None and math.isfinite(v)]
    if target is not None:
        found.append(target)
    if not found:
        return 0.0, 1.0, 0.2
    low, high = min(found), max(found)
    pad = max((high - low) * 0.08, 0.01)
    step = nice_step(high - low + 2 * pad)
    low = max(0.0, math.floor((low - pad) / step) * step)
    high = min(1.0, math.ceil((high + pad) / step) * step)
    return round(low, 10), round(high, 10), step


def _svg(
    width: float, height: float, label: str, css_class: str, body: list[str]
) -> str:
    return _el(
        "svg",
        f"<title>{escape(label)}</title>" + "".join(body),
        xmlns="http://www.w3.org/2000/svg",
        css=f"chart {css_class}",
        viewBox=f"0 0 {_num(width)} {_num(height)}",
        width=_num(width),
        height=_num(height),
        role="img",
        aria_label=label,
        font_family=FONT,
        font_size="12",
        fill=INK,
    )


def _el(tag: str, content: str = "", **attrs: object) -> str:
    """An element; attribute values are escaped, ``content`` must already be.
    ``css`` becomes ``class`` and underscores in names become hyphens."""
    names = {"css": "class"}
    rendered = "".join(
        f' {names.get(name, name.replace("_", "-"))}="{escape(str(value))}"'
        for name, value in attrs.items()
    )
    if not content:
        return f"<{tag}{rendered}/>"
    return f"<{tag}{rendered}>{content}</{tag}>"


def _text(x: float, y: float, text: str, **attrs: object) -> str:
    return _el("text", escape(text), x=_num(x), y=_num(y), **attrs)


def _line(x1: float, y1: float, x2: float, y2: float, **attrs: object) -> str:
    return _el("line", x1=_num(x1), y1=_num(y1), x2=_num(x2), y2=_num(y2), **attrs)


def _polyline(points: list[tuple[float, float]], **attrs: object) -> str:
    coords = " ".join(f"{_num(px)},{_num(py)}" for px, py in points)
    return _el("polyline", points=coords, fill="none", **attrs)


def _marker(
    x: float, top: float, bottom: float, label: str, colour: str, dash: str
) -> str:
    """A vertical line across the plot with its label above it (the target)."""
    return _el(
        "g",
        _line(x, top, x, bottom, stroke=colour, stroke_width=1.5, stroke_dasharray=dash)
        + _text(x, top - 4, label, text_anchor="middle", fill=colour, font_size=11),
        css="target-line",
    )


def _axis_label(x: float, y: float, text: str, **attrs: object) -> str:
    return _text(x, y, text, text_anchor="middle", fill=MUTED, **attrs)


def interval_chart(
    rows: Sequence[Interval],
    *,
    title: str,
    target: float | None = None,
    domain: tuple[float, float, float] | None = None,
    reference: float | None = None,
    reference_label: str = "",
    axis_label: str = "",
    differences: bool = False,
    width: float = 760,
) -> str:
    """Horizontal interval bars: a dot at the value, whiskers at the interval.

    ``target`` draws the target line; ``reference`` another line (0 for
    differences, with ``differences=True`` labelling ticks in percentage points).
    A row with ``value=None`` reads "样本不足，不予显示".
    """
    label_w, note_w, row_h, top = 250.0, 130.0, 26.0, 30.0
    x0, x1 = label_w + 12, width - note_w - 8
    bottom = top + row_h * max(len(rows), 1)
    if domain is None:
        values = [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
        domain = rate_domain(values, target)
    low, high, step = domain
    fmt = _points_tick if differences else _pct_tick

    def x(value: float) -> float:
        clipped = min(max(value, low), high)
        return x0 + (clipped - low) / (high - low) * (x1 - x0)

    body = []
    for tick in _ticks(low, high, step):
        body.append(_line(x(tick), top - 4, x(tick), bottom, stroke=GRID))
        body.append(_axis_label(x(tick), bottom + 16, fmt(tick, step)))
    body.append(_line(x0, bottom, x1, bottom, stroke=MUTED))
    if axis_label:
        body.append(_axis_label((x0 + x1) / 2, bottom + 36, axis_label))
    if reference is not None and low <= reference <= high:
        body.append(
            _marker(x(reference), top - 6, bottom, reference_label, MUTED, "2 3")
        )
    if target is not None and low <= target <= high:
        body.append(
            _marker(x(target), top - 6, bottom, target_label(target), TARGET, "6 4")
        )
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        bold = {"font_weight": 700} if row.emphasis else {}
        parts = [
            f"<title>{escape(row.label)}</title>",
            _text(
                label_w,
                y + 4,
                _shorten(row.label, 12, label_w - 4),
                text_anchor="end",
                **bold,
            ),
        ]
        if row.value is None:
            hidden = _("样本不足，不予显示")
            parts.append(_text(x0 + 6, y + 4, hidden, fill=MUTED, font_style="italic"))
        else:
            if row.low is not None and row.high is not None:
                parts.append(_whisker(x(row.low), x(row.high), y))
            parts.append(
                _el(
                    "circle",
                    css="value",
                    cx=_num(x(row.value)),
                    cy=_num(y),
                    r=5.5,
                    fill=TONES.get(row.tone, TONES[""]),
                    stroke="#fff",
                )
            )
            default = fmt(row.value, 0.001) if differences else pct(row.value)
            parts.append(_text(x1 + 10, y + 4, row.note or default, **bold))
        body.append(_el("g", "".join(parts), css="row"))
    return _svg(width, bottom + 46, title, "intervals", body)


def _whisker(left: float, right: float, y: float) -> str:
    return (
        _line(left, y, right, y, stroke=MUTED, stroke_width=2)
        + _line(left, y - 5, left, y + 5, stroke=MUTED, stroke_width=1.5)
        + _line(right, y - 5, right, y + 5, stroke=MUTED, stroke_width=1.5)
    )


def histogram(
    values: Sequence[float],
    *,
    title: str,
    target: float | None = None,
    width: float = 900,
    height: float = 260,
    rate_name: str = "",
) -> str:
    """How many units fall in each band of 满意率, with the target marked.

    Bands of 1, 2, 2.5, 5, 10 or 20 points, at most 12 of them from the lowest
    rate (or 5 points under the target) up to 100%; a band wholly under the
    target is drawn in amber.
    """
    x0, x1, top, y1 = 48.0, width - 16, 30.0, height - 48
    found = [v for v in values if v is not None and math.isfinite(v)]
    low_value = min([*found, *([target - 0.05] if target is not None else [])] or [0.0])
    bin_width = next(
        (w for w in (0.01, 0.02, 0.025, 0.05, 0.1) if (1 - low_value) / w <= 12), 0.2
    )
    lo = max(0.0, math.floor(low_value / bin_width - 1e-9) * bin_width)
    n_bins = max(1, math.ceil((1.0 - lo) / bin_width - 1e-9))
    counts = [0] * n_bins
    for value in found:
        index = min(n_bins - 1, max(0, math.floor((value - lo) / bin_width + 1e-9)))
        counts[index] += 1
    count_step = max(1, math.ceil(nice_step(max(counts + [1]), 4)))
    y_max = math.ceil(max(counts + [1]) / count_step) * count_step

    def x(value: float) -> float:
        return x0 + (value - lo) / (1.0 - lo) * (x1 - x0)

    def y(count: float) -> float:
        return y1 - count / y_max * (y1 - top)

    body = []
    for tick in range(0, y_max + 1, count_step):
        body.append(_line(x0, y(tick), x1, y(tick), stroke=GRID))
        body.append(
            _text(x0 - 6, y(tick) + 4, str(tick), text_anchor="end", fill=MUTED)
        )
    for i, count in enumerate(counts):
        start, end = lo + i * bin_width, lo + (i + 1) * bin_width
        if not count:
            continue
        below = target is not None and end <= target + 1e-9
        band = f"{pct(start)}–{pct(end)}：{count}"
        body.append(
            _el(
                "rect",
                f"<title>{escape(band)}</title>",
                css="bin",
                x=_num(x(start) + 1),
                y=_num(y(count)),
                width=_num(x(end) - x(start) - 2),
                height=_num(y1 - y(count)),
                fill="#e3b341" if below else "#6ea8dc",
            )
        )
        body.append(
            _text(
                (x(start) + x(end)) / 2,
                y(count) - 4,
                str(count),
                text_anchor="middle",
                font_size=11,
            )
        )
    label_step = max(bin_width, nice_step(1.0 - lo, 6))
    for edge in _ticks(lo, 1.0, label_step):
        body.append(_line(x(edge), y1, x(edge), y1 + 4, stroke=MUTED))
        body.append(_axis_label(x(edge), y1 + 17, _pct_tick(edge, label_step)))
    body.append(_line(x0, y1, x1, y1, stroke=MUTED))
    body.append(
        _axis_label(
            (x0 + x1) / 2,
            height - 8,
            _("单位%(rate)s（横轴）与单位数（纵轴）")
            % {"rate": rate_name or _("满意率")},
        )
    )
    if target is not None and lo <= target <= 1.0:
        body.append(
            _marker(x(target), top - 8, y1, target_label(target), TARGET, "6 4")
        )
    return _svg(width, height, title, "histogram", body)


def funnel_plot(
    points: Sequence[Point],
    *,
    title: str,
    target: float,
    width: float = 900,
    height: float = 480,
    clip_id: str = "funnel-area",
    phi: float = 1.0,
    rate_name: str = "",
) -> str:
    """p̂ against n with the target and its 95% and 99.8% binomial limits.

    Spiegelhalter (2005); the limits come from :func:`stats.funnel_limits`. A unit
    below the 99.8% lower limit is named beside its dot. ``clip_id`` must be
    unique in the page. ``phi``: the units' applied over-dispersion; the limits
    are widened by √φ and the legend says so.
    """
    x0, x1, y0, y1 = 56.0, width - 20, 54.0, height - 50
    n_max = max([p.n for p in points] + [10])
    n_step = nice_step(n_max * 1.05, 6)
    x_high = math.ceil(n_max * 1.05 / n_step) * n_step
    low, _high, step = rate_domain([p.rate for p in points] + [target - 0.05], target)
    high = 1.0
    limits_drawn = 0 < target < 1

    def x(n: float) -> float:
        return x0 + n / x_high * (x1 - x0)

    def y(rate: float) -> float:
        return y1 - (rate - low) / (high - low) * (y1 - y0)

    clip = _el(
        "rect",
        x=_num(x0),
        y=_num(y0 - 2),
        width=_num(x1 - x0),
        height=_num(y1 - y0 + 2),
    )
    body = [f'<defs><clipPath id="{escape(clip_id)}">{clip}</clipPath></defs>']
    for tick in _ticks(low, high, step):
        body.append(_line(x0, y(tick), x1, y(tick), stroke=GRID))
        body.append(
            _text(
                x0 - 6,
                y(tick) + 4,
                _pct_tick(tick, step),
                text_anchor="end",
                fill=MUTED,
            )
        )
    for tick in _ticks(0, x_high, n_step):
        body.append(_line(x(tick), y1, x(tick), y1 + 4, stroke=MUTED))
        body.append(_axis_label(x(tick), y1 + 17, f"{tick:g}"))
    body.append(
        _line(x0, y1, x1, y1, stroke=MUTED) + _line(x0, y0, x0, y1, stroke=MUTED)
    )
    body.append(
        _axis_label((x0 + x1) / 2, height - 10, _("有效样本量 n（不含“不了解”）"))
    )
    middle = (y0 + y1) / 2
    body.append(
        _axis_label(
            14,
            middle,
            rate_name or _("满意率"),
            transform=f"rotate(-90 14 {_num(middle)})",
        )
    )
    if limits_drawn:
        grid = np.unique(np.round(np.geomspace(1, x_high, 240)))
        limits = stats.funnel_limits(grid, target, LIMIT_LEVELS, phi=phi)
        for level, dash, css in (
            (0.95, "5 4", "limit-95"),
            (0.998, "none", "limit-998"),
        ):
            for bound in limits[level]:
                curve = [
                    (x(n), y(max(value, 2 * low - high)))
                    for n, value in zip(grid, bound, strict=True)
                    if math.isfinite(value)
                ]
                body.append(
                    _polyline(
                        curve,
                        css=f"limit {css}",
                        stroke=MUTED,
                        stroke_width=1.2,
                        stroke_dasharray=dash,
                        clip_path=f"url(#{clip_id})",
                    )
                )
    body.append(
        _el(
            "g",
            _line(x0, y(target), x1, y(target), stroke=TARGET, stroke_width=1.5),
            css="target-line",
        )
    )
    lower = (
        stats.funnel_limits([p.n for p in points], target, (0.998,), phi=phi)[0.998][0]
        if points and limits_drawn
        else [math.nan] * len(points)
    )
    for point, limit in zip(points, lower, strict=True):
        body.append(_funnel_point(point, x(point.n), y(point.rate)))
        if math.isfinite(limit) and point.rate < limit:
            name = _shorten(point.label, 11, 160)
            # Beside the dot, on whichever side has room for the name.
            right = x(point.n) + 8 + _text_width(name, 11) <= x1
            body.append(
                _text(
                    x(point.n) + (8 if right else -8),
                    y(point.rate) + 4,
                    name,
                    text_anchor="start" if right else "end",
                    font_size=11,
                    fill=TONES.get(point.tone, TONES[""]),
                )
            )
    body.append(_funnel_legend(target, x0, points, phi))
    return _svg(width, height, title, "funnel", body)


def _funnel_point(point: Point, cx: float, cy: float) -> str:
    tip = f"{point.label}：{pct(point.rate)}（n = {point.n}）"
    dot = _el(
        "circle",
        f"<title>{escape(tip)}</title>",
        css="point",
        cx=_num(cx),
        cy=_num(cy),
        r=5,
        fill=TONES.get(point.tone, TONES[""]),
        stroke="#fff",
        data_flag=point.tone,
    )
    return _el("a", dot, href=point.href) if point.href else dot


def _funnel_legend(
    target: float, x0: float, points: Sequence[Point], phi: float = 1.0
) -> str:
    """Two rows above the plot: the lines, then the colours present."""
    lines = [
        (_line(0, 0, 22, 0, stroke=TARGET, stroke_width=1.5), target_label(target)),
        (_line(0, 0, 22, 0, stroke=MUTED, stroke_dasharray="5 4"), _("95% 控制限")),
        (_line(0, 0, 22, 0, stroke=MUTED), _("99.8% 控制限")),
    ]
    if phi > 1:
        widened = _("控制限已按过度离散 φ = %(phi)s 放宽") % {"phi": f"{phi:.2f}"}
        lines.append(("", widened))
    # The verdicts in words, as on the pages: a dot's colour is not its only sign.
    labels = {tone: str(words) for tone, words in FLAG_VERDICTS.items()}
    present = {p.tone for p in points}
    dots = [
        (_el("circle", cx=11, cy=0, r=5, fill=TONES[tone]), label)
        for tone, label in labels.items()
        if tone in present
    ]
    parts = []
    for row_y, items in ((14, lines), (32, dots)):
        offset = 0.0
        for mark, label in items:
            parts.append(
                _el(
                    "g",
                    mark + _text(28, 4, label, fill=MUTED, font_size=11),
                    transform=f"translate({_num(x0 + offset)} {row_y})",
                )
            )
            offset += 40 + _text_width(label, 11)
    return _el("g", "".join(parts), css="legend")
