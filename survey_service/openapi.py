"""The OpenAPI schema: drf-spectacular's, plus the error answers of every operation.

An app generated from ``/api/schema/`` must be able to trust it: every status code
a view can answer is documented, with the one error body of survey_service.api.
Set as REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]; its own module because
survey_service.api is imported while DRF itself loads.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer (see the module docstring)."""

    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field path, e.g. answers.2.level; non_field_errors "
        "for the whole body.",
    )
    code = serializers.CharField(
        required=False, help_text="A machine-readable reason, where there is one."
    )


# The refusals the framework and our conventions give, documented once here rather
# than on every view. Each goes on the operations that can give it (see
# AutoSchema.error_statuses).
ERROR_DESCRIPTIONS = {
    "400": "Invalid input: each bad field is named in errors.",
    "401": "No credentials, or invalid ones.",
    "403": "Logged in, but this user may not do this.",
    "404": "No such object in your scope, or no such page.",
    "409": "Refused in the object's current state (detail and code say why).",
    "415": "Unsupported request body media type.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the error answers each operation can give.

    Every 4xx response carries the ``Error`` body; a view may still declare a code
    itself (with a description of its own) and it gets the body too."""

    def error_statuses(self, operation: dict[str, Any]) -> list[str]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        authenticated = not any(
            isinstance(permission, AllowAny)
            for permission in self.view.get_permissions()
        )
        codes = []
        # Ordering and the page number never refuse (a page past the end is a 404);
        # a page size or filter with a bad value does.
        checked = [
            p
            for p in parameters
            if p["in"] == "query" and p["name"] not in ("page", "ordering")
        ]
        if has_body or checked:
            codes.append("400")
        if authenticated:
            codes += ["401", "403"]
        if any(p["in"] == "path" for p in parameters) or any(
            p["name"] == "page" for p in parameters
        ):
            codes.append("404")
        if authenticated and self.method not in SAFE_METHODS:
            codes.append("409")
        if has_body:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        error = {
            "application/json": {
                "schema": self.resolve_serializer(ErrorSerializer, "response").ref
            }
        }
        responses = operation["responses"]
        for code in self.error_statuses(operation):
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                response["content"] = error
        return operation


def file_responses(json: Any = None) -> dict[Any, Any]:
    """``responses`` for a download in each of our spreadsheet formats (``filetype``),
    and in JSON too when ``json`` gives its schema."""
    from drf_spectacular.types import OpenApiTypes

    from .spreadsheets import CONTENT_TYPES

    responses: dict[Any, Any] = {
        (200, media_type.split(";")[0]): OpenApiTypes.BINARY
        for media_type in CONTENT_TYPES.values()
    }
    if json is not None:
        responses[(200, "application/json")] = json
    return responses


# Query parameters a view reads itself (not through django-filter): these refuse
# an empty value with 400, as their schema's enum says.
NOT_FILTERS = frozenset({"filetype", "level"})


def empty_query_choices(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A drf-spectacular post-processing hook: an empty choice filter
    (``?target_kind=``) means "all", as a form's 全部 sends it, and django-filter
    answers it so; the schema says so instead of promising a refusal."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                enum = schema.get("enum")
                if parameter.get("name") in NOT_FILTERS:
                    continue
                if parameter.get("in") == "query" and enum and "" not in enum:
                    if all(isinstance(value, str) for value in enum):
                        schema["enum"] = [*enum, ""]
    return result
