"""What the results pages say about the methods' state in one round: φ and
whether it was applied, how far shrinkage pooled the units, and what each
unit's n can detect (docs/methods.md §3, "Shrinkage and ranking").

Read from the run's ``settings["method_state"]`` (written by
``results.compute_statistics``); a run analysed before it was recorded has none,
and the pages say so instead of guessing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from organizations.models import Unit

from . import stats

Row = dict[str, Any]
# Rows whose verdict is "not RED" without proof of 达标: the ones a reader might
# take for fine.
UNPROVEN = ("AMBER", "GREEN")


def round_method_state(settings: dict[str, Any], units: list[Row]) -> dict[str, Any]:
    """The context of ``analysis/_method_state.html`` for the unit rows shown.

    ``kinds``: per unit kind present, φ of the unit-level family and the
    shrinkage state; ``items``: how many dimension and question families had φ
    applied; ``power``: per AMBER/GREEN unit, the minimum detectable rate at its n
    and the respondents it would need for a verdict.
    """
    recorded = settings.get("method_state")
    if not recorded:
        return {"recorded": False}
    families = recorded.get("families", [])
    present = {row["unit_kind"] for row in units}
    kinds = [
        {
            "kind": family["unit_kind"],
            "label": _kind_label(family["unit_kind"]),
            "phi": family["overdispersion"],
            "shrinkage": family["shrinkage"],
        }
        for family in families
        if family["level"] == "unit" and family["unit_kind"] in present
    ]
    below = [
        family
        for family in families
        if family["level"] in ("dimension", "question")
        and family["unit_kind"] in present
    ]
    phi_of = {kind["kind"]: _factor(kind["phi"]) for kind in kinds}
    return {
        "recorded": True,
        "kinds": kinds,
        "items": {
            "families": len(below),
            "estimated": sum(f["overdispersion"]["phi"] is not None for f in below),
            "applied": sum(bool(f["overdispersion"]["applied"]) for f in below),
        },
        "power": unit_power(settings, units, phi_of),
    }


def unit_power(
    settings: dict[str, Any], units: list[Row], phi_of: dict[str, float]
) -> list[dict[str, Any]]:
    """Minimum detectable rate and respondents needed for the AMBER/GREEN rows,
    computed per unit kind (each with its own φ) on the distinct n."""
    target = float(settings.get("tested_target", settings["target"]))
    rules = {
        "min_n": int(settings["min_flag_size"]),
        "red_margin": float(settings["red_margin"]),
        "q_threshold": float(settings["q_threshold"]),
    }
    if not 0 < target < 1:
        return []
    rows = [
        row
        for row in units
        if row.get("flag") in UNPROVEN and row.get("rate") is not None
    ]
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_kind[row["unit_kind"]].append(row)
    found: dict[int, dict[str, Any]] = {}
    for kind, group in by_kind.items():
        phi = phi_of.get(kind, 1.0)
        n = np.array([row["n_valid"] for row in group], dtype=float)
        rate = np.array([row["rate"] for row in group], dtype=float)
        detectable = stats.minimum_detectable_rate(n, target, phi=phi, **rules)
        needed = stats.respondents_needed(
            rate,
            target,
            phi=phi,
            confidence=float(settings.get("confidence", 0.95)),
            **rules,
        )
        for row, low, more in zip(group, detectable, needed, strict=True):
            # Beside the verdict in the page's tables (analysis/_rate_cells.html).
            row["detectable"] = None if math.isnan(low) else float(low)
            found[id(row)] = {
                "row": row,
                "detectable": None if math.isnan(low) else float(low),
                "needed": None if math.isnan(more) else int(more),
                "enough": not math.isnan(more) and more <= row["n_valid"],
            }
    return [found[id(row)] for row in rows]


def _factor(state: dict[str, Any]) -> float:
    return float(state["phi"]) if state["applied"] and state["phi"] else 1.0


def funnel_phi(state: dict[str, Any]) -> float:
    """The φ the overview's funnel plot can use: the one unit kind's applied φ
    when the plot shows one kind; 1 when it shows several (their limits differ)."""
    kinds = state.get("kinds") or []
    return _factor(kinds[0]["phi"]) if len(kinds) == 1 else 1.0


def _kind_label(kind: str) -> str:
    try:
        return str(Unit.Kind(kind).label)
    except ValueError:
        return kind
