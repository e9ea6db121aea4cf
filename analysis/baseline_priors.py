"""The baseline round's beta-binomial priors, for the re-survey's guard against
regression to the mean (docs/methods.md §4).

A row of a later round is compared with its row in the baseline round. The
baseline row's shrunken estimate needs the prior Beta(α, β) fitted across its
family in the baseline round: the rows of one level, unit kind and item, as
Benjamini–Hochberg and the shrinkage group them (analysis/results.py). Both the
result rows (``compare_with_baseline``) and the tasks
(``rectification.resurvey``) read the prior from here, so that one table gets
one verdict everywhere.

As in ``compute_statistics``, a shown row's prior is fitted on the family's
shown rows alone, and a hidden row's on the whole family.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import stats
from .models import Result

FamilyKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class Prior:
    """The baseline family's prior Beta(μM, (1 − μ)M): ``mean`` μ, the fitted
    ``concentration`` M (inf when completely pooled) and the ``plausible``
    concentrations the family's answers do not rule out
    (:func:`analysis.stats.plausible_concentrations`); NaN and empty when no
    prior was fitted. ``status``: the shrinkage fit's."""

    mean: float
    concentration: float
    plausible: tuple[float, ...]
    status: str

    def concentrations(self) -> list[float]:
        """The fitted M, then the plausible ones: the guard's columns."""
        return [self.concentration, *self.plausible]

    def figures(self) -> dict[str, object]:
        """JSON-safe figures (inf and NaN as None, with the status to read them)."""

        def number(value: float) -> float | None:
            return value if math.isfinite(value) else None

        plausible = [m for m in self.plausible if not math.isnan(m)]
        return {
            "status": self.status,
            "mean": number(self.mean),
            "concentration": number(self.concentration),
            "plausible": [number(min(plausible)), number(max(plausible))]
            if plausible
            else None,
        }


NO_PRIOR = Prior(math.nan, math.nan, (), "not_fitted")


def family_key(row: Result) -> FamilyKey:
    return (row.level, row.unit_kind, row.dimension_code, row.question_code)


class BaselinePriors:
    """The priors of one baseline run's families, fitted once each on demand."""

    def __init__(self, rows: Iterable[Result]) -> None:
        self._counts: dict[FamilyKey, list[tuple[int, int, bool]]] = defaultdict(list)
        for row in rows:
            if row.n_valid > 0:
                self._counts[family_key(row)].append(
                    (row.n_satisfied, row.n_valid, row.suppressed)
                )
        self._fits: dict[tuple[FamilyKey, bool], Prior] = {}

    def of(self, row: Result) -> Prior:
        """The prior for the baseline ``row``: its shown family, or the whole
        family when the row itself is hidden."""
        key = (family_key(row), bool(row.suppressed))
        if key not in self._fits:
            members = [
                (k, n)
                for k, n, hidden in self._counts.get(key[0], [])
                if key[1] or not hidden
            ]
            self._fits[key] = _fit(members)
        return self._fits[key]

    @classmethod
    def of_run(cls, run) -> BaselinePriors:
        """From the stored rows of ``run`` (an AnalysisRun), in one query."""
        return cls(
            run.results.only(
                "level",
                "unit_kind",
                "dimension_code",
                "question_code",
                "n_satisfied",
                "n_valid",
                "suppressed",
            )
        )


def _fit(members: list[tuple[int, int]]) -> Prior:
    if len(members) < 2:
        return NO_PRIOR
    k, n = np.array(members, dtype=float).T
    fit = stats.beta_binomial_shrinkage(k, n)
    if fit.status == "not_fitted":
        return NO_PRIOR
    mean = float(fit.prior_mean)
    plausible = stats.plausible_concentrations(k, n, mean)
    return Prior(
        mean=mean,
        concentration=float(fit.alpha + fit.beta),
        plausible=tuple(float(m) for m in plausible),
        status=fit.status,
    )


def guard_arguments(priors: list[Prior]) -> dict[str, np.ndarray]:
    """``prior_mean`` and ``prior_concentration`` of
    :func:`analysis.stats.improvement_decision` for these priors, one per pair
    (the concentrations padded with NaN to one width)."""
    width = max((len(prior.concentrations()) for prior in priors), default=1)
    concentration = np.full((len(priors), width), np.nan)
    for i, prior in enumerate(priors):
        row = prior.concentrations()
        concentration[i, : len(row)] = row
    return {
        "prior_mean": np.array([prior.mean for prior in priors], dtype=float),
        "prior_concentration": concentration,
    }
