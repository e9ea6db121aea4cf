"""Statistics of 群众评议 results: pure numpy/scipy on arrays of counts.

No database and no Django here (STYLE.md §3): analysis/aggregate.py turns the
database into counts, these functions turn counts into numbers, and every rule
they follow is fixed in METHODS.md. Arguments are arrays with one entry per
unit (or group); results are arrays of the same shape, NaN where a denominator
is 0.

- :mod:`.rates` — 满意率, 不满意率, 知晓率, 综合得分 from per-level counts;
  bootstrap interval of the score.
- :mod:`.intervals` — Wilson, Clopper–Pearson, one-sided exact bound, Newcombe.
- :mod:`.flags` — test against the target, Benjamini–Hochberg, flag colours,
  Jeffreys probability.
- :mod:`.ranking` — beta-binomial shrinkage and funnel limits.
- :mod:`.change` — before/after tests, effect sizes and the re-survey verdict.
- :mod:`.quality` — Cronbach's α and straight-lining.
"""

from .change import (
    BOSCHLOO_MAX_TABLES,
    MannWhitney,
    Verdict,
    boschloo_greater,
    cohens_h,
    improvement_method,
    improvement_test,
    improvement_verdict,
    mann_whitney,
)
from .flags import (
    Flag,
    UnitAssessment,
    assess_units,
    benjamini_hochberg,
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
from .quality import cronbach_alpha, straight_liners, straight_lining
from .ranking import ShrinkageFit, beta_binomial_shrinkage, funnel_limits
from .rates import LevelInfo, Rates, bootstrap_score_interval, rates

__all__ = [
    "BOSCHLOO_MAX_TABLES",
    "Flag",
    "LevelInfo",
    "MannWhitney",
    "Rates",
    "ShrinkageFit",
    "UnitAssessment",
    "Verdict",
    "assess_units",
    "benjamini_hochberg",
    "beta_binomial_shrinkage",
    "boschloo_greater",
    "bootstrap_score_interval",
    "clopper_pearson_interval",
    "cohens_h",
    "cronbach_alpha",
    "exact_lower_bound",
    "flag_colours",
    "funnel_limits",
    "improvement_method",
    "improvement_test",
    "improvement_verdict",
    "jeffreys_prob_below",
    "mann_whitney",
    "min_n_to_confirm",
    "newcombe_difference_interval",
    "rates",
    "straight_liners",
    "straight_lining",
    "test_against_target",
    "wilson_interval",
]
