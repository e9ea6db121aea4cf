"""Anonymity thresholds and complementary suppression (METHODS.md §6)."""

from collections import Counter

from analysis.models import Result
from analysis.rows import Row
from analysis.suppression import suppress
from organizations.models import Unit
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import make_round, point_of

from .synthetic import analysed, fill


def row(level, n, *, unit=None, category="", dimension="", source=""):
    return Row(
        level=level,
        unit=unit,
        category=category,
        dimension_code=dimension,
        source=source,
        n_responses=n,
        n_answered=n,
        n_valid=n,
    )


class _Unit:
    def __init__(self, pk):
        self.pk = pk


def test_a_group_below_the_threshold_is_hidden():
    rows = [
        row("unit", 4, category="teaching"),
        row("unit", 40, category="administration"),
    ]
    assert suppress(rows, min_group_size=5) == {id(rows[0])}


def test_one_hidden_unit_of_a_category_hides_its_smallest_sibling():
    small, mid, big = (row("unit", n, category="teaching") for n in (3, 20, 90))
    total = row("category", 113, category="teaching")
    hidden = suppress([total, small, mid, big], min_group_size=5)
    assert hidden == {id(small), id(mid)}


def test_two_hidden_units_need_no_more():
    a, b, c = (row("unit", n, category="teaching") for n in (3, 4, 90))
    total = row("category", 97, category="teaching")
    assert suppress([total, a, b, c], min_group_size=5) == {id(a), id(b)}


def test_a_unit_nobody_answered_for_hides_no_sibling():
    empty = row("unit", 0, category="teaching")
    a, b = (row("unit", n, category="teaching") for n in (30, 90))
    total = row("category", 120, category="teaching")
    assert suppress([total, empty, a, b], min_group_size=5) == {id(empty)}


def test_one_hidden_question_hides_the_dimension_that_pools_it():
    # The dimension's rates share the pooled denominator: beside the shown
    # questions it would give the hidden one back. Its shown siblings are
    # linked to nothing else and stay.
    unit = _Unit(1)
    items = [row("question", n, unit=unit, dimension="leadership") for n in (2, 30, 31)]
    dimension = row("dimension", 31, unit=unit, dimension="leadership")
    other_item = row("question", 50, unit=unit, dimension="members")
    other = row("dimension", 50, unit=unit, dimension="members")
    summary = row("unit", 50, unit=unit, source="headline")
    hidden = suppress([summary, dimension, other, *items, other_item], min_group_size=5)
    assert hidden == {id(items[0]), id(dimension)}


def test_a_unit_pooling_its_questions_is_hidden_with_any_of_them():
    unit = _Unit(1)
    items = [row("question", n, unit=unit) for n in (2, 30)]
    summary = row("unit", 30, unit=unit, source="items")
    hidden = suppress([summary, *items], min_group_size=5)
    assert hidden == {id(summary), *map(id, items)}


def test_a_hidden_category_hides_another_category_from_the_school_total():
    rows = [
        row("school", 103),
        row("category", 3, category="logistics"),
        row("category", 40, category="teaching"),
        row("category", 60, category="administration"),
    ]
    assert suppress(rows, min_group_size=5) == {id(rows[1]), id(rows[2])}


def test_a_category_hidden_for_another_hides_one_of_its_units():
    # Else its units would add up to it, and the school minus the categories
    # would give the small one back.
    units = [
        row("unit", 3, category="logistics"),
        row("unit", 40, category="teaching"),
        row("unit", 30, category="teaching"),
        row("unit", 60, category="administration"),
    ]
    categories = [
        row("category", 3, category="logistics"),
        row("category", 70, category="teaching"),
        row("category", 60, category="administration"),
    ]
    rows = [row("school", 133), *categories, *units]
    hidden = suppress(rows, min_group_size=5)
    assert hidden == {
        id(units[0]),
        id(categories[0]),
        id(categories[2]),  # the smaller of the two others
        id(units[3]),
    }


class SuppressionInRunsTests(PersonaTestCase):
    def test_a_small_unit_is_hidden_and_its_category_total_cannot_reveal_it(self):
        tiny = make_unit("T1", Unit.Kind.BRANCH, self.unit_a, "student")
        campaign = make_round(self.school, kinds={"branch": "wuhao-branch"})
        fill(point_of(campaign, tiny), n=3, satisfied=1)
        fill(point_of(campaign, self.branch_a), n=40, satisfied=39)
        run = analysed(campaign)
        units = run.results.filter(level=Result.Level.UNIT).select_related("unit")
        by_code = {r.unit.code: r for r in units}
        self.assertTrue(by_code["T1"].suppressed)
        self.assertTrue(by_code["A-1"].suppressed)  # else teaching minus A-1 reveals T1
        per_category = Counter(r.category for r in units if r.suppressed)
        for category, hidden in per_category.items():
            shown_total = units.filter(category=category).count()
            self.assertTrue(hidden >= 2 or hidden == shown_total, category)
