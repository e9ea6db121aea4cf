from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .access import scope_for
from .models import Unit


class UnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    category_display = serializers.CharField(
        source="get_category_display", read_only=True
    )
    parent_code = serializers.SerializerMethodField()

    class Meta:
        model = Unit
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "kind_display",
            "category",
            "category_display",
            "parent",
            "parent_code",
            "active",
            "sort_order",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent_code(self, unit: Unit) -> str | None:
        # A method, not source="parent.code": DRF leaves a dotted source's default
        # out of a PATCH answer, and the schema promises the key.
        return unit.parent.code if unit.parent_id else None

    def validate_parent(self, parent: Unit | None) -> Unit | None:
        scope = scope_for(self.context["request"].user)
        if parent is not None and not scope.can_administer(parent):
            raise serializers.ValidationError(_("您无权在该上级单位下管理单位。"))
        return parent

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unit = self.instance or Unit()
        for key, value in attrs.items():
            setattr(unit, key, value)
        try:
            unit.full_clean(validate_unique=False)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class UnitImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_(
            ".csv（UTF-8 或 GB18030）或 .xlsx，列：code, name, kind, category, parent_code"
        )
    )


class UnitImportResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())
    encoding = serializers.CharField()
