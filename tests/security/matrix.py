"""The permission matrix's vocabulary: actors, statuses and rows (``case``).

Rows live in ``tests/security/test_permission_matrix.py`` (``MATRIX``) and, for
the pages added later, one module per topic under ``tests/security/matrix_rows/``:
each has ``ROWS`` (a list of ``case(...)``) and, when its rows need objects the
shared set-up lacks, ``setup(c)``, called at the end of ``setUpTestData`` with the
test class (set attributes on it: ``c.editor_draft = ...``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ACTORS = ("anonymous", "manager_a", "manager_b", "reviewer", "sub_office", "office")
UNSAFE = ("post", "put", "patch", "delete")


def S(*statuses: int) -> dict[str, int]:
    """Statuses in the order of ACTORS."""
    assert len(statuses) == len(ACTORS), statuses
    return dict(zip(ACTORS, statuses, strict=True))


def every(status: int, *, anonymous: int | None = None) -> dict[str, int]:
    statuses = dict.fromkeys(ACTORS, status)
    if anonymous is not None:
        statuses["anonymous"] = anonymous
    return statuses


PAGE = every(200, anonymous=302)  # a page every role reads; anonymous to the login
API = every(200, anonymous=401)  # an API read every role may make
POST_ONLY_PAGE = every(405, anonymous=302)  # GET on a page that only takes POST
POST_ONLY_API = every(405, anonymous=401)


@dataclass(frozen=True)
class Case:
    """One URL of a route, with the expected statuses per method and actor.

    ``path`` and string values of ``body`` are formatted with the test class as
    ``c`` ("{c.task.pk}"); ``body`` may also be a function of it."""

    name: str
    path: str
    methods: dict[str, dict[str, int]]
    body: dict[str, Any] | Callable[[Any], dict[str, Any]] = field(default_factory=dict)
    schema: str | None = None  # the OpenAPI path, for API operations
    multipart: bool = False  # API bodies are JSON unless this is set
    note: str = ""


Statuses = dict[str, int]


def case(
    name: str,
    path: str,
    *,
    get: Statuses | None = None,
    schema: str | None = None,
    body: dict[str, Any] | Callable[[Any], dict[str, Any]] | None = None,
    **kw: Any,
) -> Case:
    methods = {"get": get} if get is not None else {}
    methods |= {method: kw.pop(method) for method in UNSAFE if method in kw}
    return Case(name, path, methods, body or {}, schema, **kw)


def topic_modules() -> list[Any]:
    from tests.security import matrix_rows

    return [
        importlib.import_module(f"{matrix_rows.__name__}.{info.name}")
        for info in sorted(
            pkgutil.iter_modules(matrix_rows.__path__), key=lambda i: i.name
        )
    ]


def topic_rows() -> list[Case]:
    return [row for module in topic_modules() for row in module.ROWS]


def topic_setup(c: Any) -> None:
    for module in topic_modules():
        if hasattr(module, "setup"):
            module.setup(c)
