"""Differencing: no two published views of a round give a hidden group back.

The attacker is a reader (the reviewer, who sees the whole school, or a manager)
with everything they may read: the results API, its exports, the pages, the
points API, and the comparison with a baseline round. They know the rules
(docs/methods.md §6) and the tree, and compute:

- linear identities between published counts: the school row is the sum of the
  unit rows, a category row the sum of its units' rows; every count (responses,
  answers, valid answers, satisfied, top level, negative, 不了解, ballots) obeys
  them, so a hidden cell is derivable exactly when its unit vector lies in the row
  space of the identities restricted to the unknown cells;
- pooled rates: a unit without a 总体评价 question shows the rates of all its
  answers pooled, whose common denominator is the pooled number of answers;
- family figures (shrinkage, q-values) that would move with a hidden unit's
  answers.

A hidden group is a row with ``suppressed: true`` that someone answered for (a
unit nobody answered for has nothing to give away). Each test fails if any
hidden group's count or rate comes out exactly.
"""

from __future__ import annotations

import csv
import io
import random
import re

import numpy as np
from django.test import SimpleTestCase

from analysis.models import Result
from analysis.rows import Row
from analysis.services import campaign_analyze
from analysis.suppression import suppress
from organizations.models import Unit
from questionnaires.models import (
    Answer,
    CampaignQuestionnaire,
    ScaleLevel,
)
from questionnaires.services import (
    ballots_issue,
    campaign_open,
    questionnaire_create,
    questionnaire_publish,
    response_submit,
)
from tests.analysis.synthetic import analysed, fill, published
from tests.base import PersonaTestCase, make_unit
from tests.questionnaires.helpers import full_answers, make_round, point_of, write_out

BRANCHES = {"branch": "wuhao-branch"}
COUNTS = (
    "n_responses",
    "n_answered",
    "n_valid",
    "n_satisfied",
    "n_top",
    "n_negative",
    "n_dont_know",
)
BALLOTS = ("ballots_issued", "ballots_used")  # on unit and school rows only


# --- The attacker ---------------------------------------------------------------


def cell_of(row: dict) -> tuple | None:
    if row["level"] == Result.Level.SCHOOL:
        return ("school",)
    if row["level"] == Result.Level.CATEGORY:
        return ("category", row["category"])
    if row["level"] == Result.Level.UNIT:
        return ("unit", row["unit"])
    return None


class Tree:
    """Which sums hold between the cells of a round (from the office's raw rows;
    the attacker knows the tree and who reports under which category)."""

    def __init__(self, rows: list[dict]) -> None:
        self.units = {
            cell_of(r): r["category"] for r in rows if r["level"] == Result.Level.UNIT
        }
        self.categories = {
            cell_of(r) for r in rows if r["level"] == Result.Level.CATEGORY
        }

    def solve(
        self, known: dict[tuple, float], *, categories: bool = True
    ) -> dict[tuple, float]:
        """Every cell not in ``known`` that the sums determine, with its value."""
        cells = [("school",), *(self.categories if categories else ()), *self.units]
        sums = [(("school",), list(self.units))]
        if categories:
            sums += [
                (cat, [u for u, c in self.units.items() if ("category", c) == cat])
                for cat in self.categories
            ]
        unknown = [cell for cell in cells if cell not in known]
        if not unknown:
            return {}
        column = {cell: j for j, cell in enumerate(unknown)}
        a = np.zeros((len(sums), len(unknown)))
        b = np.zeros(len(sums))
        for i, (parent, children) in enumerate(sums):
            for cell, sign in [(parent, 1.0), *((child, -1.0) for child in children)]:
                if cell in column:
                    a[i, column[cell]] += sign
                else:
                    b[i] -= sign * known[cell]
        rank = np.linalg.matrix_rank(a)
        solution = np.linalg.lstsq(a, b, rcond=None)[0]
        found = {}
        for cell, j in column.items():
            probe = np.zeros(len(unknown))
            probe[j] = 1
            if np.linalg.matrix_rank(np.vstack([a, probe])) == rank:
                found[cell] = round(float(solution[j]), 6)
        return found


