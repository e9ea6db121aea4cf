from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from survey_service.openapi import file_responses
from survey_service.spreadsheets import CONTENT_TYPES

from .access import scope_for
from .filters import UnitFilter
from .permissions import IsOfficeForWrites
from .serializers import (
    UnitImportResultSerializer,
    UnitImportSerializer,
    UnitSerializer,
)
from .services import ImportRefused, unit_save, units_export, units_import


class UnitViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The organisation tree. Everyone sees the units of their scope; the office edits.

    Units are never deleted (results and tasks refer to them): set ``active`` false.
    """

    serializer_class = UnitSerializer
    permission_classes = [IsOfficeForWrites]
    filterset_class = UnitFilter
    ordering_fields = ["code", "name", "sort_order"]

    def get_queryset(self):
        return scope_for(self.request.user).visible_units().select_related("parent")

    def perform_create(self, serializer: UnitSerializer) -> None:
        serializer.instance = unit_save(
            unit=serializer.Meta.model(**serializer.validated_data)
        )

    def perform_update(self, serializer: UnitSerializer) -> None:
        unit = serializer.instance
        for key, value in serializer.validated_data.items():
            setattr(unit, key, value)
        unit_save(unit=unit)

    @extend_schema(
        request={"multipart/form-data": UnitImportSerializer},
        responses={
            200: UnitImportResultSerializer,
            400: OpenApiResponse(description="bad rows"),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_file(self, request: Request) -> Response:
        """Import units from CSV or XLSX, all or nothing; errors are keyed ``rows.<row number>``."""
        if not scope_for(request.user).administers_all():
            raise PermissionDenied(_("只有全校范围的领导小组办公室可以导入单位。"))
        form = UnitImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        try:
            result = units_import(data=upload.read(), filename=upload.name)
        except ImportRefused as refused:
            return Response(
                {
                    "detail": _("导入失败，未写入任何数据：%(n)d 处错误。")
                    % {"n": len(refused.errors)},
                    "errors": refused.as_dict(),
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(UnitImportResultSerializer(result).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("filetype", enum=list(CONTENT_TYPES), default="csv")
        ],
        responses=file_responses(),
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export_file(self, request: Request) -> HttpResponse:
        """The units of your scope as CSV or XLSX, with the import's columns."""
        filetype = request.query_params.get("filetype", "csv")
        if filetype not in CONTENT_TYPES:
            raise ValidationError({"filetype": [_("只支持 csv 或 xlsx。")]})
        units = self.filter_queryset(self.get_queryset())
        response = HttpResponse(
            units_export(units, fmt=filetype), content_type=CONTENT_TYPES[filetype]
        )
        response["Content-Disposition"] = f'attachment; filename="units.{filetype}"'
        return response
