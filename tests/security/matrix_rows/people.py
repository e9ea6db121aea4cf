"""Rows of the people pages (/manage/people/) and of everyone's own account page.

Offices only: managers and reviewers get 403. The office of 二级党组织 A reaches the
accounts whose every role lies within A (``c.person``, a manager of 支部 A-1), not
one with a role at B (``c.person_b``: 404).
"""

from __future__ import annotations

from organizations.models import Membership
from tests.base import make_user
from tests.security.matrix import PAGE, POST_ONLY_PAGE, S, case, every

OFFICES = S(302, 403, 403, 403, 200, 200)
OFFICES_REDIRECTED = S(302, 403, 403, 403, 302, 302)


def setup(c) -> None:
    c.person = make_user("t1001", Membership.Role.MANAGER, c.branch_a)
    c.person_membership = c.person.memberships.get()
    c.person_b = make_user("t2001", Membership.Role.MANAGER, c.branch_b)


def new_account(c) -> dict[str, str]:
    return {
        "name": "李四",
        "username": "t9001",
        "email": "",
        "phone": "",
        "role": "manager",
        "unit": str(c.branch_a.pk),
    }


# fmt: off
ROWS = [
    case("manage-people", "/manage/people/", get=OFFICES),
    case("manage-person-new", "/manage/people/new/", get=OFFICES, post=OFFICES,
         body=new_account, note="created: the one-time password page"),
    case("manage-people-import", "/manage/people/import/", get=OFFICES,
         post=S(302, 403, 403, 403, 400, 400), note="no file: the form again"),
    case("manage-people-import-passwords", "/manage/people/import/passwords.csv",
         get=S(302, 403, 403, 403, 410, 410), note="nothing imported: gone"),
    case("manage-person", "/manage/people/{c.person.pk}/", get=OFFICES),
    case("manage-person", "/manage/people/{c.person_b.pk}/",
         get=S(302, 403, 403, 403, 404, 200), note="a role at B: not A's office's"),
    case("manage-person-role-add", "/manage/people/{c.person.pk}/roles/",
         get=POST_ONLY_PAGE, post=OFFICES_REDIRECTED,
         body=lambda c: {"role": "reviewer", "unit": str(c.unit_a.pk)}),
    case("manage-person-role-add", "/manage/people/{c.person.pk}/roles/",
         post=S(302, 403, 403, 403, 400, 302),
         body=lambda c: {"role": "reviewer", "unit": str(c.unit_b.pk)},
         note="a unit outside A: refused at the field"),
    case("manage-person-role-remove",
         "/manage/people/{c.person.pk}/roles/{c.person_membership.pk}/remove/",
         get=POST_ONLY_PAGE, post=OFFICES_REDIRECTED),
    case("manage-person-status", "/manage/people/{c.person.pk}/status/deactivate/",
         get=POST_ONLY_PAGE, post=OFFICES_REDIRECTED),
    case("manage-person-status", "/manage/people/{c.person_b.pk}/status/deactivate/",
         post=S(302, 403, 403, 403, 404, 302)),
    case("manage-person-reset", "/manage/people/{c.person.pk}/reset-password/",
         get=POST_ONLY_PAGE, post=OFFICES, note="the one-time password page"),
    case("manage-person-reset", "/manage/people/{c.person_b.pk}/reset-password/",
         post=S(302, 403, 403, 403, 404, 200)),
    case("manage-account", "/manage/account/", get=PAGE,
         post=every(400, anonymous=302), note="an empty form: errors at the fields"),
]
# fmt: on
