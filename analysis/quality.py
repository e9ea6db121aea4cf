"""Questionnaire and response quality in SQL aggregates (METHODS.md §5).

Cronbach's α per dimension from sums and sums of squares over complete cases, and
straight-lining counts per point — both without loading answers into Python, so a
round of a million responses stays in bounded memory.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, FloatField, Sum
from django.db.models.functions import Cast

from questionnaires.models import Answer, CollectionPoint, Question

STRAIGHT_LINING_MIN_ITEMS = 8


def _variance(n: float, total: float, squares: float) -> float | None:
    if n < 2:
        return None
    return (squares - total * total / n) / (n - 1)


def dimension_alpha(
    campaign_id: int, question_ids: list[int]
) -> tuple[float | None, int]:
    """Cronbach (1951) α of one dimension's items over the respondents who gave a
    scored answer to every item (listwise deletion); returns (α, respondents)."""
    k = len(question_ids)
    if k < 2:
        return None, 0
    scored = Answer.objects.filter(
        point__campaign_id=campaign_id,
        question_id__in=question_ids,
        level__score__isnull=False,
    ).order_by()
    complete = (
        scored.values("response_id")
        .annotate(items=Count("*"), total=Cast(Sum("level__score"), FloatField()))
        .filter(items=k)
    )
    totals = complete.aggregate(
        n=Count("response_id"), s=Sum("total"), ss=Sum(F("total") * F("total"))
    )
    n = totals["n"] or 0
    var_total = _variance(n, totals["s"] or 0.0, totals["ss"] or 0.0)
    if not var_total:
        return None, n
    score = Cast("level__score", FloatField())
    per_item = (
        scored.filter(response_id__in=complete.values("response_id"))
        .values("question_id")
        .annotate(n=Count("*"), s=Sum(score), ss=Sum(score * score))
    )
    item_variances = [_variance(row["n"], row["s"], row["ss"]) for row in per_item]
    if len(item_variances) != k or any(v is None for v in item_variances):
        return None, n
    return k / (k - 1) * (1 - sum(item_variances) / var_total), n


def campaign_alphas(campaign_id: int) -> dict[str, dict[str, object]]:
    """α for every dimension of every questionnaire version used in the round."""
    questionnaire_ids = (
        CollectionPoint.objects.filter(campaign_id=campaign_id)
        .values_list("questionnaire_id", flat=True)
        .distinct()
    )
    items: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    questions = Question.objects.filter(
        questionnaire_id__in=list(questionnaire_ids),
        kind=Question.Kind.SCALE,
        dimension__isnull=False,
    ).select_related("questionnaire", "dimension")
    for question in questions:
        key = (
            question.questionnaire.key,
            question.dimension.code,
            question.dimension.title,
        )
        items[key].append(question.pk)
    result = {}
    for (questionnaire, code, title), ids in sorted(items.items()):
        alpha, n = dimension_alpha(campaign_id, ids)
        result[f"{questionnaire}:{code}"] = {
            "title": title,
            "items": len(ids),
            "n": n,
            "alpha": alpha,
        }
    return result


def straight_lining_by_point(
    campaign_id: int, min_items: int = STRAIGHT_LINING_MIN_ITEMS
) -> dict[int, int]:
    """Responses per point whose scale answers are all the same level across at
    least ``min_items`` items: counted and reported, never deleted."""
    rows = (
        Answer.objects.filter(point__campaign_id=campaign_id, level__isnull=False)
        .order_by()
        .values("response_id", "point_id")
        .annotate(items=Count("*"), distinct_levels=Count("level_id", distinct=True))
        .filter(items__gte=min_items, distinct_levels=1)
        .values_list("point_id", flat=True)
    )
    counts: dict[int, int] = defaultdict(int)
    for point_id in rows.iterator():
        counts[point_id] += 1
    return dict(counts)
