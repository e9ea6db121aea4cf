"""The demo university, after the seed plan (创先争优活动省级示范点创建工作实施方案).

Three kinds of 二级党组织 as the plan names them — 教学院部, 机关和教辅, 后勤和校属企业 —
with 教工 and 学生 党支部 and the 文明示范窗口/示范岗 the plan asks 机关 to run.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Membership, Unit
from .services import unit_save

SCHOOL = ("CSUST", "长沙理工大学")

# code, name, category, manager username
COMMITTEES = [
    ("T01", "土木工程学院党委", "teaching", "tumu"),
    ("T02", "电气与信息工程学院党委", "teaching", "dianqi"),
    ("T03", "交通运输工程学院党委", "teaching", "jiaotong"),
    ("A01", "机关党委", "administration", "jiguan"),
    ("A02", "图书馆与教辅单位党总支", "administration", "jiaofu"),
    ("L01", "后勤保障处党委", "logistics", "houqin"),
]

# code, name, category (staff / student), parent committee
BRANCHES = [
    ("T01-S1", "土木工程学院教工第一党支部", "staff", "T01"),
    ("T01-S2", "土木工程学院教工第二党支部", "staff", "T01"),
    ("T01-U1", "土木工程学院本科生党支部", "student", "T01"),
    ("T01-U2", "土木工程学院研究生党支部", "student", "T01"),
    ("T02-S1", "电气与信息工程学院教工党支部", "staff", "T02"),
    ("T02-S2", "电气与信息工程学院实验中心党支部", "staff", "T02"),
    ("T02-U1", "电气与信息工程学院本科生党支部", "student", "T02"),
    ("T02-U2", "电气与信息工程学院研究生党支部", "student", "T02"),
    ("T03-S1", "交通运输工程学院教工党支部", "staff", "T03"),
    ("T03-S2", "交通运输工程学院交通规划教工党支部", "staff", "T03"),
    ("T03-U1", "交通运输工程学院本科生党支部", "student", "T03"),
    ("T03-U2", "交通运输工程学院研究生党支部", "student", "T03"),
    ("A01-S1", "党委组织部党支部", "staff", "A01"),
    ("A01-S2", "教务处党支部", "staff", "A01"),
    ("A01-S3", "学生工作部党支部", "staff", "A01"),
    ("A01-S4", "财务处党支部", "staff", "A01"),
    ("A02-S1", "图书馆党支部", "staff", "A02"),
    ("A02-S2", "现代教育技术中心党支部", "staff", "A02"),
    ("L01-S1", "饮食服务中心党支部", "staff", "L01"),
    ("L01-S2", "物业与公寓服务中心党支部", "staff", "L01"),
]

# code, name, parent
WINDOWS = [
    ("W01", "学生事务一站式服务中心", "A01"),
    ("W02", "教务处服务窗口", "A01-S2"),
    ("W03", "财务处报账窗口", "A01-S4"),
    ("W04", "图书馆总服务台", "A02-S1"),
    ("W05", "第一食堂文明示范岗", "L01-S1"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    unit: str


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


@transaction.atomic
def demo_tree_build() -> list[DemoLogin]:
    """Create or refresh the demo tree and its users; running it twice leaves one copy."""
    units: dict[str, Unit] = {}

    def put(
        code: str, name: str, kind: str, category: str, parent: Unit | None, order: int
    ) -> None:
        unit = Unit.objects.filter(code=code).first() or Unit(code=code)
        unit.name, unit.kind, unit.category, unit.parent = name, kind, category, parent
        unit.active, unit.sort_order = True, order
        units[code] = unit_save(unit=unit)

    put(SCHOOL[0], SCHOOL[1], Unit.Kind.SCHOOL, "", None, 0)
    for order, (code, name, category, _user) in enumerate(COMMITTEES, start=1):
        put(code, name, Unit.Kind.COMMITTEE, category, units[SCHOOL[0]], order)
    for order, (code, name, category, parent) in enumerate(BRANCHES, start=1):
        put(code, name, Unit.Kind.BRANCH, category, units[parent], order)
    for order, (code, name, parent) in enumerate(WINDOWS, start=1):
        put(code, name, Unit.Kind.WINDOW, "", units[parent], order)

    people = [
        ("leader", Membership.Role.OFFICE, SCHOOL[0]),
        ("reviewer", Membership.Role.REVIEWER, SCHOOL[0]),
    ]
    people += [
        (username, Membership.Role.MANAGER, code)
        for code, _n, _c, username in COMMITTEES
    ]
    logins = []
    User = get_user_model()
    for username, role, code in people:
        user, _created = User.objects.get_or_create(username=username)
        user.set_password(demo_password(username))
        user.is_active = True
        user.save()
        Membership.objects.get_or_create(user=user, unit=units[code], role=role)
        logins.append(
            DemoLogin(
                username,
                demo_password(username),
                str(Membership.Role(role).label),
                units[code].name,
            )
        )
    return logins


def demo_logins() -> list[DemoLogin]:
    """The demo users that exist now, for printing without changing anything."""
    memberships = (
        Membership.objects.filter(
            user__username__in=["leader", "reviewer", *[c[3] for c in COMMITTEES]]
        )
        .select_related("user", "unit")
        .order_by("unit__sort_order", "unit__code")
    )
    return [
        DemoLogin(
            m.user.username,
            demo_password(m.user.username),
            m.get_role_display(),
            m.unit.name,
        )
        for m in memberships
    ]
