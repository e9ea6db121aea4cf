"""Rounds (评议轮次), the questionnaire each uses per kind of unit, collection points
and the commitments units publish for a round."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Unit, UnitQuerySet

from .questionnaires import Questionnaire


def _taking_part(units: models.QuerySet[Unit]) -> UnitQuerySet:
    """Those of ``units`` that take part in the outer round, as
    :meth:`Campaign.participating_units` says, for an ``Exists`` over rounds: the
    organiser's subtree by the parent chain (four levels at most, as
    ``UnitQuerySet.subtree_of``)."""
    campaign = OuterRef(OuterRef("pk"))
    organizer = OuterRef("organizer_id")
    below = Q(pk=organizer)
    lookup = "parent_id"
    for _level in range(Unit.MAX_DEPTH - 1):
        below |= Q(**{lookup: organizer})
        lookup = "parent__" + lookup
    kinds = CampaignQuestionnaire.objects.filter(campaign=campaign)
    excluded = Campaign.excluded_units.through.objects.filter(campaign=campaign)
    return (
        Unit.objects.filter(below, pk__in=units, active=True)
        .filter(kind__in=kinds.values("unit_kind"))
        .exclude(pk__in=excluded.values("unit_id"))
    )


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def for_scope(self, scope) -> CampaignQuerySet:
        """Rounds a user may see: organised within, or evaluating units within, their
        scope; a draft (no points yet) where units within it would take part."""
        if scope.everything:
            return self
        units = scope.visible_units()
        return self.filter(
            Q(organizer__in=units)
            | Q(points__unit__in=units)
            | Q(Exists(_taking_part(units)), status=Campaign.Status.DRAFT)
        ).distinct()

    def administered_by(self, scope) -> CampaignQuerySet:
        """Rounds whose organiser the user runs as the office."""
        if scope.everything:
            return self
        return self.filter(organizer__in=scope.administered_units())


class Campaign(models.Model):
    """A round of evaluation (评议轮次). Only the office moves its status."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已结束")
        PUBLISHED = "published", _("已发布结果")

    class AccessMode(models.TextChoices):
        OPEN = "open", _("扫码即答")
        BALLOT = "ballot", _("一人一票（选票码）")

    class RateDefinition(models.TextChoices):
        BROAD = "broad", _("满意+基本满意（宽口径）")
        STRICT = "strict", _("仅最高一级（严口径）")
        LEVELS = "levels", _("指定选项")

    organizer = models.ForeignKey(
        Unit,
        verbose_name=_("组织单位"),
        on_delete=models.PROTECT,
        related_name="organized_campaigns",
        help_text=_("通常是学校；本轮评议其下属的单位。"),
    )
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    access_mode = models.CharField(
        _("作答方式"),
        max_length=16,
        choices=AccessMode.choices,
        default=AccessMode.OPEN,
    )
    target = models.DecimalField(
        _("满意率目标"), max_digits=4, decimal_places=3, default=0.95
    )
    rate_definition = models.CharField(
        _("满意率口径"),
        max_length=16,
        choices=RateDefinition.choices,
        default=RateDefinition.BROAD,
    )
    rate_levels = models.JSONField(
        _("计为满意的选项编码"),
        default=list,
        blank=True,
        help_text=_("口径为“指定选项”时使用。"),
    )
    neutral_counts_as_satisfied = models.BooleanField(
        _("“一般”计为满意"), default=False
    )
    min_group_size = models.PositiveSmallIntegerField(
        _("最小公布样本"),
        default=5,
        help_text=_("少于此数的分组不显示（不得低于 3）。"),
    )
    min_flag_size = models.PositiveSmallIntegerField(_("统计判定最小样本"), default=10)
    min_comment_responses = models.PositiveSmallIntegerField(
        _("显示意见的最小样本"), default=10
    )
    min_comments = models.PositiveSmallIntegerField(_("显示意见的最少条数"), default=3)
    baseline = models.ForeignKey(
        "self",
        verbose_name=_("对比基线轮次"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followups",
    )
    excluded_units = models.ManyToManyField(
        Unit,
        verbose_name=_("不参加本轮的单位"),
        blank=True,
        related_name="excluded_from_campaigns",
        help_text=_("默认组织单位下全部在用的被评议单位参加；这些单位除外。"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议轮次")
        verbose_name_plural = _("评议轮次")
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="campaign_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=Q(target__gt=0) & Q(target__lte=1),
                name="campaign_target_in_0_1",
            ),
            models.CheckConstraint(
                condition=Q(min_group_size__gte=3), name="campaign_min_group_3"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed", "published"]),
                name="campaign_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(access_mode__in=["open", "ballot"]),
                name="campaign_access_mode_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def accepts_answers(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.OPEN and self.opens_at <= now < self.closes_at

    def candidate_units(self, kinds: Iterable[str] | None = None) -> UnitQuerySet:
        """Active units under the organiser of the kinds this round evaluates
        (those with a questionnaire), before exclusions; ``kinds`` overrides."""
        if kinds is None:
            kinds = self.questionnaire_choices.values_list("unit_kind", flat=True)
        return (
            Unit.objects.subtree_of([self.organizer_id])
            .active()
            .filter(kind__in=list(kinds))
            .order_by("sort_order", "code")
        )

    def participating_units(self, kinds: Iterable[str] | None = None) -> UnitQuerySet:
        """The units that take part: :meth:`candidate_units` less the excluded."""
        return self.candidate_units(kinds).exclude(
            pk__in=self.excluded_units.values("pk")
        )

    def participants(self) -> UnitQuerySet:
        """The units taking part: its points' units once open; before, those
        opening it would give a point."""
        if self.status == self.Status.DRAFT:
            return self.participating_units()
        return Unit.objects.filter(points__campaign=self)

    def settings_snapshot(self) -> dict[str, object]:
        """The thresholds and definitions every result records (METHODS.md)."""
        return {
            "target": float(self.target),
            "rate_definition": self.rate_definition,
            "rate_levels": list(self.rate_levels),
            "neutral_counts_as_satisfied": self.neutral_counts_as_satisfied,
            "min_group_size": self.min_group_size,
            "min_flag_size": self.min_flag_size,
            "min_comment_responses": self.min_comment_responses,
            "min_comments": self.min_comments,
        }


class CampaignQuestionnaire(models.Model):
    """Which published questionnaire a round uses for each kind of unit."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="questionnaire_choices"
    )
    unit_kind = models.CharField(
        _("单位类型"), max_length=16, choices=Unit.Kind.choices
    )
    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name=_("问卷"), on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("轮次问卷")
        verbose_name_plural = _("轮次问卷")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "unit_kind"],
                name="campaignquestionnaire_unique_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.get_unit_kind_display()}"


class CollectionPointQuerySet(models.QuerySet["CollectionPoint"]):
    def with_counts(self, *, responses: bool = False) -> CollectionPointQuerySet:
        """Ballots issued and used (and responses received, ``n_waiting`` of them
        still in the anonymity pool), as subqueries: joining the tables at once
        would multiply their rows."""

        from .submissions import BallotCode, PendingSubmission, Response

        def count(model, **filters):
            rows = (
                model.objects.filter(point=models.OuterRef("pk"), **filters)
                .order_by()
                .values("point")
                .annotate(n=models.Count("*"))
                .values("n")
            )
            return Coalesce(models.Subquery(rows), 0)

        queryset = self.annotate(
            n_ballots=count(BallotCode), n_used=count(BallotCode, used_on__isnull=False)
        )
        if responses:
            # Accepted submissions still in the anonymity pool count as received.
            queryset = queryset.annotate(
                n_waiting=count(PendingSubmission),
                n_responses=count(Response) + count(PendingSubmission),
            )
        return queryset


class CollectionPoint(models.Model):
    """Where one unit is evaluated in one round: the QR code on its poster."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="points"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="points")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT)
    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    burst_on = models.DateField(
        _("突增待复核"),
        null=True,
        blank=True,
        help_text=_(
            "某一分钟内提交数远高于本点平常水平的日期（见 METHODS §5）；供人工复核。"
        ),
    )

    objects = CollectionPointQuerySet.as_manager()

    class Meta:
        verbose_name = _("评议点")
        verbose_name_plural = _("评议点")
        ordering = ["campaign", "unit__sort_order", "unit__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "unit"], name="point_unique_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.unit.name}"

    @property
    def public_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/s/{self.token}/"


class Commitment(models.Model):
    """A promise (承诺) a unit publishes for a round; shown to respondents."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="commitments"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="commitments")
    text = models.CharField(_("承诺内容"), max_length=300)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("承诺")
        verbose_name_plural = _("承诺")
        ordering = ["campaign", "unit", "order", "id"]

    def __str__(self) -> str:
        return self.text
