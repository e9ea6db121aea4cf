"""The public respondent API for app clients (a WeChat mini-program, say).

Same validation, limits and anonymity as the HTML form: both call
:func:`questionnaires.services.response_submit`. No authentication and no cookies.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .forms_spec import form_spec
from .models import Campaign, CollectionPoint
from .point_lookup import point_by_token
from .ratelimit import client_address
from .respond import body_too_large
from .services import SubmissionInvalid, SubmissionRefused, point_state, response_submit

REFUSAL_STATUS = {
    "not_open": status.HTTP_403_FORBIDDEN,
    "closed": status.HTTP_410_GONE,
    "rate_limited": status.HTTP_429_TOO_MANY_REQUESTS,
    "ballot_required": status.HTTP_400_BAD_REQUEST,
    "ballot_unknown": status.HTTP_400_BAD_REQUEST,
    "ballot_used": status.HTTP_409_CONFLICT,
}


def _error(detail: str, code: str, status_code: int, errors=None) -> Response:
    return Response(
        {"detail": detail, "code": code, "errors": errors or {}}, status=status_code
    )


class SubmissionSerializer(serializers.Serializer):
    """Documentation of the body; validation is the service's, shared with the form."""

    answers = serializers.ListField(child=serializers.DictField())
    nonce = serializers.CharField(
        help_text=_("每份答卷一个随机串（16–64 个 URL 安全字符），重复提交只保存一次。")
    )
    ballot = serializers.CharField(
        required=False, help_text=_("一人一票方式下的选票码。")
    )


class PublicPointView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Not the API throttles: the flood limit per point and address governs
    # submissions here, as on the form (SUBMIT_RATE_LIMIT).
    throttle_classes: list = []
    parser_classes = [JSONParser]

    def _point(self, token: str) -> CollectionPoint:
        # With its round, unit and version, in one plain query (point_lookup).
        point = point_by_token(token)
        if point is None:
            raise NotFound(_("没有这个评议点。"))
        return point

    @extend_schema(
        responses={
            200: OpenApiResponse(
                description="round, unit, commitments and questionnaire"
            )
        }
    )
    def get(self, request: Request, token: str) -> Response:
        point = self._point(token)
        spec = form_spec(point.questionnaire)
        campaign = point.campaign
        return Response(
            {
                "campaign": {
                    "id": campaign.pk,
                    "title": campaign.title,
                    "opens_at": campaign.opens_at,
                    "closes_at": campaign.closes_at,
                    "state": point_state(point),
                    "access_mode": campaign.access_mode,
                },
                "unit": {"code": point.unit.code, "name": point.unit.name},
                "commitments": list(
                    point.unit.commitments.filter(campaign=campaign).values_list(
                        "text", flat=True
                    )
                ),
                "questionnaire": {
                    "id": spec.questionnaire_id,
                    "version": spec.version,
                    "title": spec.title,
                    "description": spec.description,
                    "questions": [
                        {
                            "id": q.id,
                            "kind": q.kind,
                            "text": q.text,
                            "help_text": q.help_text,
                            "required": q.required,
                            "headline": q.headline,
                            "dimension": q.dimension,
                            "levels": [
                                {"code": lv.code, "label": lv.label} for lv in q.levels
                            ],
                            "options": [
                                {"id": o.id, "label": o.label} for o in q.options
                            ],
                        }
                        for q in spec.questions
                    ],
                },
            }
        )

    @extend_schema(
        request=SubmissionSerializer,
        responses={
            201: inline_serializer(
                "SubmissionStored", {"stored": serializers.BooleanField()}
            ),
            400: OpenApiResponse(
                description="invalid answers: errors keyed answers.<index>.<field>"
            ),
            409: OpenApiResponse(description="ballot already used"),
            410: OpenApiResponse(description="round closed"),
            413: OpenApiResponse(description="body over 64 KB"),
            429: OpenApiResponse(description="rate limited"),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        if body_too_large(request):
            return _error(
                _("提交内容超过 64 KB。"),
                "too_large",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        point = self._point(token)
        body = request.data
        if not isinstance(body, dict):
            return _error(
                _("请求体必须是 JSON 对象。"),
                "invalid",
                400,
                {"non_field_errors": [_("请求体必须是 JSON 对象。")]},
            )
        unknown = set(body) - {"answers", "nonce", "ballot"}
        if unknown:
            return _error(
                _("未知字段。"),
                "invalid",
                400,
                {key: [_("未知字段。")] for key in sorted(unknown)},
            )
        if point.campaign.access_mode == Campaign.AccessMode.OPEN and body.get(
            "ballot"
        ):
            return _error(
                _("本轮评议不使用选票码。"),
                "invalid",
                400,
                {"ballot": [_("本轮评议不使用选票码。")]},
            )
        try:
            outcome = response_submit(
                point=point,
                answers=body.get("answers"),
                nonce=body.get("nonce"),
                ballot=body.get("ballot"),
                client_address=client_address(request),
            )
        except SubmissionInvalid as invalid:
            return _error(invalid.message, invalid.code, 400, invalid.errors.by_path)
        except SubmissionRefused as refused:
            # A refused ballot is a bad field of the body; the other refusals are
            # about the round or the client, not about any one field.
            errors = (
                {"ballot": [refused.message]}
                if refused.code.startswith("ballot_")
                else None
            )
            return _error(
                refused.message, refused.code, REFUSAL_STATUS[refused.code], errors
            )
        return Response({"stored": outcome.stored}, status=status.HTTP_201_CREATED)
