"""What the header needs on every page: whether the reader is an office, asked
only when a template looks (the anonymous pages never do)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .access import scope_for


def roles(request: HttpRequest) -> dict[str, object]:
    return {
        "reader_is_office": SimpleLazyObject(
            lambda: scope_for(getattr(request, "user", None)).is_office
        )
    }
