"""Tasks, transitions, events, progress, extensions and the ledger over the API."""

from __future__ import annotations

from datetime import date

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import (
    APIException,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from analysis.models import Finding
from analysis.services import campaign_analyze
from organizations.access import scope_for
from organizations.models import Unit
from questionnaires.models import Campaign
from questionnaires.services import ServiceError, StateError
from survey_service.openapi import file_responses
from survey_service.spreadsheets import CONTENT_TYPES

from .access import resurvey_for, visible_tasks
from .evidence import evidence_add
from .ledger import ledger_rows, ledger_summary, ledger_table
from .models import Evidence, ExtensionRequest, Task, TaskEvent
from .resurvey import tasks_resurvey
from .services import (
    MANAGER_FIELDS,
    OFFICE_FIELDS,
    TransitionRefused,
    allowed_actions,
    extension_decide,
    extension_request,
    task_create,
    task_report_progress,
    task_transition,
    task_update,
)


class Refused(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "refused"


def _call(function, **kwargs):
    try:
        return function(**kwargs)
    except TransitionRefused as refused:
        raise Refused(
            {
                "detail": refused.message,
                "code": refused.code,
                "state": refused.state,
                "action": refused.action,
                "allowed_actions": refused.allowed,
            }
        ) from None
    except ServiceError as exc:
        raise ValidationError({"non_field_errors": [exc.message]}) from None


class TaskSerializer(serializers.ModelSerializer):
    lead_unit_name = serializers.CharField(source="lead_unit.name", read_only=True)
    allowed_actions = serializers.SerializerMethodField()
    resurvey_figures = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "回访测评前后的数字；只有本轮结果对您可见（已发布、本单位、未因匿名阈值隐藏）时才给出，否则为 null。"
        )
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "finding",
            "campaign",
            "source",
            "title",
            "description",
            "lead_unit",
            "lead_unit_name",
            "cooperating_units",
            "responsible_leader",
            "responsible_person",
            "responsible_email",
            "supervising_office",
            "requirements",
            "cause_analysis",
            "goal",
            "measures",
            "task_type",
            "due_date",
            "state",
            "colour",
            "interview_candidate",
            "resurvey_verdict",
            "resurvey_figures",
            "accepted_at",
            "closed_at",
            "lookback_on",
            "created_at",
            "allowed_actions",
        ]
        read_only_fields = [
            "campaign",
            "state",
            "colour",
            "interview_candidate",
            "resurvey_verdict",
            "accepted_at",
            "closed_at",
            "lookback_on",
            "created_at",
        ]

    def get_allowed_actions(self, task: Task) -> list[str]:
        return allowed_actions(task, self.context["request"].user)

    @extend_schema_field(
        {"type": "object", "nullable": True, "additionalProperties": {}}
    )
    def get_resurvey_figures(self, task: Task) -> dict | None:
        return resurvey_for(self.context["request"].user, task)


class TaskCreateSerializer(serializers.Serializer):
    finding = serializers.PrimaryKeyRelatedField(
        queryset=Finding.objects.all(), required=False, allow_null=True
    )
    source = serializers.ChoiceField(
        choices=[Task.Source.INSPECTION, Task.Source.MANUAL],
        required=False,
        default=Task.Source.MANUAL,
    )
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    lead_unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False
    )
    cooperating_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), many=True, required=False
    )
    responsible_leader = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )
    responsible_person = serializers.CharField(
        max_length=100, required=False, allow_blank=True
    )
    responsible_email = serializers.EmailField(required=False, allow_blank=True)
    requirements = serializers.CharField(required=False, allow_blank=True)
    task_type = serializers.ChoiceField(choices=Task.Type.choices, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        if attrs.get("finding") is None and not (
            attrs.get("title") and attrs.get("lead_unit")
        ):
            raise ValidationError(
                _("手工任务需要整改事项和牵头单位；或指定来源问题 finding。")
            )
        if attrs.get("finding") is not None:
            attrs.pop("source", None)
        return attrs


class TransitionSerializer(serializers.Serializer):
    action = serializers.CharField()
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    fields = serializers.DictField(required=False, default=dict)


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", default=None, read_only=True, allow_null=True
    )
    changes = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_changes(self, event: TaskEvent) -> dict:
        """A re-survey's figures only for readers who may see them (see access)."""
        changes = dict(event.changes or {})
        if "figures" in changes and not self.context.get("figures_visible"):
            changes.pop("figures")
        return changes

    class Meta:
        model = TaskEvent
        fields = [
            "id",
            "kind",
            "actor",
            "at",
            "action",
            "from_state",
            "to_state",
            "changes",
            "comment",
        ]


class ExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "reason",
            "new_due_date",
            "requested_at",
            "status",
            "decided_at",
            "decision_comment",
        ]
        read_only_fields = ["requested_at", "status", "decided_at", "decision_comment"]


class ProgressSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class EvidenceSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)

    class Meta:
        model = Evidence
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download",
        ]

    def get_download(self, evidence: Evidence) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("evidence-download", args=[evidence.pk])
        )


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_("PDF、图片、DOCX 或 XLSX，最大 20 MB；按内容识别类型。")
    )


class DecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


def _clean_fields(raw: dict, allowed: set[str]) -> dict:
    """Field values from JSON into Python: dates and units by id."""
    clean = {}
    for name, value in raw.items():
        if name not in allowed:
            raise ValidationError({f"fields.{name}": [_("不能修改此字段。")]})
        if name == "due_date" and value is not None:
            try:
                value = date.fromisoformat(value)
            except (TypeError, ValueError):
                raise ValidationError(
                    {"fields.due_date": [_("日期格式应为 YYYY-MM-DD。")]}
                ) from None
        elif name == "lead_unit":
            value = (
                Unit.objects.filter(pk=value).first()
                if isinstance(value, int)
                else None
            )
            if value is None:
                raise ValidationError({"fields.lead_unit": [_("没有这个单位。")]})
        elif not isinstance(value, str):
            raise ValidationError({f"fields.{name}": [_("应为文本。")]})
        clean[name] = value
    return clean


class TaskViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Rectification tasks (整改任务) of your scope. State changes only through ``transitions``."""

    serializer_class = TaskSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = [
        "campaign",
        "state",
        "colour",
        "lead_unit",
        "source",
        "interview_candidate",
    ]

    def get_queryset(self):
        tasks = visible_tasks(self.request.user).prefetch_related("cooperating_units")
        if self.request.query_params.get("overdue") in {"1", "true"}:
            tasks = tasks.filter(
                due_date__lt=timezone.localdate(),
                state__in=[
                    Task.State.ASSIGNED,
                    Task.State.IN_PROGRESS,
                    Task.State.UNDER_REVIEW,
                ],
            )
        return tasks.order_by("due_date", "id")

    @extend_schema(
        request=TaskCreateSerializer,
        responses={
            201: TaskSerializer,
            404: OpenApiResponse(description="The finding is not in your scope."),
        },
    )
    def create(self, request: Request) -> Response:
        """The office creates a task from a confirmed finding (several per finding are
        fine) or by hand (an inspection, say)."""
        form = TaskCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        fields = dict(form.validated_data)
        finding = fields.pop("finding", None)
        if (
            finding is not None
            and not Finding.objects.filter(
                pk=finding.pk,
                campaign__organizer__in=scope_for(request.user).administered_units(),
            ).exists()
            and not scope_for(request.user).everything
        ):
            raise NotFound()
        task = _call(task_create, user=request.user, finding=finding, fields=fields)
        return Response(
            TaskSerializer(task, context={"request": request}).data, status=201
        )

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: TaskSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change fields without changing state (office: assignment; lead unit: plan)."""
        task = self.get_object()
        fields = _clean_fields(
            request.data if isinstance(request.data, dict) else {},
            OFFICE_FIELDS | MANAGER_FIELDS,
        )
        task = _call(task_update, task=task, user=request.user, fields=fields)
        return Response(TaskSerializer(task, context={"request": request}).data)

    @extend_schema(request=TransitionSerializer, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        """Take an action of METHODS §8 (verify, dismiss, assign, submit_plan,
        request_acceptance, return, accept, close, reopen). A refusal is 409 with the
        current ``state``, the ``action`` and the ``allowed_actions``."""
        task = self.get_object()
        form = TransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        fields = _clean_fields(
            form.validated_data["fields"], OFFICE_FIELDS | MANAGER_FIELDS
        )
        task = _call(
            task_transition,
            task=task,
            action=form.validated_data["action"],
            user=request.user,
            comment=form.validated_data["comment"],
            fields=fields,
        )
        return Response(TaskSerializer(task, context={"request": request}).data)

    @extend_schema(responses={200: EventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The audit trail, oldest first."""
        task = self.get_object()
        events = task.events.select_related("actor").order_by("at", "id")
        page = self.paginate_queryset(events)
        context = {
            "request": request,
            "figures_visible": resurvey_for(request.user, task) is not None,
        }
        return self.get_paginated_response(
            EventSerializer(page, many=True, context=context).data
        )

    @extend_schema(request=ProgressSerializer, responses={201: EventSerializer})
    @action(detail=True, methods=["post"])
    def progress(self, request: Request, pk: str | None = None) -> Response:
        """A progress report by the lead unit (``{"text": …}``); no change of state."""
        task = self.get_object()
        form = ProgressSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        event = _call(
            task_report_progress,
            task=task,
            user=request.user,
            text=form.validated_data["text"],
        )
        return Response(EventSerializer(event).data, status=201)

    @extend_schema(
        request=ExtensionSerializer,
        responses={200: ExtensionSerializer(many=True), 201: ExtensionSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def extensions(self, request: Request, pk: str | None = None) -> Response:
        """Extension requests: the lead unit asks, the office decides."""
        task = self.get_object()
        if request.method == "GET":
            return Response(ExtensionSerializer(task.extensions.all(), many=True).data)
        form = ExtensionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        created = _call(
            extension_request,
            task=task,
            user=request.user,
            reason=form.validated_data["reason"],
            new_due_date=form.validated_data["new_due_date"],
        )
        return Response(ExtensionSerializer(created).data, status=201)

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={200: EvidenceSerializer(many=True), 201: EvidenceSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
    )
    def evidence(self, request: Request, pk: str | None = None) -> Response:
        """Evidence (佐证材料) of the task, with sha256; uploads by the lead unit or the office.
        Files are served only through their download links, to those who see the task."""
        task = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            return Response(
                EvidenceSerializer(
                    task.evidence.order_by("uploaded_at", "id"),
                    many=True,
                    context=context,
                ).data
            )
        form = EvidenceUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        stored = _call(
            evidence_add,
            task=task,
            user=request.user,
            upload=form.validated_data["file"],
        )
        return Response(EvidenceSerializer(stored, context=context).data, status=201)

    @extend_schema(request=DecideSerializer, responses={200: ExtensionSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"extensions/(?P<extension_id>\d+)/decide",
    )
    def decide_extension(
        self, request: Request, pk: str | None = None, extension_id: str | None = None
    ) -> Response:
        task = self.get_object()
        extension = get_object_or_404(task.extensions, pk=extension_id)
        form = DecideSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        decided = _call(
            extension_decide,
            request=extension,
            user=request.user,
            approve=form.validated_data["approve"],
            comment=form.validated_data["comment"],
        )
        return Response(ExtensionSerializer(decided).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int),
            OpenApiParameter("filetype", enum=["json", *CONTENT_TYPES]),
        ],
        responses=file_responses(json=OpenApiTypes.OBJECT),
    )
    @action(detail=False, methods=["get"])
    def ledger(self, request: Request) -> Response | HttpResponse:
        """整改台账: closure rate, average days to close, a per-unit table; or the
        whole ledger as CSV/XLSX in the usual column order (``filetype``)."""
        tasks = self.filter_queryset(self.get_queryset())
        filetype = request.query_params.get("filetype", "json")
        if filetype in CONTENT_TYPES:
            response = HttpResponse(
                ledger_table(tasks, fmt=filetype), content_type=CONTENT_TYPES[filetype]
            )
            response["Content-Disposition"] = (
                f'attachment; filename="ledger.{filetype}"'
            )
            return response
        if filetype != "json":
            raise ValidationError({"filetype": [_("只支持 json、csv 或 xlsx。")]})
        return Response({**ledger_summary(tasks), "units": ledger_rows(tasks)})


class AnalyzeView(GenericAPIView):
    queryset = Task.objects.none()  # for the schema
    permission_classes = [IsAuthenticated]
    serializer_class = serializers.Serializer

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, campaign_pk: int) -> Response:
        """Run the analysis now (the office): results, findings, and the verdicts of
        tasks awaiting this re-survey. Returns the run and the counts."""
        campaign = get_object_or_404(
            Campaign.objects.for_scope(scope_for(request.user)), pk=campaign_pk
        )
        if not scope_for(request.user).can_administer(campaign.organizer_id):
            raise PermissionDenied()
        try:
            run = campaign_analyze(campaign=campaign)
        except StateError as refused:
            raise Refused({"detail": refused.message, "code": refused.code}) from None
        verdicts = tasks_resurvey(run=run)
        return Response(
            {
                "run": run.pk,
                "created_at": run.created_at,
                "n_responses": run.n_responses,
                "findings": campaign.findings.count(),
                "resurveyed_tasks": [task.pk for task in verdicts],
                "settings": run.settings,
            },
            status=status.HTTP_201_CREATED,
        )
