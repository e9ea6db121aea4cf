"""The rectification ledger (整改台账): tasks, their events, milestones, extensions, evidence.

The state machine and who may move it live in ``rectification/services.py``
(``task_transition``); every change writes an append-only ``TaskEvent``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analysis.models import Finding
from organizations.models import Unit
from questionnaires.models import Campaign


class Task(models.Model):
    """A rectification task (任务清单 + 责任清单); one finding may give several."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        VERIFYING = "verifying", _("核实中")
        DISMISSED = "dismissed", _("不予整改")
        ASSIGNED = "assigned", _("已交办")
        IN_PROGRESS = "in_progress", _("整改中")
        UNDER_REVIEW = "under_review", _("待验收")
        AWAITING_RESURVEY = "awaiting_resurvey", _("待回访测评")
        CLOSED = "closed", _("已销号")

    class Type(models.TextChoices):
        IMMEDIATE = "immediate", _("立行立改")
        DEADLINE = "deadline", _("限期整改")
        LONG_TERM = "long_term", _("长期坚持")

    class Source(models.TextChoices):
        SURVEY = "survey", _("群众评议")
        INSPECTION = "inspection", _("督查检查")
        MANUAL = "manual", _("其他")

    class Colour(models.TextChoices):
        NONE = "", _("正常")
        BLUE = "blue", _("蓝色（临近期限）")
        YELLOW = "yellow", _("黄色（节点逾期）")
        RED = "red", _("红色（逾期）")

    finding = models.ForeignKey(
        Finding,
        verbose_name=_("来源问题"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("评议轮次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    title = models.CharField(_("整改事项"), max_length=200)
    description = models.TextField(_("问题描述"), blank=True)
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("牵头单位"),
        on_delete=models.PROTECT,
        related_name="led_tasks",
    )
    cooperating_units = models.ManyToManyField(
        Unit, verbose_name=_("配合单位"), blank=True, related_name="cooperating_tasks"
    )
    responsible_leader = models.CharField(_("责任领导"), max_length=100, blank=True)
    responsible_person = models.CharField(_("责任人"), max_length=100, blank=True)
    responsible_email = models.EmailField(_("责任人邮箱"), blank=True)
    supervising_office = models.CharField(
        _("督办部门"), max_length=100, default="创先争优活动领导小组办公室"
    )
    requirements = models.TextField(
        _("整改要求"),
        blank=True,
        help_text=_("办公室交办时提出的要求和初步措施；牵头单位据此制定整改措施。"),
    )
    cause_analysis = models.TextField(_("原因分析"), blank=True)
    goal = models.TextField(_("整改目标"), blank=True)
    measures = models.TextField(_("整改措施"), blank=True)
    task_type = models.CharField(
        _("整改类型"), max_length=16, choices=Type.choices, default=Type.DEADLINE
    )
    due_date = models.DateField(_("完成时限"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.DRAFT
    )
    colour = models.CharField(
        _("督办"), max_length=8, choices=Colour.choices, blank=True
    )
    red_since = models.DateField(null=True, blank=True)
    times_red = models.PositiveSmallIntegerField(default=0)
    interview_candidate = models.BooleanField(_("约谈对象"), default=False)
    resurvey_verdict = models.CharField(_("回访测评结论"), max_length=20, blank=True)
    resurvey_figures = models.JSONField(default=dict, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    lookback_on = models.DateField(_("回头看日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("整改任务")
        verbose_name_plural = _("整改任务")
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "draft",
                        "verifying",
                        "dismissed",
                        "assigned",
                        "in_progress",
                        "under_review",
                        "awaiting_resurvey",
                        "closed",
                    ]
                ),
                name="task_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(source="survey") | Q(finding__isnull=False),
                name="task_survey_has_finding",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def survey_derived(self) -> bool:
        return self.source == self.Source.SURVEY


class Milestone(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("节点"), max_length=200)
    due_date = models.DateField(_("节点时间"))
    done_on = models.DateField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("节点")
        verbose_name_plural = _("节点")
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.title


class ExtensionRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="extensions")
    reason = models.TextField(_("延期理由"))
    new_due_date = models.DateField(_("申请延至"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.task} → {self.new_due_date}"


class TaskEvent(models.Model):
    """Append-only audit trail. No code path updates or deletes these rows; on
    PostgreSQL a trigger refuses it (migration 0002)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        TRANSITION = "transition", _("状态变更")
        CHANGE = "change", _("内容修改")
        PROGRESS = "progress", _("进展报告")
        EVIDENCE = "evidence", _("上传佐证")
        EXTENSION = "extension", _("延期申请")
        ESCALATION = "escalation", _("督办")
        RESURVEY = "resurvey", _("回访测评")

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=32, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("台账记录")
        verbose_name_plural = _("台账记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.task_id} · {self.kind} · {self.at:%Y-%m-%d %H:%M}"


def evidence_path(instance: Evidence, filename: str) -> str:
    """A private, random name: never the uploader's file name, never guessable."""
    return f"private/evidence/{instance.task_id}/{uuid.uuid4().hex}{instance.extension}"


class Evidence(models.Model):
    """A file proving a task's progress (佐证材料), type checked by its content.

    Stored under MEDIA_ROOT, which no URL serves: it is downloaded only through
    ``rectification.views.evidence_download``, which checks access.
    """

    EXTENSIONS = {
        "application/pdf": ".pdf",
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
            ".docx"
        ),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    }

    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("任务")
    )
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="evidence_not_empty"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return self.EXTENSIONS.get(self.content_type, "")

    def download_name(self) -> str:
        """The original name, with the extension of the checked type when it differs:
        a PDF uploaded as ``x.html`` is saved as ``x.html.pdf`` by the browser."""
        name = self.original_name or "evidence"
        accepted = (".jpg", ".jpeg") if self.extension == ".jpg" else (self.extension,)
        if name.lower().endswith(accepted):
            return name
        return name + self.extension
