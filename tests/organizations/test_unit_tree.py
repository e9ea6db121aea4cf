from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from organizations.models import Unit
from organizations.services import unit_save
from tests.base import PersonaTestCase, make_unit


class UnitTreeTests(PersonaTestCase):
    def test_it_refuses_a_duplicate_code_in_the_database(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Unit.objects.create(
                code="A",
                name="另一个",
                kind=Unit.Kind.COMMITTEE,
                parent=self.school,
                category="teaching",
            )
        self.assertEqual(Unit.objects.filter(code="A").count(), 1)

    def test_it_refuses_a_duplicate_code_through_the_service(self):
        unit = Unit(
            code="B",
            name="重复",
            kind=Unit.Kind.COMMITTEE,
            parent=self.school,
            category="teaching",
        )
        with self.assertRaises(ValidationError) as caught:
            unit_save(unit=unit)
        self.assertIn("code", caught.exception.message_dict)

    def test_it_refuses_a_cycle(self):
        # A committee moved under its own branch would close a loop A → A-1 → A.
        self.unit_a.parent = self.branch_a
        with self.assertRaises(ValidationError) as caught:
            unit_save(unit=self.unit_a)
        self.assertIn("循环", caught.exception.message_dict["parent"][0])
        self.unit_a.refresh_from_db()
        self.assertEqual(self.unit_a.parent, self.school)

    def test_it_refuses_a_unit_as_its_own_parent(self):
        self.branch_a.parent = self.branch_a
        with self.assertRaises(ValidationError) as caught:
            unit_save(unit=self.branch_a)
        self.assertIn("循环", caught.exception.message_dict["parent"][0])

    def test_it_refuses_a_branch_directly_under_the_school(self):
        unit = Unit(
            code="X",
            name="错挂支部",
            kind=Unit.Kind.BRANCH,
            parent=self.school,
            category="staff",
        )
        with self.assertRaises(ValidationError) as caught:
            unit_save(unit=unit)
        self.assertIn("parent", caught.exception.message_dict)
        self.assertFalse(Unit.objects.filter(code="X").exists())

    def test_it_refuses_a_committee_under_a_branch(self):
        unit = Unit(
            code="X",
            name="错挂",
            kind=Unit.Kind.COMMITTEE,
            parent=self.branch_a,
            category="teaching",
        )
        with self.assertRaises(ValidationError):
            unit_save(unit=unit)

    def test_it_refuses_a_window_under_a_window(self):
        unit = Unit(
            code="X", name="窗口下窗口", kind=Unit.Kind.WINDOW, parent=self.window_a
        )
        with self.assertRaises(ValidationError):
            unit_save(unit=unit)

    def test_it_refuses_a_school_with_a_parent_in_the_database(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Unit.objects.create(
                code="S2", name="二校", kind=Unit.Kind.SCHOOL, parent=self.school
            )

    def test_it_refuses_a_committee_without_category(self):
        unit = Unit(
            code="X", name="无类别", kind=Unit.Kind.COMMITTEE, parent=self.school
        )
        with self.assertRaises(ValidationError) as caught:
            unit_save(unit=unit)
        self.assertIn("category", caught.exception.message_dict)

    def test_it_refuses_a_student_category_on_a_committee(self):
        unit = Unit(
            code="X",
            name="错类别",
            kind=Unit.Kind.COMMITTEE,
            parent=self.school,
            category="student",
        )
        with self.assertRaises(ValidationError):
            unit_save(unit=unit)

    def test_it_accepts_a_window_under_a_committee_or_a_branch(self):
        unit_save(
            unit=Unit(
                code="W1", name="一站式", kind=Unit.Kind.WINDOW, parent=self.unit_b
            )
        )
        unit_save(
            unit=Unit(
                code="W2", name="示范岗", kind=Unit.Kind.WINDOW, parent=self.branch_b
            )
        )
        self.assertEqual(Unit.objects.filter(kind=Unit.Kind.WINDOW).count(), 3)

    def test_subtree_of_reaches_every_level(self):
        codes = set(
            Unit.objects.subtree_of([self.unit_a.pk]).values_list("code", flat=True)
        )
        self.assertEqual(codes, {"A", "A-1", "A-W"})
        everything = set(
            Unit.objects.subtree_of([self.school.pk]).values_list("code", flat=True)
        )
        self.assertEqual(everything, set(Unit.objects.values_list("code", flat=True)))

    def test_committee_category_is_inherited_by_branches_and_windows(self):
        self.assertEqual(self.window_a.committee_category, "teaching")
        self.assertEqual(self.branch_b.committee_category, "administration")
        self.assertEqual(
            make_unit("W9", Unit.Kind.WINDOW, self.unit_b).committee_category,
            "administration",
        )
