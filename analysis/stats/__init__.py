"""Statistics of 群众评议 results: pure numpy/scipy on arrays of counts.

No database and no Django here (STYLE.md §3): analysis/aggregate.py turns the
database into counts, these functions turn counts into numbers, and every rule
they follow is fixed in METHODS.md. Arguments are arrays with one entry per
unit (or group); results are arrays of the same shape, NaN where a denominator
is 0.

- :mod:`.rates` — 满意率, 不满意率, 知晓率, 综合得分 from per-level counts;
  posterior interval of the score.
- :mod:`.intervals` — Wilson, Clopper–Pearson, one-sided exact bound, Newcombe.
- :mod:`.flags` — test against the target, Benjamini–Hochberg, flag colours,
  Jeffreys probability.
- :mod:`.ranking` — beta-binomial shrinkage and funnel limits.
- :mod:`.dispersion` — over-dispersion φ and the tests and intervals it widens.
- :mod:`.power` — minimum detectable rate and respondents needed for a verdict.
- :mod:`.change` — before/after tests, effect sizes and the re-survey verdict.
- :mod:`.boschloo_many` — Boschloo's test of many tables at once.
- :mod:`.concentration` — the plausible priors of the re-survey's guard.
- :mod:`.quality` — Cronbach's α and straight-lining.
"""

from .boschloo_many import boschloo_greater_many
from .change import (
    BOSCHLOO_MAX_TABLES,
    ImprovementDecision,
    MannWhitney,
    Verdict,
    VerdictRule,
    beyond_expected,
    boschloo_greater,
    cohens_h,
    improvement_decision,
    improvement_method,
    improvement_test,
    improvement_verdict,
    mann_whitney,
    shrunken_estimate,
)
from .concentration import CONCENTRATION_GRID, plausible_concentrations
from .dispersion import Overdispersion, overdispersion
from .flags import (
    Flag,
    UnitAssessment,
    assess_units,
    benjamini_hochberg,
    check_target,
    flag_colours,
    jeffreys_prob_below,
    test_against_target,
)
from .intervals import (
    clopper_pearson_interval,
    exact_lower_bound,
    min_n_to_confirm,
    newcombe_difference_interval,
    wilson_interval,
)
from .power import minimum_detectable_rate, red_power, respondents_needed
from .quality import cronbach_alpha, straight_liners, straight_lining
from .ranking import ShrinkageFit, beta_binomial_shrinkage, funnel_limits
from .rates import LevelInfo, Rates, rates, score_interval

__all__ = [
    "BOSCHLOO_MAX_TABLES",
    "CONCENTRATION_GRID",
    "Flag",
    "ImprovementDecision",
    "LevelInfo",
    "MannWhitney",
    "Overdispersion",
    "Rates",
    "ShrinkageFit",
    "UnitAssessment",
    "Verdict",
    "VerdictRule",
    "assess_units",
    "benjamini_hochberg",
    "beta_binomial_shrinkage",
    "beyond_expected",
    "boschloo_greater",
    "boschloo_greater_many",
    "check_target",
    "clopper_pearson_interval",
    "cohens_h",
    "cronbach_alpha",
    "exact_lower_bound",
    "flag_colours",
    "funnel_limits",
    "improvement_decision",
    "improvement_method",
    "improvement_test",
    "improvement_verdict",
    "jeffreys_prob_below",
    "mann_whitney",
    "minimum_detectable_rate",
    "min_n_to_confirm",
    "newcombe_difference_interval",
    "plausible_concentrations",
    "overdispersion",
    "rates",
    "shrunken_estimate",
    "red_power",
    "respondents_needed",
    "score_interval",
    "straight_liners",
    "straight_lining",
    "test_against_target",
    "wilson_interval",
]
