"""A collection point by its token, with its round, unit and questionnaire version.

What every submission (and every respondent page that is not served from the page
cache) reads first. The ORM's ``select_related(...).get(token=...)`` builds and
compiles the same four-table join on every request, which costs several times
the query itself; here the statement is written once per process from the
models' ``_meta`` and the rows become model instances as the ORM would make them
(every concrete field, each value through the field's and the backend's
converters, the related instances cached on the point), so callers see no
difference. The round is read fresh on every call: nothing here is cached but
the statement.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from organizations.models import Unit

from .models import Campaign, CollectionPoint, Questionnaire

# The point's foreign keys loaded with it, as select_related would name them.
RELATED = (("campaign", Campaign), ("unit", Unit), ("questionnaire", Questionnaire))
_ALIASES = ("p", "c", "u", "q")

Converter = Callable[[Any, Any, Any], Any]
_plans: weakref.WeakKeyDictionary[Any, tuple[str, list]] = weakref.WeakKeyDictionary()


def _plan() -> tuple[str, list[tuple[type[Model], list, list[list[Converter]]]]]:
    """The statement, and per model its attnames, columns and converters."""
    # The thread's connection itself (django.db.connection is a proxy): the
    # converters are bound to its backend.
    connection = connections[DEFAULT_DB_ALIAS]
    plan = _plans.get(connection)
    if plan is not None:
        return plan
    quote = connection.ops.quote_name
    models: list[type[Model]] = [CollectionPoint, *(model for _, model in RELATED)]
    select, parts = [], []
    for alias, model in zip(_ALIASES, models, strict=True):
        fields = model._meta.concrete_fields
        columns = [field.get_col(alias) for field in fields]
        select += [f"{alias}.{quote(field.column)}" for field in fields]
        converters = [
            connection.ops.get_db_converters(column)
            + column.get_db_converters(connection)
            for column in columns
        ]
        parts.append((model, [f.attname for f in fields], columns, converters))
    point = CollectionPoint._meta
    joins = " ".join(
        f"JOIN {quote(model._meta.db_table)} {alias} ON {alias}."
        f"{quote(model._meta.pk.column)} = p.{quote(point.get_field(name).column)}"
        for alias, (name, model) in zip(_ALIASES[1:], RELATED, strict=True)
    )
    sql = (
        f"SELECT {', '.join(select)} FROM {quote(point.db_table)} p {joins} "
        f"WHERE p.{quote(point.get_field('token').column)} = %s"
    )
    plan = _plans[connection] = (sql, parts)
    return plan


def point_by_token(token: str) -> CollectionPoint | None:
    """The point of ``token`` with its campaign, unit and questionnaire loaded, or
    None. The same instances as ``CollectionPoint.objects.select_related(
    "campaign", "unit", "questionnaire").get(token=token)``, in one plain query."""
    sql, parts = _plan()
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(sql, [token])
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model, attnames, columns, converters in parts:
        values = list(row[start : start + len(attnames)])
        start += len(attnames)
        for i, chain in enumerate(converters):
            for convert in chain:
                values[i] = convert(values[i], columns[i], connection)
        instances.append(model.from_db(connection.alias, attnames, values))
    point = instances[0]
    for (name, _model), related in zip(RELATED, instances[1:], strict=True):
        setattr(point, name, related)
    return point