def protected(office_raw: list[dict]) -> set[tuple]:
    """Hidden cells someone answered for."""
    return {
        cell_of(row)
        for row in office_raw
        if row["suppressed"] and row["n_responses"] and cell_of(row) is not None
    }


def derived_counts(tree: Tree, reader_rows: list[dict], hidden: set[tuple]) -> dict:
    """{(cell, figure): value} of every hidden cell the reader can compute."""
    leaks = {}
    for figure in (*COUNTS, *BALLOTS):
        known = {
            cell_of(row): row[figure]
            for row in reader_rows
            if cell_of(row) is not None and row[figure] is not None
        }
        if figure in BALLOTS and ("school",) not in known:
            continue  # an open round: no ballots anywhere
        for cell, value in tree.solve(known, categories=figure in COUNTS).items():
            if cell in hidden:
                leaks[(cell, figure)] = value
    return leaks


# --- Reading what a reader may read ------------------------------------------


class ReaderMixin:
    def results(self, user, campaign, **params) -> list[dict]:
        response = self.api(user).get(
            f"/api/v1/campaigns/{campaign.pk}/results/", {"page_size": 500, **params}
        )
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertIsNone(body["next"])
        return body["results"]

    def export(self, user, campaign) -> list[dict]:
        response = self.api(user).get(
            f"/api/v1/campaigns/{campaign.pk}/results/export/", {"filetype": "csv"}
        )
        self.assertEqual(response.status_code, 200)
        text = response.content.decode("utf-8-sig")
        rows = csv.DictReader(io.StringIO(text))
        return [row for row in rows if row["层级"] in Result.Level.values]

    def assert_nothing_derivable(self, campaign, *readers) -> None:
        office = self.results(self.leader, campaign, raw=1)
        tree, hidden = Tree(office), protected(office)
        self.assertTrue(hidden, "the round hides nobody: the test tests nothing")
        for reader in readers:
            leaks = derived_counts(tree, self.results(reader, campaign), hidden)
            self.assertEqual(leaks, {}, f"{reader.username} derives hidden counts")


# --- (a) and (e): totals minus the shown units ------------------------------------


