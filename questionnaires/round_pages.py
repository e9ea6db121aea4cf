"""The office's pages for a round's settings: a new draft round, and its edits
while it is a draft (questionnaires.round_settings decides)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from organizations.access import scope_for
from organizations.models import Unit
from organizations.services import tree_order

from .models import Campaign, Questionnaire
from .respond import render_preview
from .round_settings import (
    CAMPAIGN_SETTINGS,
    EVALUATED_KINDS,
    CampaignInvalid,
    baseline_options,
    campaign_create,
    campaign_update,
)
from .services import ServiceError, StateError
from .views import _visible_campaign


def _percent(target) -> str:
    return f"{target * 100:.1f}".removesuffix(".0")


class CampaignForm(forms.Form):
    """A round's settings as the office types them; the rules are the service's
    (questionnaires.round_settings.campaign_create), its refusals shown at the fields."""

    organizer = forms.ModelChoiceField(
        label=gettext_lazy("组织单位"),
        queryset=Unit.objects.none(),
        empty_label=None,
        help_text=gettext_lazy("本轮评议其下属的全部在用单位；通常是学校。"),
    )
    title = forms.CharField(
        label=gettext_lazy("标题"),
        max_length=200,
        help_text=gettext_lazy("显示在评议页面和海报上，如“2026 年春季群众评议”。"),
    )
    description = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("可选，显示在轮次页面上；默认为空。"),
    )
    opens_at = forms.DateTimeField(
        label=gettext_lazy("开始时间"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=gettext_lazy("从此时起可以作答（还需“开启评议”）。"),
    )
    closes_at = forms.DateTimeField(
        label=gettext_lazy("结束时间"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=gettext_lazy("此时起不再接受答卷；须晚于开始时间。"),
    )
    access_mode = forms.ChoiceField(
        label=gettext_lazy("作答方式"),
        choices=Campaign.AccessMode.choices,
        initial=Campaign.AccessMode.OPEN,
        help_text=gettext_lazy(
            "扫码即答：任何人扫码可答；一人一票：凭选票码作答一次。默认扫码即答。"
        ),
    )
    target = forms.DecimalField(
        label=gettext_lazy("满意率目标（%）"),
        max_digits=4,
        decimal_places=1,
        initial=95,
        help_text=gettext_lazy(
            "各单位满意率与此比较，明显低于者列为问题候选；50 到 99.9，默认 95。"
        ),
    )
    rate_definition = forms.ChoiceField(
        label=gettext_lazy("满意率口径"),
        choices=Campaign.RateDefinition.choices,
        initial=Campaign.RateDefinition.BROAD,
        help_text=gettext_lazy("哪些选项计为满意；默认“满意+基本满意”。"),
    )
    rate_levels = forms.CharField(
        label=gettext_lazy("计为满意的选项编码"),
        required=False,
        max_length=400,
        help_text=gettext_lazy(
            "仅口径为“指定选项”时使用，以逗号分隔，如 satisfied,fairly_satisfied；默认为空。"
        ),
    )
    neutral_counts_as_satisfied = forms.BooleanField(
        label=gettext_lazy("“一般”计为满意"),
        required=False,
        help_text=gettext_lazy("勾选后“一般”类选项计入满意率；默认不计。"),
    )
    min_group_size = forms.IntegerField(
        label=gettext_lazy("最小公布样本"),
        initial=5,
        help_text=gettext_lazy(
            "答卷少于此数的分组不显示结果（保护匿名）；不得低于 3，默认 5。"
        ),
    )
    min_flag_size = forms.IntegerField(
        label=gettext_lazy("统计判定最小样本"),
        initial=10,
        help_text=gettext_lazy("答卷达到此数才做统计判定（列为问题候选）；默认 10。"),
    )
    min_comment_responses = forms.IntegerField(
        label=gettext_lazy("显示意见的最小样本"),
        initial=10,
        help_text=gettext_lazy("答卷达到此数才显示文字意见；默认 10。"),
    )
    min_comments = forms.IntegerField(
        label=gettext_lazy("显示意见的最少条数"),
        initial=3,
        help_text=gettext_lazy("文字意见达到此条数才显示；默认 3。"),
    )
    baseline = forms.ModelChoiceField(
        label=gettext_lazy("对比基线轮次"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=gettext_lazy("（无）"),
        help_text=gettext_lazy(
            "结果与之对比的上一轮；只能选同一组织单位已结束的轮次，默认不对比。"
        ),
    )

    def __init__(self, *args, scope, campaign: Campaign | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizer"].queryset = (
            scope.administered_units()
            .filter(kind__in=[Unit.Kind.SCHOOL, Unit.Kind.COMMITTEE])
            .order_by("sort_order", "code")
        )
        self.fields["baseline"].queryset = baseline_options(scope, campaign=campaign)
        self.fields["baseline"].label_from_instance = lambda c: (
            f"{c.title}（{c.organizer.name}）"
        )
        published = Questionnaire.objects.published().order_by("key", "-version")
        self.kind_fields = []
        for kind in EVALUATED_KINDS:
            name = f"questionnaire_{kind}"
            self.fields[name] = forms.ModelChoiceField(
                label=_("%(kind)s问卷") % {"kind": Unit.Kind(kind).label},
                queryset=published.filter(target_kind=kind),
                required=False,
                empty_label=_("（本轮不评议此类单位）"),
                help_text=_("此类单位使用的已发布问卷版本；留空则本轮不评议此类单位。"),
            )
            self.kind_fields.append(name)
        # Every active evaluated unit under the organisers offered, in tree order.
        units = tree_order(
            list(
                Unit.objects.subtree_of(self.fields["organizer"].queryset)
                .active()
                .select_related("parent")
                .order_by("sort_order", "code")
            )
        )
        self.candidates = [unit for unit in units if unit.kind in EVALUATED_KINDS]
        self.fields["excluded_units"] = forms.ModelMultipleChoiceField(
            label=_("不参加本轮的单位"),
            queryset=Unit.objects.filter(pk__in=[u.pk for u in self.candidates]),
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )

    @property
    def unit_groups(self) -> list[dict]:
        """The candidate units by kind, each with whether it is ticked (excluded)."""
        if self.is_bound:
            ticked = set(self.data.getlist("excluded_units"))
        else:
            ticked = {str(pk) for pk in self.initial.get("excluded_units", [])}
        groups = []
        for kind in EVALUATED_KINDS:
            units = [
                {"unit": unit, "excluded": str(unit.pk) in ticked}
                for unit in self.candidates
                if unit.kind == kind
            ]
            if units:
                groups.append({"label": Unit.Kind(kind).label, "units": units})
        return groups

    @property
    def settings_fields(self):
        return [
            self[name]
            for name in self.fields
            if name not in self.kind_fields and name != "excluded_units"
        ]

    @property
    def questionnaire_fields(self):
        return [self[name] for name in self.kind_fields]

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("organizer")
        data["target"] = data["target"] / 100 if data["target"] is not None else None
        data["rate_levels"] = [
            code.strip()
            for code in data["rate_levels"].replace("，", ",").split(",")
            if code.strip()
        ]
        data["questionnaires"] = {
            kind: data.pop(f"questionnaire_{kind}")
            for kind in EVALUATED_KINDS
            if data.get(f"questionnaire_{kind}") is not None
        }
        for kind in EVALUATED_KINDS:
            data.pop(f"questionnaire_{kind}", None)
        data["excluded_units"] = list(data["excluded_units"])
        return data

    def show_refusal(self, exc: CampaignInvalid) -> None:
        for name, refusals in exc.errors.items():
            for message in refusals:
                self.add_error(name if name in self.fields else None, message)

    @staticmethod
    def initial_of(campaign: Campaign) -> dict:
        initial = {name: getattr(campaign, name) for name in CAMPAIGN_SETTINGS}
        initial["organizer"] = campaign.organizer
        initial["excluded_units"] = [u.pk for u in campaign.excluded_units.all()]
        initial["opens_at"] = timezone.localtime(campaign.opens_at)
        initial["closes_at"] = timezone.localtime(campaign.closes_at)
        initial["target"] = _percent(campaign.target)
        initial["rate_levels"] = ",".join(campaign.rate_levels)
        for choice in campaign.questionnaire_choices.all():
            initial[f"questionnaire_{choice.unit_kind}"] = choice.questionnaire_id
        return initial


def _campaign_form_page(request, form, campaign=None, *, refusal="", status=200):
    return render(
        request,
        "questionnaires/campaign_form.html",
        {"form": form, "campaign": campaign, "refusal": refusal},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.is_office:
        raise PermissionDenied
    if request.method != "POST":
        now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        initial = {"opens_at": now, "closes_at": now + timedelta(days=14)}
        return _campaign_form_page(request, CampaignForm(scope=scope, initial=initial))
    form = CampaignForm(request.POST, scope=scope)
    if form.is_valid():
        try:
            campaign = campaign_create(
                organizer=form.cleaned_data["organizer"],
                user=request.user,
                fields=form.service_fields(),
            )
        except CampaignInvalid as exc:
            form.show_refusal(exc)
        except ServiceError as exc:
            form.add_error("organizer", exc.message)
        else:
            messages.success(request, _("已新建轮次（草稿）。"))
            return redirect("manage-campaign", campaign_id=campaign.pk)
    return _campaign_form_page(request, form)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    scope = scope_for(request.user)
    campaign = _visible_campaign(request, campaign_id)
    if not scope.can_administer(campaign.organizer_id):
        raise PermissionDenied
    if campaign.status != Campaign.Status.DRAFT:
        refusal = _("轮次开启后不能再修改设置（当前：%(s)s）。") % {
            "s": campaign.get_status_display()
        }
        status = 409 if request.method == "POST" else 200
        return _campaign_form_page(
            request, None, campaign, refusal=refusal, status=status
        )
    if request.method != "POST":
        form = CampaignForm(
            scope=scope, campaign=campaign, initial=CampaignForm.initial_of(campaign)
        )
        return _campaign_form_page(request, form, campaign)
    form = CampaignForm(request.POST, scope=scope, campaign=campaign)
    if form.is_valid():
        try:
            campaign_update(
                campaign=campaign,
                user=request.user,
                organizer=form.cleaned_data["organizer"],
                fields=form.service_fields(),
            )
        except CampaignInvalid as exc:
            form.show_refusal(exc)
        except StateError as exc:
            return _campaign_form_page(
                request, None, campaign, refusal=exc.message, status=409
            )
        except ServiceError as exc:
            form.add_error("organizer", exc.message)
        else:
            messages.success(request, _("已保存轮次设置。"))
            return redirect("manage-campaign", campaign_id=campaign.pk)
    return _campaign_form_page(request, form, campaign)


@login_required
@require_safe
def campaign_preview(request: HttpRequest, campaign_id: int, kind: str) -> HttpResponse:
    """The respondent page of one unit kind of the round, as a sample unit's
    respondents will see it (its commitments too), marked 预览; stores nothing."""
    campaign = _visible_campaign(request, campaign_id)
    if not scope_for(request.user).can_administer(campaign.organizer_id):
        raise PermissionDenied
    choice = (
        campaign.questionnaire_choices.select_related("questionnaire")
        .filter(unit_kind=kind)
        .first()
    )
    if choice is None:
        raise Http404
    unit = sample_unit(campaign, kind)
    if unit is None:
        raise Http404
    return render_preview(
        request,
        choice.questionnaire,
        unit,
        campaign,
        back_url=reverse("manage-campaign", args=[campaign.pk]),
    )


def sample_unit(campaign: Campaign, kind: str) -> Unit | None:
    """The unit a kind's preview shows: its first taking part, in tree order
    (a point's unit once the round is open)."""
    if campaign.status == Campaign.Status.DRAFT:
        units = list(
            campaign.participating_units(kinds=[kind]).select_related("parent")
        )
    else:
        units = [
            point.unit
            for point in campaign.points.filter(unit__kind=kind).select_related(
                "unit__parent"
            )
        ]
    ordered = tree_order(units)
    return ordered[0] if ordered else None
