"""Management pages for rounds: points, QR codes, posters, ballots and commitments."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from organizations.access import scope_for
from organizations.models import Unit
from organizations.services import tree_order

from . import ballots
from .access import progress_visible
from .models import Campaign, CollectionPoint, Commitment
from .services import (
    ServiceError,
    ballots_issue,
    campaign_close,
    campaign_open,
    campaign_publish,
    commitments_replace,
)

POSTER_INSTRUCTION = gettext_lazy("请用手机扫描二维码，匿名评价，约 1 分钟")


def _visible_point(request: HttpRequest, point_id: int) -> CollectionPoint:
    scope = scope_for(request.user)
    return get_object_or_404(
        CollectionPoint.objects.select_related("campaign", "unit").filter(
            unit__in=scope.visible_units()
        ),
        pk=point_id,
    )


def _visible_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.for_scope(scope_for(request.user)), pk=campaign_id
    )


def _poster(point: CollectionPoint):
    from .posters import Poster

    url = point.public_url
    return Poster(
        unit_name=point.unit.name,
        campaign_title=point.campaign.title,
        instruction=str(POSTER_INSTRUCTION),
        url=url,
        short_url=url.split("://", 1)[-1],
        period=_poster_period(point.campaign),
    )


def _poster_band(campaign: Campaign) -> str:
    return _("%(organizer)s 群众评议") % {"organizer": campaign.organizer.name}


def _poster_period(campaign: Campaign) -> str:
    def when(moment) -> str:
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")

    return _("评议时间：%(opens)s 至 %(closes)s") % {
        "opens": when(campaign.opens_at),
        "closes": when(campaign.closes_at),
    }


def coarse_count(n: int) -> str:
    """A count while the round runs, in steps of five: the office sees progress,
    not each answer arrive ("<5", "15+")."""
    return "<5" if n < 5 else f"{n // 5 * 5}+"


def _pdf(content: bytes, filename: str, *, disposition: str = "inline") -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@login_required
@require_safe
def point_qr(request: HttpRequest, point_id: int, fmt: str) -> HttpResponse:
    from .qr import qr_png, qr_svg

    point = _visible_point(request, point_id)
    if fmt == "svg":
        return HttpResponse(qr_svg(point.public_url), content_type="image/svg+xml")
    if fmt == "png":
        return HttpResponse(qr_png(point.public_url), content_type="image/png")
    raise Http404


@login_required
@require_safe
def point_poster(request: HttpRequest, point_id: int) -> HttpResponse:
    from .posters import posters_pdf

    point = _visible_point(request, point_id)
    return _pdf(
        posters_pdf([_poster(point)], title=_poster_band(point.campaign)),
        f"poster-{point.pk}.pdf",
    )


@login_required
@require_safe
def campaign_posters(request: HttpRequest, campaign_id: int) -> HttpResponse:
    from .posters import posters_pdf

    campaign = _visible_campaign(request, campaign_id)
    points = (
        campaign.points.filter(unit__in=scope_for(request.user).visible_units())
        .select_related("unit", "campaign")
        .order_by("unit__sort_order", "unit__code")
    )
    if not points:
        raise Http404
    content = posters_pdf(
        [_poster(point) for point in points], title=_poster_band(campaign)
    )
    return _pdf(content, f"posters-{campaign.pk}.pdf")


@login_required
@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    campaigns = Campaign.objects.for_scope(scope).order_by("-opens_at")
    return render(
        request,
        "questionnaires/campaign_list.html",
        {"campaigns": campaigns, "is_office": scope.is_office},
    )


@login_required
@require_safe
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    campaign = _visible_campaign(request, campaign_id)
    points = (
        campaign.points.filter(unit__in=scope.visible_units())
        .select_related("unit")
        .with_counts(responses=True)
        .order_by("unit__sort_order", "unit__code")
    )
    # As the units page lists them: each unit under its parent.
    place = {unit.pk: i for i, unit in enumerate(tree_order([p.unit for p in points]))}
    points = sorted(points, key=lambda point: place[point.unit_id])
    actionable = set(scope.actionable_units().values_list("pk", flat=True))
    running = campaign.status in (Campaign.Status.DRAFT, Campaign.Status.OPEN)
    waiting = 0
    for point in points:
        point.responses_shown = (
            coarse_count(point.n_responses) if running else str(point.n_responses)
        )
        waiting += point.n_waiting
    is_office = scope.can_administer(campaign.organizer_id)
    return render(
        request,
        "questionnaires/campaign_detail.html",
        {
            "campaign": campaign,
            "points": points,
            "entering": _entering(campaign, actionable) if not is_office else [],
            **(_participation(campaign) if is_office else {}),
            "actionable": actionable,
            "is_office": is_office,
            # Response counts are the office's: a manager watching a small unit's
            # counter tick could tell who has just answered.
            "show_counts": is_office,
            # Ballots used are a response counter too, until the round has closed.
            "show_used": progress_visible(scope, campaign),
            # Accepted answers not yet written out of the anonymity pool.
            "waiting": coarse_count(waiting) if waiting else "",
            "batch": settings.ANONYMITY_BATCH,
            "pool_size": 2 * settings.ANONYMITY_BATCH,
        },
    )


def _entering(campaign: Campaign, actionable: set[int]) -> list[Unit]:
    """A draft has no points to list: the user's units taking part, whose
    commitments it may enter before the round opens."""
    if campaign.status != Campaign.Status.DRAFT:
        return []
    units = campaign.participating_units().filter(pk__in=actionable)
    return tree_order(list(units.select_related("parent")))


def _participation(campaign: Campaign) -> dict:
    """Which units take part (by kind, with the kind's questionnaire and its
    preview) and which the office excluded: what the office checks before opening."""
    if campaign.status == Campaign.Status.DRAFT:
        units = list(campaign.participating_units().select_related("parent"))
    else:
        units = [p.unit for p in campaign.points.select_related("unit__parent")]
    units = tree_order(units)
    kinds = []
    for choice in campaign.questionnaire_choices.select_related("questionnaire"):
        of_kind = [unit for unit in units if unit.kind == choice.unit_kind]
        kinds.append(
            {
                "kind": choice.unit_kind,
                "label": choice.get_unit_kind_display(),
                "questionnaire": choice.questionnaire,
                "units": of_kind,
            }
        )
    order = [kind for kind, _label in Unit.Kind.choices]
    kinds.sort(key=lambda item: order.index(item["kind"]))
    excluded = tree_order(list(campaign.excluded_units.select_related("parent")))
    return {"kinds": kinds, "excluded": excluded}


# What each move does, said on its confirmation page, and the state it starts from.
TRANSITIONS = {
    "open": (
        Campaign.Status.DRAFT,
        gettext_lazy("开启评议（生成二维码）"),
        gettext_lazy(
            "开启后为每个被评议单位生成评议点和二维码，师生即可在评议时间内作答；"
            "轮次设置和问卷不能再修改。"
        ),
    ),
    "close": (
        Campaign.Status.OPEN,
        gettext_lazy("结束评议"),
        gettext_lazy(
            "结束后不再接受任何答卷（选票也随之失效）；匿名池中等待的答卷全部写入，"
            "之后可以统计结果。此操作不能撤销。"
        ),
    ),
    "publish": (
        Campaign.Status.CLOSED,
        gettext_lazy("发布结果（各单位可见）"),
        gettext_lazy(
            "发布后各单位可以查看本单位的评议结果和报告，公示栏显示整改情况。"
            "此操作不能撤销。"
        ),
    ),
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_transition(
    request: HttpRequest, campaign_id: int, action: str
) -> HttpResponse:
    """GET: what the move does, with its button; POST: the move."""
    campaign = _visible_campaign(request, campaign_id)
    if not scope_for(request.user).can_administer(campaign.organizer_id):
        raise PermissionDenied
    functions = {
        "open": campaign_open,
        "close": campaign_close,
        "publish": campaign_publish,
    }
    if action not in functions:
        raise Http404
    source, label, explanation = TRANSITIONS[action]
    if request.method != "POST":
        refusal = ""
        if campaign.status != source:
            refusal = _("当前状态“%(s)s”不能执行此操作。") % {
                "s": campaign.get_status_display()
            }
        return render(
            request,
            "questionnaires/campaign_transition.html",
            {
                "campaign": campaign,
                "action": action,
                "label": label,
                "explanation": explanation,
                "refusal": refusal,
            },
        )
    try:
        result = functions[action](campaign=campaign)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if action == "open":
            done = _("已开启评议，生成了 %(n)s 个评议点和二维码。") % {"n": len(result)}
        elif action == "close":
            done = _("已结束评议，不再接受答卷。")
        else:
            done = _("已发布结果，各单位可以查看。")
        messages.success(request, done)
    return redirect("manage-campaign", campaign_id=campaign.pk)


class BallotForm(forms.Form):
    count = forms.IntegerField(label=gettext_lazy("张数"), min_value=1, max_value=20000)


@login_required
@require_POST
def point_ballots(request: HttpRequest, point_id: int) -> HttpResponse:
    point = _visible_point(request, point_id)
    if not scope_for(request.user).can_administer(point.campaign.organizer_id):
        raise PermissionDenied
    form = BallotForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写 1 到 20000 之间的张数。"))
        return redirect("manage-campaign", campaign_id=point.campaign_id)
    try:
        # The codes and their sheets together: a PDF that cannot be built leaves
        # no code that nobody holds.
        with transaction.atomic():
            codes = ballots_issue(point=point, count=form.cleaned_data["count"])
            content = ballots.slips_pdf(point, codes)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("manage-campaign", campaign_id=point.campaign_id)
    # Saved, not shown in place of the page: the codes exist only in this file,
    # and reloading a viewer showing a POST's answer would issue another batch.
    return _pdf(content, f"ballots-{point.pk}.pdf", disposition="attachment")


class CommitmentsForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("承诺（每行一条）"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        max_length=5000,
    )

    def clean_text(self) -> list[str]:
        lines = [
            line.strip()
            for line in self.cleaned_data["text"].splitlines()
            if line.strip()
        ]
        if any(len(line) > 300 for line in lines):
            raise forms.ValidationError(_("每条承诺最多 300 个字。"))
        if len(lines) > 20:
            raise forms.ValidationError(_("最多 20 条承诺。"))
        return lines


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def commitments_edit(
    request: HttpRequest, campaign_id: int, unit_id: int
) -> HttpResponse:
    campaign = _visible_campaign(request, campaign_id)
    scope = scope_for(request.user)
    taking_part = campaign.participants().values("pk")
    unit = get_object_or_404(
        scope.actionable_units().filter(pk__in=taking_part), pk=unit_id
    )
    editable = campaign.status in (Campaign.Status.DRAFT, Campaign.Status.OPEN)
    current = Commitment.objects.filter(campaign=campaign, unit=unit)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        form = CommitmentsForm(request.POST)
        if form.is_valid():
            commitments_replace(
                campaign=campaign, unit=unit, texts=form.cleaned_data["text"]
            )
            messages.success(request, _("承诺已保存，将显示在评议页面上。"))
            return redirect("manage-campaign", campaign_id=campaign.pk)
    else:
        form = CommitmentsForm(initial={"text": "\n".join(c.text for c in current)})
    return render(
        request,
        "questionnaires/commitments_edit.html",
        {"campaign": campaign, "unit": unit, "form": form, "editable": editable},
    )
