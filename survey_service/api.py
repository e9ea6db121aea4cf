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
    page_size_query_param = "page_size"
    max_page_size = 500


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
