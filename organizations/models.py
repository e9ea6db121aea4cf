from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UnitQuerySet(models.QuerySet["Unit"]):
    def subtree_of(self, roots: models.QuerySet | Iterable[int]) -> UnitQuerySet:
        """The given units and everything below them, in one query.

        The kind rules bound the tree to four levels (school → 二级党组织 → 支部 →
        窗口), so three joins up the parent chain reach every ancestor.
        """
        condition = Q(pk__in=roots)
        lookup = "parent_id"
        for _level in range(Unit.MAX_DEPTH - 1):
            condition |= Q(**{f"{lookup}__in": roots})
            lookup = "parent__" + lookup
        return self.filter(condition)

    def active(self) -> UnitQuerySet:
        return self.filter(active=True)


class Unit(models.Model):
    """A node of the organisation tree: the school, a 二级党组织, a 支部 or a window."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("学校")
        COMMITTEE = "committee", _("二级党组织")
        BRANCH = "branch", _("党支部")
        WINDOW = "window", _("服务窗口/示范岗")

    class Category(models.TextChoices):
        TEACHING = "teaching", _("教学院部")
        ADMINISTRATION = "administration", _("机关教辅")
        LOGISTICS = "logistics", _("后勤校企")
        STAFF = "staff", _("教工")
        STUDENT = "student", _("学生")

    # Which parent kinds each kind may hang under; the school is the only root.
    ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
        Kind.SCHOOL: (),
        Kind.COMMITTEE: (Kind.SCHOOL,),
        Kind.BRANCH: (Kind.COMMITTEE,),
        Kind.WINDOW: (Kind.COMMITTEE, Kind.BRANCH),
    }
    # Which categories each kind takes; None means the category must be empty.
    ALLOWED_CATEGORIES: dict[str, tuple[str, ...] | None] = {
        Kind.SCHOOL: None,
        Kind.COMMITTEE: (
            Category.TEACHING,
            Category.ADMINISTRATION,
            Category.LOGISTICS,
        ),
        Kind.BRANCH: (Category.STAFF, Category.STUDENT),
        Kind.WINDOW: None,
    }
    MAX_DEPTH = 4

    code = models.CharField(
        _("编码"),
        max_length=32,
        unique=True,
        help_text=_("稳定的唯一编码，导入导出以它识别单位，如 CS01。"),
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    category = models.CharField(
        _("类别"),
        max_length=16,
        choices=Category.choices,
        blank=True,
        help_text=_("二级党组织：教学院部/机关教辅/后勤校企；党支部：教工/学生。"),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="unit_code_not_empty"),
            models.CheckConstraint(condition=~Q(name=""), name="unit_name_not_empty"),
            models.CheckConstraint(
                condition=(Q(kind="school") & Q(parent__isnull=True))
                | (~Q(kind="school") & Q(parent__isnull=False)),
                name="unit_only_school_is_root",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["school", "committee", "branch", "window"]),
                name="unit_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        errors = tree_errors(
            kind=self.kind,
            category=self.category,
            parent=self.parent,
            ancestors_of=lambda unit: unit.ancestors(),
            self_pk=self.pk,
        )
        if errors:
            raise ValidationError(errors)

    def ancestors(self) -> list[Unit]:
        """Parents from the nearest up to the root; stops on a cycle."""
        chain: list[Unit] = []
        seen = {self.pk}
        unit = self.parent
        while unit is not None and unit.pk not in seen:
            chain.append(unit)
            seen.add(unit.pk)
            unit = unit.parent
        return chain

    @property
    def committee_category(self) -> str:
        """The 教学院部/机关教辅/后勤校企 category this unit reports under."""
        if self.kind == Unit.Kind.COMMITTEE:
            return self.category
        for ancestor in self.ancestors():
            if ancestor.kind == Unit.Kind.COMMITTEE:
                return ancestor.category
        return ""


def tree_errors(
    *,
    kind: str,
    category: str,
    parent: Unit | None,
    ancestors_of,
    self_pk: int | None,
) -> dict[str, list[str]]:
    """Check one unit's place in the tree; returns ``{field: [messages]}``.

    ``ancestors_of(parent)`` returns the parent's ancestors, so the same rule
    serves saved units (walking the database) and rows of an import file.
    """
    errors: dict[str, list[str]] = {}
    if kind not in Unit.ALLOWED_PARENTS:
        errors["kind"] = [str(_("未知的单位类型。"))]
        return errors
    if parent is not None and self_pk is not None:
        chain = [parent, *ancestors_of(parent)]
        if any(unit.pk == self_pk for unit in chain):
            errors["parent"] = [str(_("上级单位不能是本单位或其下级（会形成循环）。"))]
            return errors
    allowed = Unit.ALLOWED_PARENTS[kind]
    if not allowed and parent is not None:
        errors["parent"] = [str(_("学校是根节点，不能有上级单位。"))]
    elif allowed and parent is None:
        errors["parent"] = [str(_("此类型的单位必须有上级单位。"))]
    elif parent is not None and parent.kind not in allowed:
        errors["parent"] = [
            str(
                _("“%(kind)s”不能隶属于“%(parent_kind)s”。")
                % {
                    "kind": Unit.Kind(kind).label,
                    "parent_kind": Unit.Kind(parent.kind).label,
                }
            )
        ]
    categories = Unit.ALLOWED_CATEGORIES[kind]
    if categories is None and category:
        errors["category"] = [str(_("此类型的单位不设类别。"))]
    elif categories is not None and category not in categories:
        errors["category"] = [
            str(
                _("类别必须是：%(choices)s。")
                % {
                    "choices": "、".join(
                        str(Unit.Category(c).label) for c in categories
                    )
                }
            )
        ]
    return errors


class Membership(models.Model):
    """A user's role at a unit; the role reaches the unit and its whole subtree."""

    class Role(models.TextChoices):
        OFFICE = "office", _("领导小组办公室")
        MANAGER = "manager", _("单位管理员")
        REVIEWER = "reviewer", _("查阅人")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        ordering = ["unit__code", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["office", "manager", "reviewer"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit.name}"


class AccountProfile(models.Model):
    """What an account needs beyond Django's user: a phone, and whether its
    password is a one-time one that must be changed at the next login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="account_profile",
    )
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    class Meta:
        verbose_name = _("账户资料")
        verbose_name_plural = _("账户资料")

    def __str__(self) -> str:
        return str(self.user)
