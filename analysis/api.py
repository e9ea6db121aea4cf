"""Results, findings and analysis runs over the API; reading goes through analysis.access."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from organizations.access import scope_for
from questionnaires.api import service_call
from questionnaires.models import Campaign
from survey_service.openapi import file_responses
from survey_service.spreadsheets import CONTENT_TYPES

from .access import reading_for, result_rows, visible_findings
from .comments import unit_themes
from .exports import results_export
from .models import Finding, Result
from .services import finding_decide

LEVEL_PARAM = OpenApiParameter(
    "level",
    enum=list(Result.Level.values),
    description="school, category, unit, dimension or question",
)
RESULT_PARAMS = [
    LEVEL_PARAM,
    OpenApiParameter("unit", int, description="unit id"),
    OpenApiParameter("dimension", str, description="dimension code"),
    OpenApiParameter(
        "raw", bool, description="office only: show rows under the anonymity threshold"
    ),
]


def _campaign(request: Request, campaign_pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.for_scope(scope_for(request.user)), pk=campaign_pk
    )


def _query(request: Request) -> dict:
    level = request.query_params.get("level") or None
    if level and level not in Result.Level.values:
        raise ValidationError(
            {"level": [_("只能是 school、category、unit、dimension 或 question。")]}
        )
    unit = request.query_params.get("unit") or None
    if unit is not None:
        # Any integer is a unit id (one that does not exist finds nothing).
        if not re.fullmatch(r"-?[0-9]+", unit):
            raise ValidationError({"unit": [_("unit 必须是单位编号。")]})
        unit = int(unit)
    return {
        "level": level,
        "unit": unit,
        "dimension": request.query_params.get("dimension") or None,
        "raw": request.query_params.get("raw") in {"1", "true", "yes"},
    }


class ResultItemSerializer(serializers.Serializer):
    """Documentation of one result item (the view returns presented dicts)."""

    level = serializers.CharField()
    unit = serializers.IntegerField(allow_null=True)
    n_answered = serializers.IntegerField(allow_null=True)
    n_valid = serializers.IntegerField(allow_null=True)
    n_satisfied = serializers.IntegerField(allow_null=True)
    rate = serializers.FloatField(allow_null=True)
    rate_strict = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    q_value = serializers.FloatField(allow_null=True)
    flag = serializers.CharField()
    suppressed = serializers.BooleanField()
    settings = serializers.DictField()


class ResultListView(GenericAPIView):
    """Results of the latest analysis of a round, as the reader may see them.

    Managers and reviewers see results only once the round is published, and only
    for units in their scope plus the category and school rows; rows under the
    anonymity threshold have ``suppressed: true`` and no figures (the office can ask
    for ``raw=1``).
    """

    queryset = Result.objects.none()  # for the schema; rows come from analysis.access
    permission_classes = [IsAuthenticated]
    serializer_class = ResultItemSerializer

    @extend_schema(
        parameters=RESULT_PARAMS, responses={200: ResultItemSerializer(many=True)}
    )
    def get(self, request: Request, campaign_pk: int) -> Response:
        campaign = _campaign(request, campaign_pk)
        reading, rows = result_rows(request.user, campaign, **_query(request))
        if not reading.allowed:
            raise PermissionDenied(_("本轮结果尚未发布，或尚未统计。"))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(page)


class ResultExportView(GenericAPIView):
    queryset = Result.objects.none()  # for the schema; rows come from analysis.access
    permission_classes = [IsAuthenticated]
    serializer_class = ResultItemSerializer

    @extend_schema(
        parameters=[
            *RESULT_PARAMS,
            OpenApiParameter("filetype", enum=list(CONTENT_TYPES), default="csv"),
        ],
        responses=file_responses(),
    )
    def get(self, request: Request, campaign_pk: int) -> HttpResponse:
        """The same rows as the results list, as CSV or XLSX, with the same suppression."""
        campaign = _campaign(request, campaign_pk)
        filetype = request.query_params.get("filetype", "csv")
        if filetype not in CONTENT_TYPES:
            raise ValidationError({"filetype": [_("只支持 csv 或 xlsx。")]})
        query = _query(request)
        reading, rows = result_rows(request.user, campaign, **query)
        if not reading.allowed:
            raise PermissionDenied(_("本轮结果尚未发布，或尚未统计。"))
        response = HttpResponse(
            results_export(rows, fmt=filetype), content_type=CONTENT_TYPES[filetype]
        )
        name = f"results-{campaign.pk}-{query['level'] or 'all'}.{filetype}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ThemeListView(GenericAPIView):
    queryset = Result.objects.none()  # for the schema; rows come from analysis.access
    permission_classes = [IsAuthenticated]
    serializer_class = serializers.Serializer

    @extend_schema(
        parameters=[
            OpenApiParameter("unit", int, required=True, description="unit id")
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, campaign_pk: int) -> Response:
        """Comment themes of one unit: keywords, count, share of negative ratings and
        masked examples — only where the unit's comments pass the anonymity thresholds."""
        campaign = _campaign(request, campaign_pk)
        unit_id = _query(request)["unit"]
        if unit_id is None:
            raise ValidationError({"unit": [_("请指定单位。")]})
        reading = reading_for(request.user, campaign, raw=_query(request)["raw"])
        if not reading.allowed:
            raise PermissionDenied(_("本轮结果尚未发布，或尚未统计。"))
        scope = scope_for(request.user)
        units = (
            scope.administered_units() if reading.is_office else scope.visible_units()
        )
        unit = get_object_or_404(units, pk=unit_id)
        comments, found = unit_themes(reading, unit)
        return Response(
            {
                "unit": unit.pk,
                "allowed": comments.allowed,
                "reason": comments.reason,
                "themes": [
                    {
                        "key": theme.key,
                        "keywords": theme.keywords,
                        "count": theme.count,
                        "negative_share": theme.negative_share,
                        "examples": theme.examples,
                    }
                    for theme in found
                ],
            }
        )


class FindingSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    # Read-only model fields lose allow_blank in DRF, and so "" in the schema's
    # enum; a finding not yet decided has no verification.
    verification = serializers.ChoiceField(
        choices=Finding.Verification.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Finding
        fields = [
            "id",
            "campaign",
            "unit",
            "unit_code",
            "unit_name",
            "trigger",
            "dimension_code",
            "dimension_title",
            "theme_key",
            "title",
            "description",
            "severity",
            "evidence",
            "status",
            "verification",
            "decision_comment",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, finding: Finding) -> dict:
        data = super().to_representation(finding)
        request = self.context.get("request")
        hidden = finding.evidence.get("suppressed")
        if (
            hidden
            and request
            and not scope_for(request.user).can_administer(
                finding.campaign.organizer_id
            )
        ):
            # The unit's figures are under the anonymity rules: only the office sees them.
            data["evidence"] = {"suppressed": True}
        return data


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    verification = serializers.ChoiceField(
        choices=Finding.Verification.choices,
        required=False,
        allow_blank=True,
        default="",
    )


class FindingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """问题清单. The office confirms findings (they become rectification work) or
    dismisses them with a reason; units see their confirmed findings once published."""

    serializer_class = FindingSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["campaign", "unit", "status", "trigger"]

    def get_queryset(self):
        return visible_findings(self.request.user).order_by(
            "campaign", "unit__sort_order", "unit__code", "id"
        )

    def _decide(self, request: Request, confirm: bool) -> Response:
        finding = self.get_object()
        if not scope_for(request.user).can_administer(finding.campaign.organizer_id):
            raise PermissionDenied()
        form = DecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        decided = service_call(
            finding_decide,
            finding=finding,
            user=request.user,
            confirm=confirm,
            comment=form.validated_data["comment"],
            verification=form.validated_data["verification"],
        )
        return Response(
            FindingSerializer(decided, context=self.get_serializer_context()).data
        )

    @extend_schema(request=DecisionSerializer, responses={200: FindingSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, True)

    @extend_schema(request=DecisionSerializer, responses={200: FindingSerializer})
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        """Dismiss with a reason (``comment`` is required)."""
        return self._decide(request, False)
