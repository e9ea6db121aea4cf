"""Management API: scales, questionnaires, rounds, points and commitments, scoped by role."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.access import scope_for

from .models import Campaign, CollectionPoint, Commitment, Questionnaire, Scale
from .round_settings import API_RULES, campaign_create, campaign_update
from .serializers import (
    CampaignSerializer,
    CommitmentSerializer,
    PointSerializer,
    QuestionnaireSerializer,
    QuestionnaireSpecSerializer,
    ScaleSerializer,
)
from .services import (
    ServiceError,
    StateError,
    campaign_close,
    campaign_open,
    campaign_publish,
    questionnaire_create,
    questionnaire_new_version,
    questionnaire_publish,
    questionnaire_replace_draft,
    scale_create,
    scale_update,
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def service_call(function, **kwargs):
    """Run a service; its refusals become 409 (state) or 400 (input) in the error shape."""
    try:
        return function(**kwargs)
    except StateError as exc:
        raise Conflict({"detail": exc.message, "code": exc.code}) from None
    except ServiceError as exc:
        raise ValidationError({"non_field_errors": [exc.message]}) from None


class OfficeWrites(BasePermission):
    """Every role reads; only an office (领导小组办公室) writes (its own rounds)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or scope_for(request.user).is_office


class SchoolOfficeWrites(BasePermission):
    """Every role reads; only the school's office writes.

    Scales and questionnaires are shared by the whole school: the office of one
    二级党组织 may not rescore a scale every unit is measured on."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return (
            request.method in SAFE_METHODS or scope_for(request.user).administers_all()
        )


class ScaleViewSet(viewsets.ModelViewSet):
    """Answer scales. The office adds scales and changes scores; levels stay fixed."""

    serializer_class = ScaleSerializer
    permission_classes = [SchoolOfficeWrites]
    queryset = Scale.objects.prefetch_related("levels")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer: ScaleSerializer) -> None:
        # The description is optional in the body, not in the service.
        serializer.instance = service_call(
            scale_create, **{"description": "", **serializer.validated_data}
        )

    def perform_update(self, serializer: ScaleSerializer) -> None:
        key = serializer.validated_data.pop("key", serializer.instance.key)
        if key != serializer.instance.key:
            raise ValidationError({"key": [_("量表标识不能修改。")]})
        data = {
            "name": serializer.instance.name,
            "description": serializer.instance.description,
            "levels": ScaleSerializer(serializer.instance).data["levels"],
            **serializer.validated_data,
        }
        serializer.instance = service_call(
            scale_update, scale=serializer.instance, **data
        )


class QuestionnaireViewSet(viewsets.ModelViewSet):
    """Questionnaire versions. Published versions are frozen: edit by ``new_version``."""

    serializer_class = QuestionnaireSerializer
    permission_classes = [SchoolOfficeWrites]
    queryset = Questionnaire.objects.all()
    filterset_fields = ["key", "target_kind"]
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    @extend_schema(
        request=QuestionnaireSpecSerializer, responses={201: QuestionnaireSerializer}
    )
    def create(self, request: Request) -> Response:
        spec = QuestionnaireSpecSerializer(data=request.data)
        spec.is_valid(raise_exception=True)
        if (
            Questionnaire.objects.drafts()
            .filter(key=spec.validated_data["key"])
            .exists()
        ):
            raise Conflict(
                {
                    "detail": _("该问卷已有一个未发布的草稿版本。"),
                    "code": "draft_exists",
                }
            )
        questionnaire = service_call(questionnaire_create, spec=spec.validated_data)
        return Response(QuestionnaireSerializer(questionnaire).data, status=201)

    @extend_schema(
        request=QuestionnaireSpecSerializer, responses={200: QuestionnaireSerializer}
    )
    def update(self, request: Request, pk: str | None = None) -> Response:
        questionnaire = self.get_object()
        if questionnaire.is_published:
            raise Conflict(
                {
                    "detail": _("已发布的问卷不能修改；请用 new_version 新建版本。"),
                    "code": "frozen",
                }
            )
        spec = QuestionnaireSpecSerializer(data=request.data)
        spec.is_valid(raise_exception=True)
        replaced = service_call(
            questionnaire_replace_draft,
            questionnaire=questionnaire,
            spec=spec.validated_data,
        )
        return Response(QuestionnaireSerializer(replaced).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        questionnaire = self.get_object()
        if questionnaire.is_published:
            raise Conflict({"detail": _("已发布的问卷不能删除。"), "code": "frozen"})
        questionnaire.delete()
        return Response(status=204)

    @extend_schema(request=None, responses={200: QuestionnaireSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        questionnaire = service_call(
            questionnaire_publish, questionnaire=self.get_object()
        )
        return Response(QuestionnaireSerializer(questionnaire).data)

    @extend_schema(request=None, responses={201: QuestionnaireSerializer})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request: Request, pk: str | None = None) -> Response:
        draft = service_call(questionnaire_new_version, questionnaire=self.get_object())
        return Response(QuestionnaireSerializer(draft).data, status=201)


class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Rounds (评议轮次). The office creates them and moves them draft → open → closed → published."""

    serializer_class = CampaignSerializer
    permission_classes = [OfficeWrites]
    filterset_fields = ["status", "access_mode"]

    def get_queryset(self):
        return (
            Campaign.objects.for_scope(scope_for(self.request.user))
            .prefetch_related("questionnaire_choices")
            .order_by("-opens_at", "-id")
        )

    def perform_create(self, serializer: CampaignSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = service_call(
            campaign_create,
            organizer=data["organizer"],
            user=self.request.user,
            fields=serializer.service_fields(data),
            rules=API_RULES,
        )

    def perform_update(self, serializer: CampaignSerializer) -> None:
        self._check_administers(serializer.instance)
        data = serializer.validated_data
        serializer.instance = service_call(
            campaign_update,
            campaign=serializer.instance,
            user=self.request.user,
            organizer=data.get("organizer"),
            fields=serializer.service_fields(data),
            rules=API_RULES,
        )

    def _check_administers(self, campaign: Campaign) -> None:
        if not scope_for(self.request.user).can_administer(campaign.organizer_id):
            raise PermissionDenied()

    def _transition(self, function) -> Response:
        campaign = self.get_object()
        self._check_administers(campaign)
        service_call(function, campaign=campaign)
        campaign.refresh_from_db()
        return Response(
            CampaignSerializer(campaign, context=self.get_serializer_context()).data
        )

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"], url_path="open")
    def open_round(self, request: Request, pk: str | None = None) -> Response:
        """draft → open; creates a collection point for every evaluated unit."""
        return self._transition(campaign_open)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"], url_path="close")
    def close_round(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(campaign_close)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"], url_path="publish")
    def publish_round(self, request: Request, pk: str | None = None) -> Response:
        """closed → published; units may read their results."""
        return self._transition(campaign_publish)


class PointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Collection points of a round with their QR codes and posters; only units in your scope."""

    serializer_class = PointSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["unit"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return CollectionPoint.objects.none()
        scope = scope_for(self.request.user)
        campaign = get_object_or_404(
            Campaign.objects.for_scope(scope), pk=self.kwargs["campaign_pk"]
        )
        return (
            CollectionPoint.objects.filter(
                campaign=campaign, unit__in=scope.visible_units()
            )
            .select_related("unit", "campaign")
            .with_counts()
            .order_by("unit__sort_order", "unit__code")
        )


class CommitmentViewSet(viewsets.ModelViewSet):
    """Commitments (承诺) per unit and round: managers write their own units', all read theirs."""

    serializer_class = CommitmentSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["campaign", "unit"]

    def get_queryset(self):
        scope = scope_for(self.request.user)
        units = (
            scope.visible_units()
            if self.request.method in SAFE_METHODS
            else scope.actionable_units()
        )
        return Commitment.objects.filter(unit__in=units).order_by(
            "campaign", "unit", "order", "id"
        )

    def perform_destroy(self, instance: Commitment) -> None:
        if instance.campaign.status not in (
            Campaign.Status.DRAFT,
            Campaign.Status.OPEN,
        ):
            raise Conflict(
                {"detail": _("轮次已结束，承诺不能再修改。"), "code": "closed"}
            )
        instance.delete()
