"""Ballots for every point of a ballot round at once: one count for the round,
an override per point, and one PDF of all the slips.

The codes exist only in that PDF (only keyed hashes are stored), so the PDF is
built inside the transaction that issues them: if it cannot be built, no code
was issued.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from organizations.access import scope_for

from . import ballots
from .models import Campaign, CollectionPoint
from .services import ServiceError, StateError, ballots_issue
from .views import _pdf, _visible_campaign

# As the issue_ballots command and the per-point form: at most this many slips
# in one PDF.
MAX_BALLOTS = 20000
DEFAULT_COUNT = 30


def round_ballots_refusal(campaign: Campaign) -> str:
    """Why ballots may not be issued for ``campaign`` now; empty when they may."""
    if campaign.access_mode != Campaign.AccessMode.BALLOT:
        return _("该轮次不是一人一票方式，无需选票码。")
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.OPEN):
        return _("轮次已结束，不能再发放选票。")
    if campaign.status == Campaign.Status.DRAFT:
        return _("轮次开启后才有评议点，请先开启评议再发放选票。")
    return ""


def round_ballots_issue(
    *, campaign: Campaign, counts: dict[int, int]
) -> tuple[bytes, int]:
    """Issue ``counts[point id]`` ballots to each point of ``campaign`` (points
    not named get none) and return one PDF of all the slips with their number.
    All or nothing: ServiceError (or StateError) and nothing issued when the
    round may not have ballots, a count is not 1 to 20,000 or the total is over
    20,000."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        refusal = round_ballots_refusal(campaign)
        if refusal:
            raise StateError(refusal)
        if not counts or any(not 1 <= n <= MAX_BALLOTS for n in counts.values()):
            raise ServiceError(_("每个评议点发放 1 到 20000 张。"))
        total = sum(counts.values())
        if total > MAX_BALLOTS:
            raise ServiceError(
                _("一次最多发放 %(max)s 张，本次合计 %(total)s 张；请分几次发放。")
                % {"max": MAX_BALLOTS, "total": total}
            )
        points = (
            CollectionPoint.objects.filter(campaign=campaign, pk__in=list(counts))
            .select_related("campaign", "unit")
            .order_by("unit__sort_order", "unit__code")
        )
        issued = [
            (point, ballots_issue(point=point, count=counts[point.pk]))
            for point in points
        ]
        if len(issued) != len(counts):
            raise ServiceError(_("评议点不属于该轮次。"))
        return ballots.round_slips_pdf(campaign.title, issued), total


class RoundBallotsForm(forms.Form):
    """A count for every point (``count``), and per point an override: the
    fields ``point`` (its id) and ``point_count`` repeat in the table's order
    (empty: the round's count; 0: none for that point). The names do not carry
    ids, so the form is the same form on every round."""

    count = forms.IntegerField(
        label=gettext_lazy("每个评议点的张数"),
        initial=DEFAULT_COUNT,
        min_value=1,
        max_value=MAX_BALLOTS,
        help_text=gettext_lazy(
            "每个单位发放的选票张数，通常为参评人数；下表可逐个修改。"
        ),
        error_messages={
            "min_value": gettext_lazy("张数应为 1 到 20000。"),
            "max_value": gettext_lazy("张数应为 1 到 20000。"),
            "invalid": gettext_lazy("张数应为 1 到 20000。"),
        },
    )

    def __init__(self, *args, points, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.points = list(points)
        self.overrides: dict[int, str] = {}
        self.override_errors: dict[int, str] = {}
        if self.is_bound:
            ids = self.data.getlist("point")
            values = self.data.getlist("point_count")
            self.overrides = {
                int(pk): value.strip()
                for pk, value in zip(ids, values, strict=False)
                if pk.isascii() and pk.isdigit()
            }

    @property
    def rows(self) -> list[dict]:
        return [
            {
                "point": point,
                "value": self.overrides.get(point.pk, ""),
                "error": self.override_errors.get(point.pk, ""),
            }
            for point in self.points
        ]

    def counts(self) -> dict[int, int]:
        """Per point id the count to issue; points given 0 are left out."""
        counts = {}
        for point in self.points:
            own = self.overrides.get(point.pk, "")
            count = int(own) if own else self.cleaned_data["count"]
            if count:
                counts[point.pk] = count
        return counts

    def clean(self) -> dict:
        data = super().clean()
        for point in self.points:
            own = self.overrides.get(point.pk, "")
            if own and not (
                own.isascii() and own.isdigit() and int(own) <= MAX_BALLOTS
            ):
                self.override_errors[point.pk] = _("张数应为 0 到 20000。")
        if self.override_errors:
            raise forms.ValidationError(_("请检查标出的评议点张数。"))
        if self.errors:
            return data
        total = sum(self.counts().values())
        if total == 0:
            raise forms.ValidationError(
                _("没有要发放的选票：至少一个评议点张数大于 0。")
            )
        if total > MAX_BALLOTS:
            raise forms.ValidationError(
                _("一次最多发放 %(max)s 张，本次合计 %(total)s 张；请分几次发放。")
                % {"max": MAX_BALLOTS, "total": total}
            )
        return data


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_ballots(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """GET: the counts per point; POST: issue them all and download one PDF."""
    campaign = _visible_campaign(request, campaign_id)
    if not scope_for(request.user).can_administer(campaign.organizer_id):
        raise PermissionDenied
    points = (
        campaign.points.select_related("unit")
        .with_counts()
        .order_by("unit__sort_order", "unit__code")
    )
    refusal = round_ballots_refusal(campaign)
    form = RoundBallotsForm(
        request.POST if request.method == "POST" else None, points=points
    )
    status = 200
    if request.method == "POST":
        if refusal:
            status = 409
        elif form.is_valid():
            try:
                content, total = round_ballots_issue(
                    campaign=campaign, counts=form.counts()
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = 409 if isinstance(exc, StateError) else 400
            else:
                messages.success(
                    request,
                    _(
                        "已发放 %(n)s 张选票，PDF 已下载；选票码只在该文件中，请妥善保存。"
                    )
                    % {"n": total},
                )
                # Saved, not shown in place of the page: the codes exist only in
                # this file, and reloading a POST's answer would issue more.
                return _pdf(
                    content,
                    f"ballots-round-{campaign.pk}.pdf",
                    disposition="attachment",
                )
        else:
            status = 400
    return render(
        request,
        "questionnaires/campaign_ballots.html",
        {"campaign": campaign, "form": form, "refusal": refusal},
        status=status,
    )
