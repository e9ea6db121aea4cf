"""Stored results of an analysis run, and findings (问题清单).

A run freezes what was computed and with which settings (METHODS.md: every
figure must say how it was computed). Findings keep a frozen evidence snapshot
that later runs never rewrite.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Unit
from questionnaires.models import Campaign


class AnalysisRun(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="analysis_runs"
    )
    created_at = models.DateTimeField(default=timezone.now)
    settings = models.JSONField(_("设置"), default=dict)
    n_responses = models.PositiveIntegerField(default=0)
    quality = models.JSONField(
        _("问卷质量"),
        default=dict,
        help_text=_("各维度 Cronbach α；各评议点“整卷同一选项”的答卷数。"),
    )

    class Meta:
        verbose_name = _("统计结果")
        verbose_name_plural = _("统计结果")
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.created_at:%Y-%m-%d %H:%M}"


class Result(models.Model):
    """One group's figures: the school, a category, a unit, a dimension or a question."""

    class Level(models.TextChoices):
        SCHOOL = "school", _("全校")
        CATEGORY = "category", _("类别")
        UNIT = "unit", _("单位")
        DIMENSION = "dimension", _("维度")
        QUESTION = "question", _("题目")

    run = models.ForeignKey(
        AnalysisRun, on_delete=models.CASCADE, related_name="results"
    )
    level = models.CharField(max_length=16, choices=Level.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True)
    category = models.CharField(max_length=16, blank=True)
    unit_kind = models.CharField(max_length=16, blank=True)
    dimension_code = models.CharField(max_length=40, blank=True)
    question_code = models.CharField(max_length=40, blank=True)
    label = models.CharField(max_length=300, blank=True)
    source = models.CharField(
        max_length=16,
        blank=True,
        help_text=_(
            "单位总体满意率的来源：headline（总体评价题）或 items（各题平均）。"
        ),
    )

    n_responses = models.PositiveIntegerField(default=0)
    n_answered = models.PositiveIntegerField(default=0)
    n_valid = models.PositiveIntegerField(default=0)
    n_satisfied = models.PositiveIntegerField(default=0)
    n_top = models.PositiveIntegerField(default=0)
    n_negative = models.PositiveIntegerField(default=0)
    n_dont_know = models.PositiveIntegerField(default=0)
    ballots_issued = models.PositiveIntegerField(null=True)
    ballots_used = models.PositiveIntegerField(null=True)
    level_counts = models.JSONField(
        default=dict,
        help_text=_("单一量表分组的各选项人数 {编码: 人数}，用于整体分布比较。"),
    )

    rate = models.FloatField(null=True)
    rate_strict = models.FloatField(null=True)
    rate_negative = models.FloatField(null=True)
    awareness = models.FloatField(null=True)
    score = models.FloatField(null=True)
    score_ci_low = models.FloatField(null=True)
    score_ci_high = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    exact_lower = models.FloatField(null=True)
    p_value = models.FloatField(null=True)
    q_value = models.FloatField(null=True)
    prob_below = models.FloatField(null=True)
    shrunk = models.FloatField(null=True)
    flag = models.CharField(max_length=20, blank=True)
    alpha = models.FloatField(null=True)
    suppressed = models.BooleanField(
        default=False,
        help_text=_(
            "低于匿名阈值（或为防止推算而连带隐藏）：除办公室原始视图外不显示。"
        ),
    )

    baseline_n_valid = models.PositiveIntegerField(null=True)
    baseline_rate = models.FloatField(null=True)
    diff = models.FloatField(null=True)
    diff_ci_low = models.FloatField(null=True)
    diff_ci_high = models.FloatField(null=True)
    p_improved = models.FloatField(null=True)
    cohens_h = models.FloatField(null=True)
    mw_p = models.FloatField(null=True)
    rank_biserial = models.FloatField(null=True)
    verdict = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("结果")
        verbose_name_plural = _("结果")
        indexes = [
            models.Index(fields=["run", "level", "unit"], name="result_lookup_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} · {self.label}"


class Finding(models.Model):
    """A 问题清单 entry: a problem the evaluation (or an inspection) found in a unit."""

    class Trigger(models.TextChoices):
        STATISTICAL = "statistical", _("统计判定（红色）")
        THEME = "theme", _("意见主题")
        MANUAL = "manual", _("人工录入")
        INSPECTION = "inspection", _("督查发现")

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DISMISSED = "dismissed", _("已排除")

    class Verification(models.TextChoices):
        TRUE = "true", _("属实")
        PARTLY = "partly", _("部分属实")
        FALSE = "false", _("不属实")

    class Severity(models.TextChoices):
        HIGH = "high", _("严重")
        MEDIUM = "medium", _("一般")
        LOW = "low", _("轻微")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="findings"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="findings")
    trigger = models.CharField(_("来源"), max_length=16, choices=Trigger.choices)
    dimension_code = models.CharField(_("维度"), max_length=40, blank=True)
    dimension_title = models.CharField(max_length=100, blank=True)
    theme_key = models.CharField(max_length=64, blank=True)
    title = models.CharField(_("问题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    severity = models.CharField(
        _("严重程度"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM
    )
    evidence = models.JSONField(_("证据快照"), default=dict)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.CANDIDATE
    )
    verification = models.CharField(
        _("核实结论"), max_length=8, choices=Verification.choices, blank=True
    )
    decision_comment = models.TextField(_("处理意见"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("问题清单")
        verbose_name_plural = _("问题清单")
        ordering = ["campaign", "unit__sort_order", "unit__code", "id"]
        constraints = [
            # Re-running an analysis finds the same finding instead of adding one.
            models.UniqueConstraint(
                fields=["campaign", "unit", "trigger", "dimension_code", "theme_key"],
                condition=Q(trigger__in=["statistical", "theme"]),
                name="finding_unique_automatic",
            ),
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(decision_comment=""),
                name="finding_dismissal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name} · {self.title}"
