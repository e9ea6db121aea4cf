from django.contrib.auth.models import Permission

from organizations.models import Membership
from tests.base import PersonaTestCase, make_user


class ScopedAdminTests(PersonaTestCase):
    def staff(self, username: str, role: str, unit):
        user = make_user(username, role, unit)
        user.is_staff = True
        user.save()
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="organizations")
        )
        return user

    def test_a_staff_manager_sees_only_units_of_its_subtree(self):
        self.client.force_login(
            self.staff("staff_a", Membership.Role.MANAGER, self.unit_a)
        )
        response = self.client.get("/admin/organizations/unit/")
        self.assertContains(response, "甲学院服务窗口")
        self.assertNotContains(response, "乙机关党委")

    def test_a_staff_manager_cannot_change_a_unit_of_another_subtree(self):
        self.client.force_login(
            self.staff("staff_a", Membership.Role.MANAGER, self.unit_a)
        )
        response = self.client.get(
            f"/admin/organizations/unit/{self.unit_b.pk}/change/"
        )
        self.assertIn(response.status_code, (302, 403, 404))
        response = self.client.post(
            f"/admin/organizations/unit/{self.unit_b.pk}/change/",
            {
                "code": "B",
                "name": "被改名",
                "kind": "committee",
                "category": "administration",
                "parent": self.school.pk,
                "sort_order": 0,
            },
        )
        self.unit_b.refresh_from_db()
        self.assertEqual(self.unit_b.name, "乙机关党委")

    def test_a_staff_manager_cannot_change_its_own_unit_either(self):
        # Managers act on their units' work, but only the office changes the tree.
        self.client.force_login(
            self.staff("staff_a", Membership.Role.MANAGER, self.unit_a)
        )
        response = self.client.get(
            f"/admin/organizations/unit/{self.unit_a.pk}/change/"
        )
        self.assertContains(response, "甲学院党委")
        self.assertNotContains(response, 'name="_save"')

    def test_a_staff_office_changes_a_unit_through_the_tree_rules(self):
        self.client.force_login(
            self.staff("staff_office", Membership.Role.OFFICE, self.school)
        )
        response = self.client.post(
            f"/admin/organizations/unit/{self.branch_b.pk}/change/",
            {
                "code": "B-1",
                "name": "乙机关教工党支部",
                "kind": "branch",
                "category": "staff",
                "parent": self.school.pk,
                "sort_order": 0,
                "active": "on",
            },
        )
        self.assertEqual(response.status_code, 200)  # form redisplayed with the error
        self.branch_b.refresh_from_db()
        self.assertEqual(self.branch_b.parent, self.unit_b)

    def test_memberships_are_scoped_too(self):
        self.client.force_login(
            self.staff("staff_b", Membership.Role.MANAGER, self.unit_b)
        )
        response = self.client.get("/admin/organizations/membership/")
        self.assertContains(response, "manager_b")
        self.assertNotContains(response, "manager_a")

    def test_every_model_is_registered(self):
        from django.apps import apps
        from django.contrib import admin

        for app in ("organizations", "questionnaires", "analysis", "rectification"):
            for model in apps.get_app_config(app).get_models():
                self.assertTrue(admin.site.is_registered(model), model)
