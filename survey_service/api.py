"""API conventions shared by every app: pagination and the one error shape.

Every 4xx answer of the API has the body ``{"detail": str, "errors": {path: [str]}}``.
``errors`` names each bad field by its path: ``answers.2.level`` is the ``level``
of the third answer; ``non_field_errors`` holds errors about the whole body.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    """DRF's page numbers, with a page size that is refused when it is not one.

    DRF falls back to the default size on ``page_size=abc`` or ``0``; a client
    should learn that its parameter was wrong (400), as the schema says."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: HttpRequest) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (
            raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size
        ):
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("每页条数应为 1 到 %(max)d 之间的整数。")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_page_number(self, request: HttpRequest, paginator: Any) -> str | int:
        # DRF reads an empty page as the first and "last" as the last; the schema
        # promises an integer, so anything else is no such page (404).
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit()):
            raise exceptions.NotFound(self.invalid_page_message.format(page_number=raw))
        return raw

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


def flatten_errors(data: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into ``{"a.0.b": [messages]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, messages in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(messages)
    elif isinstance(data, list):
        if all(not isinstance(item, (dict, list)) for item in data):
            if data:
                flat[prefix or "non_field_errors"] = [str(item) for item in data]
        else:
            for index, item in enumerate(data):
                path = f"{prefix}.{index}" if prefix else str(index)
                for sub_path, messages in flatten_errors(item, path).items():
                    flat.setdefault(sub_path, []).extend(messages)
    elif data not in (None, ""):
        flat[prefix or "non_field_errors"] = [str(data)]
    return flat


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(response.data)
        detail = _("提交的数据有误，请按 errors 中的说明修改。")
        if (
            list(errors) == ["non_field_errors"]
            and len(errors["non_field_errors"]) == 1
        ):
            detail = errors["non_field_errors"][0]
        response.data = {"detail": detail, "errors": errors}
        return response
    data = (
        response.data if isinstance(response.data, dict) else {"detail": response.data}
    )
    body = {"detail": str(data.get("detail", "")), "errors": data.get("errors") or {}}
    body.update({key: value for key, value in data.items() if key not in body})
    response.data = body
    return response


def _json_error(status_code: int, detail: str) -> JsonResponse:
    return JsonResponse(
        {"detail": detail, "errors": {}},
        status=status_code,
        json_dumps_params={"ensure_ascii": False},
    )


def api_not_found(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return _json_error(status.HTTP_404_NOT_FOUND, _("未找到。"))
