"""Anonymity thresholds on results (METHODS.md §6), decided once per analysis run.

A group is hidden from every reader but the office's raw-count view when its
number of valid answers is below the round's ``min_group_size``. Complementary
suppression: where a parent row is the sum of child rows (a dimension of its
questions, a category of its units, the school of its categories), one hidden
child among shown siblings could be recovered by subtraction, so the smallest
shown sibling is hidden too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable

from .models import Result
from .results import Row


def _protect(children: list[Row], hidden: set[int]) -> bool:
    """Hide one more child if exactly one is hidden; True if anything changed."""
    hidden_here = [row for row in children if id(row) in hidden]
    shown = [row for row in children if id(row) not in hidden]
    if len(hidden_here) == 1 and shown:
        smallest = min(shown, key=lambda row: row.n_valid)
        hidden.add(id(smallest))
        return True
    return False


def _has_parent(row: Row) -> bool:
    if row.level == Result.Level.QUESTION:
        return bool(row.dimension_code)
    return bool(row.category)  # units without a category are in no category row


def suppress(
    rows: list[Row], *, min_group_size: int, min_breakdown_size: int = 10
) -> set[int]:
    """The ``id()`` of every row to hide; the rows themselves are not changed.

    Besides the threshold and complementary suppression: a hidden unit takes its
    dimension and question rows with it (its 总体评价 question has the unit's very
    counts), and so does a unit under ``min_breakdown_size`` (METHODS.md §6: any
    breakdown needs n ≥ 10).
    """
    hidden = {id(row) for row in rows if row.n_valid < min_group_size}

    def groups(level: str, parent_of: Callable[[Row], Hashable]) -> list[list[Row]]:
        grouped: dict[Hashable, list[Row]] = defaultdict(list)
        for row in rows:
            if row.level == level:
                grouped[parent_of(row)].append(row)
        return list(grouped.values())

    # Questions inside a dimension of a unit; units inside a category; categories
    # inside the school. Repeat until nothing changes (each pass can only add).
    families = [
        *groups(
            Result.Level.QUESTION,
            lambda r: (r.unit.pk, r.dimension_code) if r.dimension_code else None,
        ),
        *groups(Result.Level.UNIT, lambda r: r.category),
        *groups(Result.Level.CATEGORY, lambda r: "school"),
    ]
    families = [
        family
        for family in families
        if len(family) > 1
        and (family[0].level == Result.Level.CATEGORY or _has_parent(family[0]))
    ]
    units = [
        row for row in rows if row.level == Result.Level.UNIT and row.unit is not None
    ]
    breakdown = [
        row
        for row in rows
        if row.level in (Result.Level.DIMENSION, Result.Level.QUESTION)
    ]
    changed = True
    while changed:
        changed = False
        for family in families:
            changed |= _protect(family, hidden)
        closed = {
            row.unit.pk
            for row in units
            if id(row) in hidden or row.n_valid < min_breakdown_size
        }
        for row in breakdown:
            if row.unit is not None and row.unit.pk in closed and id(row) not in hidden:
                hidden.add(id(row))
                changed = True
    return hidden
