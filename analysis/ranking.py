"""A unit's place among all the school's units of its kind, for readers who see
only some units (a unit's manager): "全校二级党组织第2名（共6个）".

The place is read from the whole school's unit rows, which such a reader may not
see; only the ordinal comes out, and only when it tells nothing of a hidden row
(docs/methods.md §6):

- ranks use the empirical-Bayes shrinkage of shown rows, which is computed from
  the shown rows of the family alone, so no hidden unit moves them;
- when any unit of the kind is hidden, no unit of that kind gets a place: "of
  how many" would count the hidden units, and a place among the shown ones
  would say how many there are;
- a completely pooled family (every shrunk estimate equal) has no order to tell,
  and one unit alone has no place among others.
"""

from __future__ import annotations

from dataclasses import dataclass

from organizations.models import Unit

from .access import Reading
from .models import Result

# Shrunk estimates equal to this many places are a tie, as on the overview.
PLACES = 6


@dataclass(frozen=True)
class SchoolRank:
    rank: int
    total: int
    kind: str  # the unit kind's label, e.g. 二级党组织


def school_ranks(reading: Reading) -> dict[int, SchoolRank]:
    """Unit id → its place among the school's units of its kind in this run
    (competition ranking: tied units share the higher place)."""
    if not reading.allowed:
        return {}
    rows = reading.run.results.filter(level=Result.Level.UNIT).values_list(
        "unit_id", "unit_kind", "suppressed", "shrunk", "rate"
    )
    families: dict[str, list[tuple[int, bool, float | None]]] = {}
    for unit_id, kind, suppressed, shrunk, rate in rows:
        value = shrunk if shrunk is not None else rate
        families.setdefault(kind, []).append((unit_id, suppressed, value))
    ranks: dict[int, SchoolRank] = {}
    for kind, family in families.items():
        if len(family) < 2 or any(hidden or v is None for _, hidden, v in family):
            continue
        values = {unit_id: round(value, PLACES) for unit_id, _, value in family}
        if len(set(values.values())) == 1:
            continue
        label = str(Unit.Kind(kind).label) if kind in Unit.Kind.values else kind
        for unit_id, value in values.items():
            above = sum(1 for other in values.values() if other > value)
            ranks[unit_id] = SchoolRank(above + 1, len(family), label)
    return ranks
