"""Results pages: the overview of a round and the report of one unit.

Every figure is read through :mod:`analysis.access`, which decides publication,
scope and anonymity; these views only arrange what it returns. Charts are inline
SVG from :mod:`analysis.charts`.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from organizations.access import scope_for
from organizations.models import Unit
from organizations.services import tree_order
from questionnaires.models import Campaign
from survey_service.spreadsheets import CONTENT_TYPES

from . import charts, stats
from .access import Reading, reading_for, result_rows, visible_findings
from .comments import unit_comments
from .exports import results_export
from .method_state import funnel_phi, round_method_state
from .models import Finding, Result
from .ranking import school_ranks
from .rate_wording import RoundWording, campaign_rate_wording

Row = dict[str, Any]
KIND_ORDER = [Unit.Kind.COMMITTEE, Unit.Kind.BRANCH, Unit.Kind.WINDOW]
# The change chart shows the largest falls and rises; the table below it has all.
CHANGE_CHART_EACH_SIDE = 20
FLAG_ORDER = ["RED", "AMBER", "GREY", "GREEN", "GREEN_CONFIRMED"]
EXPORT_LEVELS = [
    (Result.Level.UNIT, Result.Level.UNIT.label),
    (Result.Level.DIMENSION, Result.Level.DIMENSION.label),
    (Result.Level.QUESTION, Result.Level.QUESTION.label),
    (Result.Level.CATEGORY, Result.Level.CATEGORY.label),
    (Result.Level.SCHOOL, Result.Level.SCHOOL.label),
]


# Views ---------------------------------------------------------------------------


@login_required
@require_safe
def results_overview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    reading = reading_for(request.user, campaign, raw=request.GET.get("raw") == "1")
    if not reading.allowed and not reading.is_office:
        return _unavailable(request, reading)
    context: dict[str, Any] = {"campaign": campaign, "reading": reading}
    if reading.allowed:
        context |= _overview(request.user, reading)
    return render(request, "analysis/overview.html", context)


@login_required
@require_safe
def unit_report(request: HttpRequest, campaign_id: int, unit_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    unit = get_object_or_404(scope_for(request.user).visible_units(), pk=unit_id)
    raw = request.GET.get("raw") == "1"
    reading, rows = result_rows(request.user, campaign, unit=unit.pk, raw=raw)
    if not reading.allowed:
        return _unavailable(request, reading)
    summary = next((row for row in rows if row["level"] == Result.Level.UNIT), None)
    if summary is None:
        raise Http404
    context = _report(request.user, reading, unit, summary, rows)
    return render(request, "analysis/unit_report.html", context)


@login_required
@require_safe
def results_download(
    request: HttpRequest, campaign_id: int, filetype: str
) -> HttpResponse:
    """The overview's exports as files from the page's own address (not the API):
    the rows of one level, as CSV or Excel, with the pages' suppression."""
    level = request.GET.get("level") or None
    if filetype not in CONTENT_TYPES or (level and level not in Result.Level.values):
        raise Http404
    campaign = _campaign(request, campaign_id)
    raw = request.GET.get("raw") == "1"
    reading, rows = result_rows(request.user, campaign, level=level, raw=raw)
    if not reading.allowed:
        return _unavailable(request, reading)
    response = HttpResponse(
        results_export(rows, fmt=filetype), content_type=CONTENT_TYPES[filetype]
    )
    name = f"results-{campaign.pk}-{level or 'all'}.{filetype}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    campaigns = Campaign.objects.for_scope(scope_for(request.user))
    return get_object_or_404(campaigns.select_related("organizer"), pk=campaign_id)


def _unavailable(request: HttpRequest, reading: Reading) -> HttpResponse:
    status = 200 if reading.is_office else 403
    return render(
        request, "analysis/unavailable.html", {"reading": reading}, status=status
    )


# The overview ---------------------------------------------------------------------


