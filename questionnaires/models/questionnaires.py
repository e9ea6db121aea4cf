"""Scales and versioned questionnaires: dimensions, questions and their options."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Unit


class Scale(models.Model):
    """An answer scale such as 满意/基本满意/不满意/不了解 (METHODS.md §1)."""

    key = models.SlugField(_("标识"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("量表")
        verbose_name_plural = _("量表")
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key}）"


class ScaleLevel(models.Model):
    class Polarity(models.TextChoices):
        POSITIVE = "positive", _("满意类")
        NEUTRAL = "neutral", _("中立")
        NEGATIVE = "negative", _("不满意类")
        DONT_KNOW = "dont_know", _("不了解")

    scale = models.ForeignKey(
        Scale, verbose_name=_("量表"), on_delete=models.CASCADE, related_name="levels"
    )
    code = models.SlugField(_("编码"), max_length=40)
    label = models.CharField(_("文字"), max_length=40)
    polarity = models.CharField(_("类别"), max_length=16, choices=Polarity.choices)
    score = models.DecimalField(
        _("分值"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("量表选项")
        verbose_name_plural = _("量表选项")
        ordering = ["scale", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["scale", "code"], name="scalelevel_unique_code"
            ),
            models.CheckConstraint(
                condition=Q(polarity="dont_know") | Q(score__isnull=False),
                name="scalelevel_score_unless_dont_know",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class QuestionnaireQuerySet(models.QuerySet["Questionnaire"]):
    def published(self) -> QuestionnaireQuerySet:
        return self.filter(published_at__isnull=False)

    def drafts(self) -> QuestionnaireQuerySet:
        return self.filter(published_at__isnull=True)


class Questionnaire(models.Model):
    """One version of a questionnaire. Publishing freezes it, in the database too.

    Versions of the same questionnaire share ``key``; editing a published version
    means :func:`questionnaires.services.questionnaire_new_version`.
    """

    key = models.SlugField(_("标识"), max_length=60)
    version = models.PositiveIntegerField(_("版本"), default=1)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    target_kind = models.CharField(
        _("适用单位类型"), max_length=16, choices=Unit.Kind.choices
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = QuestionnaireQuerySet.as_manager()

    class Meta:
        verbose_name = _("问卷")
        verbose_name_plural = _("问卷")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version"], name="questionnaire_unique_version"
            ),
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(published_at__isnull=True),
                name="questionnaire_one_draft_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Dimension(models.Model):
    """A 维度 such as 领导班子好; questions of one dimension form a sub-scale."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="dimensions"
    )
    code = models.SlugField(_("编码"), max_length=40)
    title = models.CharField(_("名称"), max_length=100)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("维度")
        verbose_name_plural = _("维度")
        ordering = ["questionnaire", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="dimension_unique_code"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        SCALE = "scale", _("量表题")
        SINGLE = "single", _("单选题")
        MULTIPLE = "multiple", _("多选题")
        TEXT = "text", _("填空题")

    TEXT_MAX_LENGTH = 2000

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    dimension = models.ForeignKey(
        Dimension,
        verbose_name=_("维度"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="questions",
    )
    code = models.SlugField(
        _("编码"),
        max_length=40,
        help_text=_("在各版本间保持不变，前后轮次据此对比。"),
    )
    kind = models.CharField(_("题型"), max_length=16, choices=Kind.choices)
    text = models.CharField(_("题目"), max_length=300)
    help_text = models.CharField(_("说明"), max_length=300, blank=True)
    required = models.BooleanField(_("必答"), default=False)
    headline = models.BooleanField(
        _("总体评价"), default=False, help_text=_("单位的总体满意率取自此题。")
    )
    scale = models.ForeignKey(
        Scale, verbose_name=_("量表"), on_delete=models.PROTECT, null=True, blank=True
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        ordering = ["questionnaire", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="question_unique_code"
            ),
            models.CheckConstraint(
                condition=(Q(kind="scale") & Q(scale__isnull=False))
                | (~Q(kind="scale") & Q(scale__isnull=True)),
                name="question_scale_iff_scale_kind",
            ),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(headline=True),
                name="question_one_headline",
            ),
        ]

    def __str__(self) -> str:
        return self.text


class Option(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="options"
    )
    label = models.CharField(_("选项"), max_length=200)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("选项")
        verbose_name_plural = _("选项")
        ordering = ["question", "order"]

    def __str__(self) -> str:
        return self.label