class CategoryTotalTests(ReaderMixin, PersonaTestCase):
    """Teaching: A-1 40, A-2 3 (hidden), A-3 30. Administration: B-1 20, B-2 15.
    Logistics: only C-1, with 4 answers, so the category row is hidden too."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.a2 = make_unit("A-2", Unit.Kind.BRANCH, cls.unit_a, "staff")
        cls.a3 = make_unit("A-3", Unit.Kind.BRANCH, cls.unit_a, "staff")
        cls.unit_c = make_unit("C", Unit.Kind.COMMITTEE, cls.school, "logistics")
        cls.c1 = make_unit("C-1", Unit.Kind.BRANCH, cls.unit_c, "staff")
        cls.b2 = make_unit("B-2", Unit.Kind.BRANCH, cls.unit_b, "staff")
        cls.campaign = make_round(cls.school, kinds=BRANCHES)
        for unit, n, satisfied in [
            (cls.branch_a, 40, 30),
            (cls.a2, 3, 1),
            (cls.a3, 30, 28),
            (cls.branch_b, 20, 18),
            (cls.b2, 15, 11),
            (cls.c1, 4, 2),
        ]:
            fill(point_of(cls.campaign, unit), n=n, satisfied=satisfied, dont_know=1)
        analysed(cls.campaign)
        published(cls.campaign)

    def unit_row(self, rows, unit) -> dict:
        return next(r for r in rows if r["level"] == "unit" and r["unit"] == unit.pk)

    def test_a_one_hidden_unit_is_not_its_category_minus_the_others(self):
        rows = self.results(self.reviewer, self.campaign)
        teaching = next(
            r for r in rows if r["category"] == "teaching" and r["level"] == "category"
        )
        self.assertTrue(self.unit_row(rows, self.a2)["suppressed"])
        leaks = derived_counts(
            Tree(self.results(self.leader, self.campaign, raw=1)),
            rows,
            {("unit", self.a2.pk)},
        )
        self.assertEqual(leaks, {}, teaching)

    def test_a_a_hidden_category_is_not_the_school_minus_the_other_categories(self):
        # Logistics (4) is hidden; the school total minus teaching and
        # administration would give it, so another category is hidden — and one
        # of that category's units, else its units add up to it.
        rows = self.results(self.reviewer, self.campaign)
        office = self.results(self.leader, self.campaign, raw=1)
        leaks = derived_counts(Tree(office), rows, protected(office))
        self.assertNotIn((("unit", self.c1.pk), "n_valid"), leaks)
        self.assertNotIn((("category", "logistics"), "n_valid"), leaks)
        self.assertEqual(leaks, {})

    def test_e_the_school_total_minus_the_shown_units_reveals_nobody(self):
        self.assert_nothing_derivable(
            self.campaign, self.reviewer, self.manager_a, self.manager_b
        )

    def test_d_the_export_hides_what_the_api_hides(self):
        api = {
            (
                r["level"],
                r["unit_code"],
                r["dimension"],
                r["question"],
                r["category"],
            ): r
            for r in self.results(self.reviewer, self.campaign)
        }
        exported = self.export(self.reviewer, self.campaign)
        self.assertEqual(len(exported), len(api))
        for row in exported:
            key = (row["层级"], row["单位编码"], row["维度"], row["题目"], row["类别"])
            item = api[key]
            with self.subTest(key=key):
                self.assertEqual(row["已隐藏(样本不足)"] == "是", item["suppressed"])
                if item["suppressed"]:
                    for column in (
                        "答卷数",
                        "有效数",
                        "满意数",
                        "满意率",
                        "基线满意率",
                    ):
                        self.assertEqual(row[column], "", column)


class SchoolTotalTests(ReaderMixin, PersonaTestCase):
    """(e) A 二级党组织 in no category (the model allows it, the forms do not): its
    unit is in the school total but in no category total."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.loose = make_unit("D", Unit.Kind.COMMITTEE, cls.school, "")
        cls.campaign = make_round(cls.school, kinds={"committee": "wuhao-committee"})
        for unit, n in [(cls.unit_a, 40), (cls.unit_b, 50), (cls.loose, 3)]:
            fill(point_of(cls.campaign, unit), n=n, satisfied=n - 2)
        analysed(cls.campaign)
        published(cls.campaign)

    def test_e_the_school_minus_the_categories_does_not_give_a_loose_unit(self):
        self.assert_nothing_derivable(self.campaign, self.reviewer, self.manager_a)


# --- (b): the unit level against the question level -------------------------------


def pooled_candidates(unit_row: dict, shown: list[dict], *, limit: int) -> set:
    """(n, satisfied) of the one hidden question that fit the unit's pooled figures.

    A unit without a 总体评价 question shows rate = Σk / Σn and score = Σ(points) /
    Σn over its questions, exactly; the hidden question's n is between 0 and the
    unit's n (the largest question's). Σn is the whole number that makes both
    numerators whole."""
    if unit_row["rate"] is None:
        return {(n, None) for n in range(limit + 1)}  # the unit tells nothing
    n_known = sum(q["n_valid"] for q in shown)
    k_known = sum(q["n_satisfied"] for q in shown)
    found = set()
    for n in range(limit + 1):
        total = n_known + n
        satisfied, points = unit_row["rate"] * total, unit_row["score"] * total
        if (
            abs(satisfied - round(satisfied)) > 1e-6
            or abs(points - round(points)) > 1e-6
        ):
            continue
        own = round(satisfied) - k_known
        if 0 <= own <= n:
            found.add((n, own))
    return found


