"""Anonymity thresholds on results (docs/methods.md §6), decided once per analysis run.

A group is hidden from every reader but the office's raw-count view when its
number of valid answers is below the round's ``min_group_size``. Then, until
nothing changes, so that no two published figures give a hidden one away:

- Sums. A category row is the sum of its unit rows; the school row is the sum of
  the category rows and of any unit in no category. In every such sum, if exactly
  one of the parent and its children is hidden, subtraction would give it back:
  the smallest shown child is hidden too (or, when the hidden one is the only
  child, the parent). A unit with no responses counts as known: its figures are
  all zero and belong to nobody. A category hidden to protect another category thus also
  hides one of its own units, else its units would add up to it.
- Rows over several items. A dimension row pools the answers to its questions:
  its rates' common denominator is the pooled number of answers, which beside the
  shown questions gives a hidden question's count and rate back (it is the only
  whole number that fits every rate). A unit without a 总体评价 question averages
  its questions' rates: m times its rate minus the shown ones is the hidden one.
  So a row over a hidden question is hidden.
- Breakdowns. A hidden unit takes its dimension and question rows with it (its
  总体评价 question has the unit's very counts), and so does a unit under
  ``min_breakdown_size`` (any breakdown needs n ≥ 10).

Figures computed across a family of rows (Benjamini–Hochberg q-values, flags,
shrinkage) are computed for shown rows from shown rows only
(``analysis.results.compute_statistics``), so they carry nothing of a hidden one.
"""

from __future__ import annotations

from collections import defaultdict

from .models import Result
from .rows import Row


def _sum_tables(rows: list[Row]) -> list[tuple[Row, list[Row]]]:
    """(parent, children) for every row that is the sum of other rows."""
    units = [row for row in rows if row.level == Result.Level.UNIT]
    categories = {
        row.category: row for row in rows if row.level == Result.Level.CATEGORY
    }
    tables = [
        (parent, [unit for unit in units if unit.category == category])
        for category, parent in categories.items()
    ]
    school = next((row for row in rows if row.level == Result.Level.SCHOOL), None)
    if school is not None:
        loose = [unit for unit in units if unit.category not in categories]
        tables.append((school, [*categories.values(), *loose]))
    return [(parent, children) for parent, children in tables if children]


def _pools(rows: list[Row]) -> list[tuple[Row, list[Row]]]:
    """(pooled row, the question rows whose answers it pools)."""
    questions: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        if row.level == Result.Level.QUESTION and row.unit is not None:
            questions[row.unit.pk].append(row)
    pools = []
    for row in rows:
        if row.unit is None:
            continue
        own = questions.get(row.unit.pk, [])
        if row.level == Result.Level.DIMENSION:
            items = [q for q in own if q.dimension_code == row.dimension_code]
            pools.append((row, items))
        elif row.level == Result.Level.UNIT and row.source == "items":
            pools.append((row, own))
    return [(parent, items) for parent, items in pools if items]


def suppress(
    rows: list[Row], *, min_group_size: int, min_breakdown_size: int = 10
) -> set[int]:
    """The ``id()`` of every row to hide; the rows themselves are not changed."""
    hidden = {id(row) for row in rows if row.n_valid < min_group_size}
    tables, pools = _sum_tables(rows), _pools(rows)
    units = [
        row for row in rows if row.level == Result.Level.UNIT and row.unit is not None
    ]
    breakdown = [
        row
        for row in rows
        if row.level in (Result.Level.DIMENSION, Result.Level.QUESTION)
        and row.unit is not None
    ]

    def hide(row: Row) -> bool:
        if id(row) in hidden:
            return False
        hidden.add(id(row))
        return True

    changed = True
    while changed:  # each pass can only add, so this ends
        changed = False
        for parent, children in tables:
            # A unit nobody answered for is all zeros: nothing to give away.
            unknown = [
                row
                for row in (parent, *children)
                if id(row) in hidden and (row.n_responses or row.n_answered)
            ]
            if len(unknown) != 1:
                continue
            shown = [row for row in children if id(row) not in hidden]
            changed |= hide(
                min(shown, key=lambda row: row.n_valid) if shown else parent
            )
        for parent, items in pools:
            if any(id(item) in hidden for item in items):
                changed |= hide(parent)
        closed = {
            row.unit.pk
            for row in units
            if id(row) in hidden or row.n_valid < min_breakdown_size
        }
        for row in breakdown:
            if row.unit.pk in closed:
                changed |= hide(row)
    return hidden
