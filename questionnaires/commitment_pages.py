"""Which units of a round have entered their commitments (承诺), for the office.

A round's participants are its points' units once it is open; before that, the
units opening it would give a point (``Campaign.participating_units``).
Commitments are public (the respondent page shows them), so the office of any
unit sees them for the units it runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from organizations.access import scope_for
from organizations.models import Unit
from organizations.services import tree_order

from .models import Campaign, CollectionPoint, Commitment
from .views import _visible_campaign

EDITABLE = (Campaign.Status.DRAFT, Campaign.Status.OPEN)


def commitment_counts(
    campaigns: Iterable[Campaign], units: QuerySet[Unit]
) -> dict[int, list[tuple[Unit, int]]]:
    """For each round, its participants among ``units`` (parents before their
    children) with the number of commitments each has entered: two queries, and
    one more for each draft round."""
    campaigns = list(campaigns)
    found: dict[int, list[Unit]] = {campaign.pk: [] for campaign in campaigns}
    opened = [c.pk for c in campaigns if c.status != Campaign.Status.DRAFT]
    drafts = [c for c in campaigns if c.status == Campaign.Status.DRAFT]
    if opened:
        points = CollectionPoint.objects.filter(
            campaign_id__in=opened, unit__in=units
        ).select_related("unit")
        for point in points:
            found[point.campaign_id].append(point.unit)
    for campaign in drafts:  # its points do not exist yet: who would take part
        found[campaign.pk] = list(campaign.participating_units().filter(pk__in=units))
    counts = {
        (row["campaign_id"], row["unit_id"]): row["n"]
        for row in Commitment.objects.filter(campaign__in=campaigns, unit__in=units)
        .values("campaign_id", "unit_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    return {
        campaign_id: [
            (unit, counts.get((campaign_id, unit.pk), 0))
            for unit in tree_order(sorted(found_units, key=_unit_key))
        ]
        for campaign_id, found_units in found.items()
    }


def _unit_key(unit: Unit) -> tuple[int, str]:
    return (unit.sort_order, unit.code)


@login_required
@require_safe
def commitments_overview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The office's list of a round's units with their commitments entered, or
    “未填写”: each office sees the units it runs."""
    campaign = _visible_campaign(request, campaign_id)
    scope = scope_for(request.user)
    if not scope.is_office:
        raise PermissionDenied
    rows = commitment_counts([campaign], scope.administered_units())[campaign.pk]
    return render(
        request,
        "questionnaires/commitments_overview.html",
        {
            "campaign": campaign,
            "rows": rows,
            "missing": sum(1 for _unit, n in rows if n == 0),
            "editable": campaign.status in EDITABLE,
        },
    )