class PooledUnitTests(ReaderMixin, PersonaTestCase):
    """A questionnaire with no 总体评价 question: the unit's rate pools its three
    questions. At A-1, 37 of 40 answered 不了解 to the third, leaving 3 valid."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.a2 = make_unit("A-2", Unit.Kind.BRANCH, cls.unit_a, "staff")
        questionnaire = questionnaire_create(
            spec={
                "key": "pooled-test",
                "title": "三题问卷",
                "target_kind": "branch",
                "questions": [
                    {
                        "code": f"q{i}",
                        "kind": "scale",
                        "text": f"第{i}题",
                        "scale": "three_dk",
                        "required": True,
                    }
                    for i in (1, 2, 3)
                ],
            }
        )
        questionnaire_publish(questionnaire=questionnaire)
        cls.campaign = make_round(cls.school, kinds={}, open_it=False)
        CampaignQuestionnaire.objects.create(
            campaign=cls.campaign, unit_kind="branch", questionnaire=questionnaire
        )
        campaign_open(campaign=cls.campaign)
        cls.campaign.refresh_from_db()
        point = point_of(cls.campaign, cls.branch_a)
        fill(point, n=40, satisfied=29)
        dont_know = ScaleLevel.objects.get(scale__key="three_dk", code="dont_know")
        third = Answer.objects.filter(point=point, question__code="q3").order_by("id")
        # Keep two 满意 and one 不满意 on the third question.
        keep = [*third.values_list("pk", flat=True)[:2], third.last().pk]
        third.exclude(pk__in=keep).update(level=dont_know)
        fill(point_of(cls.campaign, cls.a2), n=30, satisfied=27)
        fill(point_of(cls.campaign, cls.branch_b), n=50, satisfied=45)
        analysed(cls.campaign)
        published(cls.campaign)

    def test_b_a_hidden_question_is_not_the_units_pooled_rate_minus_the_others(self):
        rows = self.results(self.manager_a, self.campaign, unit=self.branch_a.pk)
        unit = next(r for r in rows if r["level"] == "unit")
        questions = [r for r in rows if r["level"] == "question"]
        hidden = [q["question"] for q in questions if q["suppressed"]]
        self.assertIn("q3", hidden)
        shown = [q for q in questions if not q["suppressed"]]
        found = pooled_candidates(unit, shown, limit=unit["n_valid"] or 40)
        self.assertNotEqual(len(found), 1, f"the hidden question is {found}")

    def test_b_and_the_unit_hidden_for_it_is_not_rebuilt_from_its_category(self):
        self.assert_nothing_derivable(self.campaign, self.reviewer, self.manager_a)


# --- Family figures ---------------------------------------------------------------


class FamilyFigureTests(ReaderMixin, PersonaTestCase):
    """Shrinkage and q-values are fitted across the units of a kind, and the score
    bootstrap draws from one random stream: a shown unit's figures must not move
    with a hidden unit's answers (a completely pooled fit is the kind's pooled
    rate, hidden units included)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.a2 = make_unit("A-2", Unit.Kind.BRANCH, cls.unit_a, "staff")
        cls.a3 = make_unit("A-3", Unit.Kind.BRANCH, cls.unit_a, "staff")
        cls.b2 = make_unit("B-2", Unit.Kind.BRANCH, cls.unit_b, "staff")
        cls.campaign = make_round(cls.school, kinds=BRANCHES)
        for unit, n, satisfied in [
            (cls.branch_a, 60, 45),
            (cls.a2, 3, 0),
            (cls.a3, 50, 48),
            (cls.branch_b, 40, 25),
            (cls.b2, 70, 66),
        ]:
            fill(point_of(cls.campaign, unit), n=n, satisfied=satisfied)
        analysed(cls.campaign)
        published(cls.campaign)

    def shown_rows(self) -> dict:
        return {
            (r["level"], r["unit"], r["dimension"], r["question"]): r
            for r in self.results(self.reviewer, self.campaign)
            if r["level"] in ("unit", "dimension", "question") and not r["suppressed"]
        }

    def test_a_shown_units_figures_do_not_depend_on_a_hidden_units_answers(self):
        before = self.shown_rows()
        self.assertNotIn(("unit", self.a2.pk, "", ""), before)
        # The hidden unit's three answered 不满意 throughout; now 满意. The same
        # round analysed again: the same seed, the same shown answers.
        satisfied = ScaleLevel.objects.get(scale__key="three_dk", code="satisfied")
        Answer.objects.filter(point__unit=self.a2, level__isnull=False).update(
            level=satisfied
        )
        campaign_analyze(campaign=self.campaign)
        after = self.shown_rows()
        self.assertEqual(set(after), set(before))
        self.assertGreater(len(before), 10)
        for key, row in before.items():
            for name in (
                "rate",
                "shrunk",
                "q_value",
                "flag",
                "score_ci_low",
                "score_ci_high",
            ):
                with self.subTest(key=key, figure=name):
                    self.assertEqual(row[name], after[key][name])


