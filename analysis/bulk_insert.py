"""Writing many rows of one model at once: PostgreSQL's COPY, bulk_create elsewhere.

An analysis writes a few thousand Result rows of about fifty columns each.
``bulk_create`` prepares every value through its field (``get_db_prep_save``) and
psycopg then adapts each as a query parameter: 0.5 s for 3,300 rows, nearly all
of it in Python. COPY takes the rows as they are, so each column's conversion
is chosen once per model here, and psycopg writes the rows in C. The values are
those bulk_create would store: a field's Python value converted as its
``get_prep_value`` does for the types below, and every other field (JSON,
anything unlisted) through the field itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, models

BATCH = 1000  # rows per INSERT where there is no COPY


def _plain(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        return None if value is None else kind(value)

    return convert


def _converter(field: models.Field) -> Callable[[Any], Any]:
    """What turns the field's attribute into the value COPY writes."""
    if isinstance(field, models.ForeignKey):
        return _converter(field.target_field)
    if isinstance(field, models.BooleanField):
        return _plain(bool)
    if isinstance(field, models.FloatField):
        return _plain(float)
    if isinstance(field, models.IntegerField):
        return _plain(int)  # an IntegerChoices member is its value
    if isinstance(field, (models.CharField, models.TextField)):
        return _plain(str)  # a TextChoices member's str() is its value
    return lambda value: field.get_db_prep_save(value, connection)


def bulk_insert(model: type[models.Model], objects: Iterable[models.Model]) -> None:
    """Insert ``objects`` (unsaved instances) without reading anything back:
    their primary keys stay unset. No signals, as with bulk_create."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=BATCH)
        return
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField))
    ]
    converters = [(field.attname, _converter(field)) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for obj in objects:
            copy.write_row(
                [convert(getattr(obj, name)) for name, convert in converters]
            )
