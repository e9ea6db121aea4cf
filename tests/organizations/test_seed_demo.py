import io

from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings

from organizations.models import Membership, Unit


class SeedDemoTests(TestCase):
    @override_settings(DEBUG=True)
    def test_it_builds_the_demo_university_once(self):
        call_command("seed_demo", stdout=io.StringIO())
        counts = {
            kind: Unit.objects.filter(kind=kind).count() for kind in Unit.Kind.values
        }
        call_command("seed_demo", stdout=io.StringIO())
        self.assertEqual(
            counts,
            {kind: Unit.objects.filter(kind=kind).count() for kind in Unit.Kind.values},
        )
        self.assertEqual(counts["school"], 1)
        self.assertGreaterEqual(counts["committee"], 6)
        self.assertGreaterEqual(counts["branch"], 20)
        self.assertGreaterEqual(counts["window"], 5)
        categories = set(
            Unit.objects.filter(kind="committee").values_list("category", flat=True)
        )
        self.assertEqual(categories, {"teaching", "administration", "logistics"})
        branch_types = set(
            Unit.objects.filter(kind="branch").values_list("category", flat=True)
        )
        self.assertEqual(branch_types, {"staff", "student"})
        self.assertEqual(Membership.objects.filter(user__username="leader").count(), 1)

    @override_settings(DEBUG=True)
    def test_it_prints_logins_that_work(self):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        self.assertIn("leader-demo-2026", out.getvalue())
        self.assertIsNotNone(
            authenticate(username="leader", password="leader-demo-2026")
        )
        managers = Membership.objects.filter(role="manager")
        self.assertEqual(
            managers.count(), Unit.objects.filter(kind="committee").count()
        )

    def test_it_refuses_when_debug_is_off_without_yes(self):
        with self.assertRaises(CommandError):
            call_command("seed_demo", stdout=io.StringIO())
        self.assertFalse(Unit.objects.exists())
        self.assertFalse(get_user_model().objects.exists())

    def test_yes_allows_it_when_debug_is_off(self):
        call_command("seed_demo", "--yes", stdout=io.StringIO())
        self.assertTrue(Unit.objects.exists())

    @override_settings(DEBUG=True)
    def test_if_empty_leaves_a_database_with_units_alone(self):
        Unit.objects.create(code="X", name="别的学校", kind="school")
        out = io.StringIO()
        call_command("seed_demo", "--if-empty", stdout=out)
        self.assertEqual(Unit.objects.count(), 1)
        self.assertIn("not loaded", out.getvalue())