# --- (c): two rounds --------------------------------------------------------------


class TwoRoundTests(ReaderMixin, PersonaTestCase):
    """The spring round was closed, not published; the autumn round, published,
    compares with it. Its baseline columns are the reader's only view of spring,
    and the spring round hides C-1 (4 answers) and, for it, more."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.unit_c = make_unit("C", Unit.Kind.COMMITTEE, cls.school, "logistics")
        cls.c1 = make_unit("C-1", Unit.Kind.BRANCH, cls.unit_c, "staff")
        cls.b2 = make_unit("B-2", Unit.Kind.BRANCH, cls.unit_b, "staff")
        cls.spring = make_round(cls.school, kinds=BRANCHES, title="春季")
        for unit, n in [
            (cls.branch_a, 60),
            (cls.branch_b, 20),
            (cls.b2, 15),
            (cls.c1, 4),
        ]:
            fill(point_of(cls.spring, unit), n=n, satisfied=n - 3)
        analysed(cls.spring)  # closed, not published
        cls.autumn = make_round(
            cls.school, kinds=BRANCHES, title="秋季", baseline=cls.spring
        )
        for unit, n in [
            (cls.branch_a, 61),
            (cls.branch_b, 22),
            (cls.b2, 18),
            (cls.c1, 30),
        ]:
            fill(point_of(cls.autumn, unit), n=n, satisfied=n - 2)
        analysed(cls.autumn)
        published(cls.autumn)

    def test_c_the_comparison_gives_no_hidden_baseline_group_back(self):
        spring = self.results(self.leader, self.spring, raw=1)
        tree, hidden = Tree(spring), protected(spring)
        self.assertIn(("unit", self.c1.pk), hidden)
        for reader in (self.reviewer, self.manager_b):
            known_n, known_k = {}, {}
            for row in self.results(reader, self.autumn):
                cell = cell_of(row)
                if cell is None or row["baseline_n_valid"] is None:
                    continue
                self.assertNotIn(cell, hidden, "a hidden row is compared")
                known_n[cell] = row["baseline_n_valid"]
                known_k[cell] = round(row["baseline_rate"] * row["baseline_n_valid"])
                # And the difference gives the same baseline rate, no other.
                self.assertAlmostEqual(row["rate"] - row["diff"], row["baseline_rate"])
            self.assertTrue(known_n)
            for known in (known_n, known_k):
                leaks = {c: v for c, v in tree.solve(known).items() if c in hidden}
                self.assertEqual(leaks, {}, reader.username)


# --- (d): the API, the exports, the pages and the points API ----------------------


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


class SameSuppressionEverywhereTests(ReaderMixin, PersonaTestCase):
    """A ballot round: A-1 cast 3 of 5 ballots (hidden), B-1 12 of 15, B-2 10 of 12."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.b2 = make_unit("B-2", Unit.Kind.BRANCH, cls.unit_b, "staff")
        cls.campaign = make_round(cls.school, mode="ballot", kinds=BRANCHES)
        number = 0
        for unit, issued, cast in [
            (cls.branch_a, 5, 3),
            (cls.branch_b, 15, 12),
            (cls.b2, 12, 10),
        ]:
            point = point_of(cls.campaign, unit)
            codes = ballots_issue(point=point, count=issued)
            for code in codes[:cast]:
                number += 1
                answers = full_answers(point)
                for answer in answers:
                    if "text" in answer:
                        answer["text"] = f"第{number}条意见：食堂排队太久"
                response_submit(
                    point=point,
                    answers=answers,
                    nonce=f"differencing-{number:08d}",
                    ballot=code,
                    client_address=f"10.0.0.{number}",
                )
            write_out(point)
        analysed(cls.campaign)
        published(cls.campaign)

    def test_d_the_points_api_and_the_round_page_hide_a_hidden_units_ballots(self):
        hidden = {
            r["unit"]
            for r in self.results(self.reviewer, self.campaign, level="unit")
            if r["suppressed"]
        }
        self.assertIn(self.branch_a.pk, hidden)
        for reader in (self.manager_a, self.reviewer):
            response = self.api(reader).get(
                f"/api/v1/campaigns/{self.campaign.pk}/points/"
            )
            for point in response.json()["results"]:
                if point["unit"] in hidden:
                    self.assertIsNone(point["ballots_used"], reader.username)
            self.client.force_login(reader)
            page = self.client.get(f"/manage/campaigns/{self.campaign.pk}/")
            self.assertNotIn(
                "3/5", visible_text(page.content.decode()).replace(" ", "")
            )

    def test_d_the_unit_report_of_a_hidden_unit_shows_none_of_its_counts(self):
        self.client.force_login(self.manager_a)
        url = f"/manage/campaigns/{self.campaign.pk}/units/{self.branch_a.pk}/report/"
        text = visible_text(self.client.get(url).content.decode())
        self.assertIn("样本不足", text)
        self.assertNotIn("现有 3 份", text)
        self.assertNotRegex(text, r"(?<![\d.])3 份")
        themes = self.api(self.manager_a).get(
            f"/api/v1/campaigns/{self.campaign.pk}/themes/", {"unit": self.branch_a.pk}
        )
        self.assertEqual(themes.status_code, 200)
        self.assertFalse(themes.json()["allowed"])
        self.assertNotRegex(themes.json()["reason"], r"(?<![\d.])3 份")

    def test_d_api_export_and_page_agree_and_no_count_is_derivable(self):
        self.assert_nothing_derivable(self.campaign, self.reviewer, self.manager_a)
        api = self.results(self.manager_a, self.campaign, level="unit")
        exported = [
            r for r in self.export(self.manager_a, self.campaign) if r["层级"] == "unit"
        ]
        self.assertEqual(
            {r["unit_code"]: r["suppressed"] for r in api},
            {r["单位编码"]: r["已隐藏(样本不足)"] == "是" for r in exported},
        )
        for row in exported:
            if row["已隐藏(样本不足)"] == "是":
                self.assertEqual((row["选票使用"], row["答卷数"]), ("", ""))


