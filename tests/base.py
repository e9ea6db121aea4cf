"""Shared test data: a small tree and the personas every endpoint is tried with.

- ``leader``: the office (领导小组办公室) at the school — the whole school.
- ``manager_a``: manager of committee A (and so of its branches and window).
- ``manager_b``: manager of committee B.
- ``reviewer``: read-only, whole school.
- anonymous: no login.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import TestCase
from rest_framework.test import APIClient

from organizations.models import Membership, Unit


def make_unit(
    code: str, kind: str, parent: Unit | None = None, category: str = "", **extra
) -> Unit:
    return Unit.objects.create(
        code=code,
        name=extra.pop("name", f"单位{code}"),
        kind=kind,
        category=category,
        parent=parent,
        **extra,
    )


def make_user(username: str, role: str | None = None, unit: Unit | None = None):
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username
    )
    if role:
        Membership.objects.create(user=user, unit=unit, role=role)
    return user


class PersonaTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        cls.unit_a = make_unit(
            "A", Unit.Kind.COMMITTEE, cls.school, "teaching", name="甲学院党委"
        )
        cls.branch_a = make_unit(
            "A-1", Unit.Kind.BRANCH, cls.unit_a, "student", name="甲学院学生党支部"
        )
        cls.window_a = make_unit(
            "A-W", Unit.Kind.WINDOW, cls.branch_a, name="甲学院服务窗口"
        )
        cls.unit_b = make_unit(
            "B", Unit.Kind.COMMITTEE, cls.school, "administration", name="乙机关党委"
        )
        cls.branch_b = make_unit(
            "B-1", Unit.Kind.BRANCH, cls.unit_b, "staff", name="乙机关教工党支部"
        )
        cls.leader = make_user("leader", Membership.Role.OFFICE, cls.school)
        cls.manager_a = make_user("manager_a", Membership.Role.MANAGER, cls.unit_a)
        cls.manager_b = make_user("manager_b", Membership.Role.MANAGER, cls.unit_b)
        cls.reviewer = make_user("reviewer", Membership.Role.REVIEWER, cls.school)

    def api(self, user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=get_user_model().objects.get(pk=user.pk))
        return client

    def login(self, user) -> None:
        self.client.force_login(user)