def _overview(user: AbstractBaseUser, reading: Reading) -> dict[str, Any]:
    campaign, raw = reading.campaign, reading.raw
    settings = reading.run.settings
    target = settings["target"]
    school = _first(result_rows(user, campaign, level="school", raw=raw)[1])
    categories = result_rows(user, campaign, level="category", raw=raw)[1]
    positions = _tree_positions()
    units = result_rows(user, campaign, level="unit", raw=raw)[1]
    units.sort(key=lambda row: positions.get(row["unit"], len(positions)))
    ranks = {} if reading.is_office else school_ranks(reading)
    findings = _finding_groups(
        list(visible_findings(user).filter(campaign=campaign)), positions
    )
    labels = unit_labels(
        [(row["unit"], row["unit_name"], row["unit_code"]) for row in units]
        + [(unit.pk, unit.name, unit.code) for unit, _group in findings]
    )
    for row in units:
        row["report_url"] = _report_url(campaign.pk, row["unit"], raw)
        row["unit_label"] = labels[row["unit"]]
        row["school_rank"] = ranks.get(row["unit"])
    shown = [row for row in units if row["rate"] is not None]
    flags = Counter(row["flag"] for row in shown)
    changes = [row for row in units if row["diff"] is not None]
    wording = campaign_rate_wording(campaign.pk, settings)
    method_state = round_method_state(settings, shown)
    return {
        "settings": settings,
        "wording": wording,
        "method_state": method_state,
        "pooled_reds": _pooled_reds(categories, shown),
        # The round's total is the school row's count, and hidden with it.
        "n_responses": school["n_responses"] if school else None,
        "school": school,
        "categories": categories,
        "units": units,
        "shown": shown,
        "hidden": [row for row in units if row["rate"] is None],
        "flag_counts": [(flag, flags[flag]) for flag in FLAG_ORDER if flags[flag]],
        "lists": [
            (flag, [row for row in shown if row["flag"] == flag])
            for flag in ("RED", "AMBER", "GREY")
        ],
        "ranking": _ranking(shown, positions),
        "school_ranks": not reading.is_office,
        "changes": changes,
        "school_change": school if school and school["diff"] is not None else None,
        "findings": [(unit, labels[unit.pk], group) for unit, group in findings],
        "exports": _exports(campaign.pk, raw),
        "charts": _overview_charts(
            school,
            categories,
            shown,
            changes,
            target,
            wording.noun,
            phi=funnel_phi(method_state),
        ),
        "confirm_n": _confirm_n(settings),
    }


def _pooled_reds(categories: list[Row], units: list[Row]) -> list[Row]:
    """The categories flagged RED though none of their units shown is: pooled, the
    category has the power its units lack on their own."""
    red_units = {row["category"] for row in units if row["flag"] == "RED"}
    return [
        row
        for row in categories
        if row["flag"] == "RED" and row["category"] not in red_units
    ]


def _overview_charts(
    school: Row | None,
    categories: list[Row],
    shown: list[Row],
    changes: list[Row],
    target: float,
    noun: str,
    *,
    phi: float = 1.0,
) -> dict[str, SafeString]:
    found = {}
    rate = {"rate": noun}
    if school is not None:
        found["categories"] = charts.interval_chart(
            [_interval(row, row["label"]) for row in categories]
            + [_interval(school, _("全校"), emphasis=True)],
            title=_("全校与各类别%(rate)s") % rate,
            target=target,
            axis_label=_("%(rate)s（圆点）及其 95%% 区间（横线）") % rate,
        )
    if shown:
        found["histogram"] = charts.histogram(
            [row["rate"] for row in shown],
            title=_("单位%(rate)s分布") % rate,
            target=target,
            rate_name=noun,
        )
        found["funnel"] = charts.funnel_plot(
            [
                charts.Point(
                    row["unit_label"],
                    row["n_valid"],
                    row["rate"],
                    row["flag"],
                    row["report_url"],
                )
                for row in shown
            ],
            title=_("漏斗图：%(rate)s与样本量") % rate,
            target=target,
            phi=phi,
            rate_name=noun,
        )
    if changes:
        found["changes"] = _change_chart(changes, noun)
    return {
        name: mark_safe(svg) for name, svg in found.items()
    }  # charts escape every label


def _ranking(
    rows: list[Row], positions: dict[int, int]
) -> list[tuple[str, list[Row], bool]]:
    """Units ranked on their shrunken estimate within each kind (the shrinkage and
    the tests are fitted per kind), with whether the fit pooled them completely;
    ties in tree order."""
    ranked = []
    for kind in KIND_ORDER:
        group = [row for row in rows if row["unit_kind"] == kind]
        if not group:
            continue
        group.sort(
            key=lambda row: (
                -_shrunk(row),
                -row["rate"],
                positions.get(row["unit"], len(positions)),
            )
        )
        pooled = len(group) > 1 and len({round(_shrunk(row), 6) for row in group}) == 1
        ranked.append((Unit.Kind(kind).label, group, pooled))
    return ranked


def _shrunk(row: Row) -> float:
    return row["shrunk"] if row["shrunk"] is not None else row["rate"]


