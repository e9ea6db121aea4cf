"""What a round's rate is called, and what it counts, in the scale's own words.

METHODS.md §2 calls the share of positive answers 满意率, but a scale of
好/较好/一般/差 has no “满意” in it: its rate is a 好评率 counting ‘好’ and ‘较好’.
The noun and the counted labels come from the scale levels (labels, polarities,
scores) and the round's rate setting, never from a fixed sentence.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

# Degree words before the root of a positive label: 非常满意, 比较满意, 基本满意 and
# 满意 all rate “满意”; 较好 and 好 both rate “好”.
DEGREE_PREFIXES = ("非常", "十分", "特别", "比较", "基本", "大体", "很", "较")


@dataclass(frozen=True)
class Level:
    """One level of a scale as the wording needs it (ScaleLevel's fields)."""

    code: str
    label: str
    polarity: str
    score: float | None


@dataclass(frozen=True)
class RateWording:
    noun: str  # 满意率, 好评率, 认可率, or 正面评价率 when the labels share no root
    counted_as: str  # what a counted answer is: 满意, 好评, 认可, 正面评价
    counted: tuple[str, ...]  # the labels counted, top level first
    strict: bool = False

    @property
    def definition(self) -> str:
        """“好评率（‘好’‘较好’计为好评）”."""
        labels = "".join(_("‘%(label)s’") % {"label": label} for label in self.counted)
        values = {"noun": self.noun, "labels": labels, "as": self.counted_as}
        if self.strict:
            return _("%(noun)s（仅%(labels)s计为%(as)s，严口径）") % values
        return _("%(noun)s（%(labels)s计为%(as)s）") % values

    @property
    def rule(self) -> str:
        """The definition without the noun: “‘好’‘较好’计为好评”."""
        labels = "".join(_("‘%(label)s’") % {"label": label} for label in self.counted)
        values = {"labels": labels, "as": self.counted_as}
        if self.strict:
            return _("仅%(labels)s计为%(as)s（严口径）") % values
        return _("%(labels)s计为%(as)s") % values


def _root(label: str) -> str:
    """满意 of 非常满意, 好 of 较好."""
    for prefix in DEGREE_PREFIXES:
        if label.startswith(prefix) and len(label) > len(prefix):
            return _root(label[len(prefix) :])
    return label


def _name(levels: Sequence[Level]) -> tuple[str, str]:
    """(noun, what a counted answer is) from the positive labels' shared root."""
    roots = {_root(level.label) for level in levels if level.polarity == "positive"}
    if len(roots) != 1:
        return _("正面评价率"), _("正面评价")
    root = roots.pop()
    if root == "满意":
        return _("满意率"), _("满意")
    if root == "好":
        return _("好评率"), _("好评")
    return _("%(root)s率") % {"root": root}, root


def _top(levels: Sequence[Level]) -> Level:
    """The top level as the statistics take it: the highest score, first on ties."""
    valid = [level for level in levels if level.polarity != "dont_know"]
    return max(valid, key=lambda level: -1e9 if level.score is None else level.score)


def rate_wording(
    levels: Sequence[Level],
    *,
    definition: str = "broad",
    rate_levels: Collection[str] = (),
    neutral_counts_as_satisfied: bool = False,
) -> RateWording:
    """The wording of one scale's rate under a round's rate setting, counting the
    levels :meth:`analysis.stats.LevelInfo.satisfied` counts (``levels`` in the
    scale's order, top first; listed codes that are not on the scale fall back to
    the broad rate, as :func:`analysis.rows.rate_options` does)."""
    noun, counted_as = _name(levels)
    chosen = [level for level in levels if level.code in set(rate_levels)]
    if definition == "levels" and chosen:
        counted = chosen
    elif definition == "strict":
        return RateWording(noun, counted_as, (_top(levels).label,), strict=True)
    else:
        polarities = (
            {"positive", "neutral"} if neutral_counts_as_satisfied else {"positive"}
        )
        counted = [level for level in levels if level.polarity in polarities]
    return RateWording(noun, counted_as, tuple(level.label for level in counted))


@dataclass(frozen=True)
class RoundWording:
    """The rate of a round whose questions may use several scales."""

    noun: str
    wordings: tuple[RateWording, ...]  # one per distinct wording, in round order

    @property
    def definition(self) -> str:
        """“满意率（‘满意’‘基本满意’计为满意）”; with two scales of one noun
        “满意率（‘非常满意’‘满意’‘基本满意’计为满意；‘满意’‘基本满意’计为满意）”;
        with two nouns “正面评价率（满意率：…；好评率：…）”."""
        if len(self.wordings) == 1:
            return self.wordings[0].definition
        if len({wording.noun for wording in self.wordings}) > 1:
            rules = "；".join(
                _("%(noun)s：%(rule)s") % {"noun": wording.noun, "rule": wording.rule}
                for wording in self.wordings
            )
        else:
            rules = "；".join(wording.rule for wording in self.wordings)
        return _("%(noun)s（%(rules)s）") % {"noun": self.noun, "rules": rules}


def round_wording(wordings: Sequence[RateWording]) -> RoundWording:
    """One noun for the page: the scales' own if they agree, else 正面评价率, with
    every scale's rule beside it."""
    distinct = tuple(dict.fromkeys(wordings))
    nouns = {wording.noun for wording in distinct}
    if not distinct:
        return RoundWording(_("满意率"), ())
    return RoundWording(nouns.pop() if len(nouns) == 1 else _("正面评价率"), distinct)


def campaign_rate_wording(campaign_id: int, settings: dict) -> RoundWording:
    """The wording of a round's rate: its questionnaires' scales under the rate
    setting recorded with its analysis (``settings``: the run's)."""
    from questionnaires.models import CollectionPoint, Question, ScaleLevel

    questionnaires = CollectionPoint.objects.filter(campaign_id=campaign_id).values(
        "questionnaire_id"
    )
    scale_ids = list(
        dict.fromkeys(
            Question.objects.filter(
                questionnaire_id__in=questionnaires, kind=Question.Kind.SCALE
            )
            .order_by("-headline", "order", "id")
            .values_list("scale_id", flat=True)
        )
    )
    by_scale: dict[int, list[Level]] = {scale_id: [] for scale_id in scale_ids}
    for level in ScaleLevel.objects.filter(scale_id__in=scale_ids).order_by(
        "scale_id", "order"
    ):
        by_scale[level.scale_id].append(
            Level(
                level.code,
                level.label,
                level.polarity,
                None if level.score is None else float(level.score),
            )
        )
    return round_wording(
        [
            rate_wording(
                levels,
                definition=settings.get("rate_definition", "broad"),
                rate_levels=settings.get("rate_levels", ()),
                neutral_counts_as_satisfied=settings.get(
                    "neutral_counts_as_satisfied", False
                ),
            )
            for levels in by_scale.values()
            if levels
        ]
    )