# --- The rule itself, on many trees -------------------------------------------------


class _Unit:
    def __init__(self, pk: int) -> None:
        self.pk = pk


def random_tree(rng: random.Random) -> list[Row]:
    rows = []
    pk = 0
    for category in rng.sample(
        ["teaching", "administration", "logistics", ""], rng.randint(1, 4)
    ):
        for _ in range(rng.randint(1, 5)):
            pk += 1
            n = rng.choice([0, 1, 2, 3, 4, 5, 8, 12, 20, 35, 60])
            rows.append(
                Row(
                    level="unit",
                    unit=_Unit(pk),
                    category=category,
                    n_responses=n,
                    n_answered=n,
                    n_valid=n,
                )
            )
    units = list(rows)
    for category in {row.category for row in units if row.category}:
        n = sum(row.n_valid for row in units if row.category == category)
        if n:
            rows.append(
                Row(
                    level="category",
                    category=category,
                    n_responses=n,
                    n_answered=n,
                    n_valid=n,
                )
            )
    total = sum(row.n_valid for row in units)
    rows.append(Row(level="school", n_responses=total, n_answered=total, n_valid=total))
    return rows


def presented(row: Row, hidden: bool) -> dict:
    return {
        "level": row.level,
        "unit": row.unit.pk if row.unit else None,
        "category": row.category,
        "suppressed": hidden,
        "n_responses": row.n_responses,
        "n_valid": None if hidden else row.n_valid,
    }


class RuleOnRandomTreesTests(SimpleTestCase):
    def test_no_tree_lets_subtraction_reveal_a_hidden_group(self):
        rng = random.Random(20260105)
        checked = 0
        for _ in range(400):
            rows = random_tree(rng)
            hidden = suppress(rows, min_group_size=5)
            office = [presented(row, id(row) in hidden) for row in rows]
            known = {
                cell_of(r): r["n_valid"] for r in office if r["n_valid"] is not None
            }
            leaks = {
                cell: value
                for cell, value in Tree(office).solve(known).items()
                if cell in protected(office)
            }
            self.assertEqual(
                leaks,
                {},
                [
                    (r["level"], r["category"], r["n_responses"], r["suppressed"])
                    for r in office
                ],
            )
            checked += bool(protected(office))
        self.assertGreater(checked, 200)