def _change_chart(rows: list[Row], noun: str) -> str:
    rows = sorted(rows, key=lambda row: row["diff"])
    if len(rows) > 2 * CHANGE_CHART_EACH_SIDE:
        rows = rows[:CHANGE_CHART_EACH_SIDE] + rows[-CHANGE_CHART_EACH_SIDE:]
    spread = max(
        0.01,
        *(
            abs(value)
            for row in rows
            for value in (row["diff_ci_low"], row["diff_ci_high"], row["diff"])
            if value is not None
        ),
    )
    step = charts.nice_step(2 * spread, 6)
    bound = math.ceil(spread / step) * step or step
    return charts.interval_chart(
        [
            charts.Interval(
                row["unit_label"],
                row["diff"],
                row["diff_ci_low"],
                row["diff_ci_high"],
                _direction(row),
                note=_("%(diff)+.1f 个百分点") % {"diff": row["diff"] * 100},
            )
            for row in rows
        ],
        title=_("与基线轮次相比的变化"),
        domain=(-bound, bound, step),
        reference=0.0,
        reference_label=_("无变化"),
        axis_label=_("%(rate)s变化（百分点）及其 Newcombe 95%% 区间") % {"rate": noun},
        differences=True,
    )


def _direction(row: Row) -> str:
    """RISE or FALL when the interval of the change excludes 0, else STEADY."""
    if row["diff_ci_low"] is not None and row["diff_ci_low"] > 0:
        return "RISE"
    if row["diff_ci_high"] is not None and row["diff_ci_high"] < 0:
        return "FALL"
    return "STEADY"


def _exports(campaign_id: int, raw: bool) -> list[tuple[str, str, str]]:
    suffix = "&raw=1" if raw else ""
    urls = {
        filetype: reverse("analysis-results-download", args=[campaign_id, filetype])
        for filetype in ("csv", "xlsx")
    }
    return [
        (
            label,
            f"{urls['csv']}?level={level}{suffix}",
            f"{urls['xlsx']}?level={level}{suffix}",
        )
        for level, label in EXPORT_LEVELS
    ]


# The unit report ------------------------------------------------------------------


def _report(
    user: AbstractBaseUser,
    reading: Reading,
    unit: Unit,
    summary: Row,
    rows: list[Row],
) -> dict[str, Any]:
    campaign, raw = reading.campaign, reading.raw
    settings = reading.run.settings
    category = next(
        (
            row
            for row in result_rows(user, campaign, level="category", raw=raw)[1]
            if row["category"] == summary["category"]
        ),
        None,
    )
    school = _first(result_rows(user, campaign, level="school", raw=raw)[1])
    # METHODS.md §6: a breakdown needs the flag threshold, and a unit hidden to
    # protect a sibling must not be rebuilt from its dimensions or its 总体评价.
    breakdown = summary["rate"] is not None and (
        raw or summary["n_valid"] >= settings["min_flag_size"]
    )
    dimensions = [row for row in rows if row["level"] == Result.Level.DIMENSION]
    questions = [row for row in rows if row["level"] == Result.Level.QUESTION]
    comments = unit_comments(reading, unit)
    wording = campaign_rate_wording(campaign.pk, settings)
    return {
        "campaign": campaign,
        "reading": reading,
        "unit": unit,
        "settings": settings,
        "wording": wording,
        # A unit not RED overall may have RED dimensions: the page says why.
        "red_dimensions": [row for row in dimensions if row["flag"] == "RED"],
        "method_state": round_method_state(settings, [summary]),
        "summary": summary,
        "category": category,
        "school": school,
        "breakdown": breakdown,
        "dimensions": dimensions,
        "has_alpha": reading.is_office
        and any(row["alpha"] is not None for row in dimensions),
        "question_groups": _question_groups(dimensions, questions),
        "comments": comments,
        "themes": _themes(comments.comments) if comments.allowed else [],
        "findings": visible_findings(user).filter(campaign=campaign, unit=unit),
        "school_rank": school_ranks(reading).get(unit.pk),
        "confirm_n": _confirm_n(settings),
        "overview_url": _overview_url(campaign.pk, raw),
        "charts": _report_charts(
            summary,
            category,
            school,
            dimensions,
            questions,
            settings,
            breakdown,
            wording,
        ),
    }


