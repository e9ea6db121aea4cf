"""Regression to the mean in re-surveys (issue 12, item 8), by simulation.

Units are flagged RED in a baseline round and surveyed again. Where their true
rate has not changed, the re-survey still tends to look better: a unit is
flagged partly because its baseline answers were unlucky. The re-survey verdict
(``stats.improvement_decision``, with the baseline family's prior as
``analysis.baseline_priors`` fits it) must give such units IMPROVED at most 5%
of the time, and units whose rate truly rose mostly IMPROVED.

Rounds of 200 units, n from 10 to 200, target 95%, fixed seeds.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from analysis import stats
from analysis.baseline_priors import BaselinePriors, guard_arguments

TARGET = 0.95
UNITS = 200


def _true_rates(population: str, rng: np.random.Generator) -> np.ndarray:
    if population == "spread":  # units differ: Beta(60, 4), mean 93.75%
        return rng.beta(60, 4, UNITS)
    if population == "alike":  # every unit truly at 93%: every RED is luck
        return np.full(UNITS, 0.93)
    # Two kinds of unit, neither a beta distribution: the prior is misfitted.
    good = rng.random(UNITS) < 0.7
    return np.where(
        good, rng.uniform(0.93, 0.99, UNITS), rng.uniform(0.85, 0.95, UNITS)
    )


def _rows(k: np.ndarray, n: np.ndarray) -> list[SimpleNamespace]:
    """The baseline round's unit rows, as BaselinePriors reads Result rows."""
    return [
        SimpleNamespace(
            level="unit",
            unit_kind="branch",
            dimension_code="",
            question_code="",
            n_satisfied=int(ki),
            n_valid=int(ni),
            suppressed=False,
        )
        for ki, ni in zip(k, n, strict=True)
    ]


def simulate(
    population: str, *, rounds: int, seed: int, rise: float = 0.0
) -> dict[str, float]:
    """Share of baseline-RED units given IMPROVED by the verdict (``guarded``)
    and by the exact test alone without the guard (``test_alone``)."""
    rng = np.random.default_rng(seed)
    selected = guarded = test_alone = 0
    for _ in range(rounds):
        n = rng.integers(10, 201, UNITS)
        rate = _true_rates(population, rng)
        k0 = rng.binomial(n, rate)
        red = stats.assess_units(k0, n, TARGET).flag == stats.Flag.RED.value
        if not red.any():
            continue
        rows = _rows(k0, n)
        priors = BaselinePriors(rows)
        prior = [
            priors.of(row) for row, is_red in zip(rows, red, strict=True) if is_red
        ]
        n1 = n[red]
        k1 = rng.binomial(n1, np.minimum(rate[red] + rise, 0.99))
        p = stats.improvement_test(k0[red], n[red], k1, n1)
        decision = stats.improvement_decision(
            k0[red],
            n[red],
            k1,
            n1,
            TARGET,
            p_value=p,
            **guard_arguments(prior),
        )
        alone = stats.improvement_verdict(k0[red], n[red], k1, n1, TARGET, p_value=p)
        selected += int(red.sum())
        guarded += int((decision.verdict == "IMPROVED").sum())
        test_alone += int((alone == "IMPROVED").sum())
    return {
        "selected": selected,
        "guarded": guarded / selected,
        "test_alone": test_alone / selected,
    }


@pytest.mark.parametrize(
    ("population", "rounds", "seed"),
    [("spread", 40, 812), ("alike", 150, 813), ("mixed", 40, 814)],
)
def test_units_that_did_not_change_are_rarely_improved(
    population: str, rounds: int, seed: int
) -> None:
    result = simulate(population, rounds=rounds, seed=seed)
    assert result["selected"] >= 400, result
    assert result["guarded"] <= 0.05, result
    # Without the guard the same units "improve" far more often: the test
    # alone compares with a baseline chosen for being low.
    assert result["test_alone"] > 0.08, result


@pytest.mark.parametrize(
    ("population", "rounds", "seed"),
    [("spread", 40, 815), ("mixed", 40, 816)],
)
def test_units_that_truly_rose_ten_points_mostly_are(
    population: str, rounds: int, seed: int
) -> None:
    result = simulate(population, rounds=rounds, seed=seed, rise=0.10)
    assert result["selected"] >= 400, result
    assert result["guarded"] >= 0.75, result
