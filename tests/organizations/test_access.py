from django.contrib.auth.models import AnonymousUser

from organizations.access import scope_for
from organizations.models import Membership, Unit
from tests.base import PersonaTestCase, make_user


def codes(queryset):
    return set(queryset.values_list("code", flat=True))


class ScopeTests(PersonaTestCase):
    def fresh(self, user):
        return type(user).objects.get(pk=user.pk)

    def test_the_office_sees_acts_on_and_administers_the_whole_school(self):
        scope = scope_for(self.fresh(self.leader))
        everything = codes(Unit.objects.all())
        self.assertEqual(codes(scope.visible_units()), everything)
        self.assertEqual(codes(scope.actionable_units()), everything)
        self.assertEqual(codes(scope.administered_units()), everything)
        self.assertTrue(scope.is_office)
        self.assertTrue(scope.administers_all())

    def test_manager_a_reaches_only_the_subtree_of_a(self):
        scope = scope_for(self.fresh(self.manager_a))
        self.assertEqual(codes(scope.visible_units()), {"A", "A-1", "A-W"})
        self.assertEqual(codes(scope.actionable_units()), {"A", "A-1", "A-W"})
        self.assertEqual(codes(scope.administered_units()), set())
        self.assertTrue(scope.can_act(self.window_a))
        self.assertFalse(scope.can_view(self.unit_b))
        self.assertFalse(scope.can_view(self.school))
        self.assertFalse(scope.is_office)

    def test_manager_b_reaches_only_the_subtree_of_b(self):
        scope = scope_for(self.fresh(self.manager_b))
        self.assertEqual(codes(scope.visible_units()), {"B", "B-1"})
        self.assertFalse(scope.can_view(self.branch_a))
        self.assertFalse(scope.can_act(self.window_a.pk))

    def test_the_reviewer_sees_everything_and_acts_on_nothing(self):
        scope = scope_for(self.fresh(self.reviewer))
        self.assertEqual(codes(scope.visible_units()), codes(Unit.objects.all()))
        self.assertEqual(codes(scope.actionable_units()), set())
        self.assertTrue(scope.sees_whole_school)
        self.assertFalse(scope.can_act(self.unit_a))

    def test_anonymous_reaches_nothing(self):
        scope = scope_for(AnonymousUser())
        self.assertEqual(codes(scope.visible_units()), set())
        self.assertFalse(scope.can_view(self.school))
        self.assertFalse(scope.is_office)
        self.assertEqual(codes(scope_for(None).visible_units()), set())

    def test_a_user_without_a_role_reaches_nothing(self):
        scope = scope_for(make_user("nobody"))
        self.assertEqual(codes(scope.visible_units()), set())

    def test_an_inactive_user_reaches_nothing(self):
        user = self.fresh(self.leader)
        user.is_active = False
        self.assertEqual(codes(scope_for(user).visible_units()), set())

    def test_a_manager_of_a_branch_does_not_reach_its_committee(self):
        user = make_user("branch_secretary", Membership.Role.MANAGER, self.branch_a)
        self.assertEqual(codes(scope_for(user).visible_units()), {"A-1", "A-W"})

    def test_roles_at_several_units_add_up(self):
        user = make_user("two_hats", Membership.Role.MANAGER, self.branch_a)
        Membership.objects.create(
            user=user, unit=self.unit_b, role=Membership.Role.REVIEWER
        )
        scope = scope_for(self.fresh(user))
        self.assertEqual(codes(scope.visible_units()), {"A-1", "A-W", "B", "B-1"})
        self.assertEqual(codes(scope.actionable_units()), {"A-1", "A-W"})

    def test_a_superuser_is_the_office_of_everything(self):
        admin = type(self.leader).objects.create_superuser("root", password="x")
        scope = scope_for(admin)
        self.assertTrue(scope.everything and scope.administers_all())
        self.assertEqual(codes(scope.visible_units()), codes(Unit.objects.all()))

    def test_an_office_of_one_committee_does_not_administer_everything(self):
        user = make_user("sub_office", Membership.Role.OFFICE, self.unit_a)
        scope = scope_for(user)
        self.assertTrue(scope.is_office)
        self.assertFalse(scope.administers_all())
        self.assertEqual(codes(scope.administered_units()), {"A", "A-1", "A-W"})

    def test_the_scope_costs_one_query_and_is_cached_on_the_user(self):
        user = self.fresh(self.manager_a)
        with self.assertNumQueries(1):
            scope_for(user)
            scope_for(user)