def _question_groups(
    dimensions: list[Row], questions: list[Row]
) -> list[tuple[Row | None, list[Row]]]:
    groups: list[tuple[Row | None, list[Row]]] = [
        (dim, [q for q in questions if q["dimension"] == dim["dimension"]])
        for dim in dimensions
    ]
    codes = {dim["dimension"] for dim in dimensions}
    loose = [q for q in questions if q["dimension"] not in codes]
    return ([(None, loose)] if loose else []) + groups


def _report_charts(
    summary: Row,
    category: Row | None,
    school: Row | None,
    dimensions: list[Row],
    questions: list[Row],
    settings: dict[str, Any],
    breakdown: bool,
    wording: RoundWording,
) -> dict[str, SafeString]:
    target = settings["target"]
    rate = {"rate": wording.noun}
    axis = _("%(rate)s（圆点）及其 95%% 区间（横线）") % rate
    compare = [_interval(summary, summary["unit_name"], emphasis=True)]
    if category is not None:
        compare.append(
            _interval(category, _("本类别：%(c)s") % {"c": category["label"]})
        )
    if school is not None:
        compare.append(_interval(school, _("全校")))
    found = {
        "compare": charts.interval_chart(
            compare, title=_("与类别、全校比较"), target=target, axis_label=axis
        )
    }
    if breakdown and dimensions:
        found["dimensions"] = charts.interval_chart(
            [_interval(row, row["label"]) for row in dimensions],
            title=_("各维度%(rate)s") % rate,
            target=target,
            axis_label=axis,
        )
    if breakdown and questions:
        found["questions"] = charts.interval_chart(
            [_interval(row, row["label"]) for row in questions],
            title=_("各题%(rate)s") % rate,
            target=target,
            axis_label=axis,
        )
    return {
        name: mark_safe(svg) for name, svg in found.items()
    }  # charts escape every label


def _themes(comments: list[tuple[str, str]]) -> list:
    from .themes import Comment, themes

    # A comment whose respondent skipped the 总体评价 carries no rating.
    return themes(
        [Comment(text, polarity or "dont_know") for text, polarity in comments]
    )


# Shared ---------------------------------------------------------------------------


def _first(rows: list[Row]) -> Row | None:
    return rows[0] if rows else None


def _tree_positions() -> dict[int, int]:
    """Unit id → its place in the unit tree (parents first, siblings by their
    sort order), the order every list of units on these pages follows."""
    units = list(Unit.objects.order_by("sort_order", "code").only("pk", "parent_id"))
    return {unit.pk: i for i, unit in enumerate(tree_order(units))}


def unit_labels(units: list[tuple[int, str, str]]) -> dict[int, str]:
    """Unit id → its name, with its code where the name is not unique among the
    units shown (two 图书馆党支部 side by side): "图书馆党支部（LIB-01）"."""
    names = Counter(name for name, _code in {pk: (n, c) for pk, n, c in units}.values())
    return {
        pk: _("%(name)s（%(code)s）") % {"name": name, "code": code}
        if names[name] > 1
        else name
        for pk, name, code in units
    }


def _finding_groups(
    findings: list[Finding], positions: dict[int, int]
) -> list[tuple[Unit, list[Finding]]]:
    """Findings by unit, the units in tree order."""
    groups: dict[int, tuple[Unit, list[Finding]]] = {}
    for finding in findings:
        groups.setdefault(finding.unit_id, (finding.unit, []))[1].append(finding)
    return sorted(
        groups.values(), key=lambda group: positions.get(group[0].pk, len(positions))
    )


def _interval(row: Row, label: str, *, emphasis: bool = False) -> charts.Interval:
    note = ""
    if row["rate"] is not None:
        note = f"{charts.pct(row['rate'])}（n = {row['n_valid']}）"
    return charts.Interval(
        label,
        row["rate"],
        row["ci_low"],
        row["ci_high"],
        row["flag"],
        note=note,
        emphasis=emphasis,
    )


def _confirm_n(settings: dict[str, Any]) -> int | None:
    """Answers needed before 确认达标 is possible at all (all of them satisfied)."""
    target = settings["target"]
    if not 0 < target < 1:
        return None
    return stats.min_n_to_confirm(target, settings.get("confidence", 0.95))


def _report_url(campaign_id: int, unit_id: int, raw: bool) -> str:
    url = reverse("analysis-unit-report", args=[campaign_id, unit_id])
    return url + "?raw=1" if raw else url


def _overview_url(campaign_id: int, raw: bool) -> str:
    url = reverse("analysis-results", args=[campaign_id])
    return url + "?raw=1" if raw else url
