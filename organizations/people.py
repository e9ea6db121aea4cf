"""Accounts and their roles, run by the office within its own scope.

An office reaches the accounts whose every role lies in the units it administers
(the school's office: every account), gives roles only at those units, and never
locks the school out: the last office role at the school, and the last account
holding one, stay. New and reset passwords are one-time passwords, returned to
the caller to show once; the account must change it at its next login
(organizations.middleware).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from survey_service.spreadsheets import TableError, read_table

from .access import Scope
from .models import AccountProfile, Membership, Unit
from .services import ImportRefused, RowError

Role = Membership.Role

# Letters and digits nobody misreads on a screen or a slip (no 0/O, 1/l/I).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,18}[0-9]$")


class PeopleRefused(Exception):
    """Nothing was changed; ``errors`` maps a form field ("__all__" for the form
    as a whole) to the reasons, in words for the office."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def _refuse(field_name: str, message: str) -> PeopleRefused:
    return PeopleRefused({field_name: [message]})


# --- Reading ----------------------------------------------------------------------


def accounts_in_scope(scope: Scope) -> QuerySet[AbstractUser]:
    """The accounts this office may see and manage: every role within its units.

    The school's office reaches every account, those without a role too; an
    office of a sub-tree only accounts with a role there and none elsewhere, so
    it never resets the password of someone who answers to the school.
    Superusers are managed by superusers only.
    """
    users = get_user_model().objects.all()
    if not scope.everything:
        users = users.exclude(is_superuser=True)
    if not scope.is_office:
        return users.none()
    if scope.administers_all():
        return users
    units = scope.administered_units()
    outside = Membership.objects.exclude(unit__in=units).values("user_id")
    return users.filter(memberships__unit__in=units).exclude(pk__in=outside).distinct()


def display_name(user: AbstractUser) -> str:
    # A Chinese full name is 姓 + 名 without a space; the form stores it whole.
    return f"{user.last_name}{user.first_name}".strip() or user.get_username()


def must_change_password(user: AbstractUser) -> bool:
    return AccountProfile.objects.filter(
        user_id=user.pk, must_change_password=True
    ).exists()


def profile_of(user: AbstractUser) -> AccountProfile:
    profile = AccountProfile.objects.filter(user_id=user.pk).first()
    return profile or AccountProfile(user=user)


# --- One-time passwords -------------------------------------------------------------


class _OneTimeHasher(PBKDF2PasswordHasher):
    # A one-time password is random (60 bits) and replaced at the first login,
    # where Django re-hashes it at full strength (must_update); fewer rounds keep
    # an import of a few hundred accounts within a request's time.
    iterations = 50_000


def one_time_password() -> str:
    """Like ``k7mq-x3pa-9tfr``: twelve characters, easy to read out and type."""
    chars = [secrets.choice(_ALPHABET) for _ in range(12)]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 12, 4))


def _set_one_time_password(user: AbstractUser) -> str:
    password = one_time_password()
    preferred = settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1]
    if preferred == PBKDF2PasswordHasher.__name__:
        user.password = make_password(password, hasher=_OneTimeHasher())
    else:
        user.set_password(password)
    user.save()
    AccountProfile.objects.update_or_create(
        user=user, defaults={"must_change_password": True}
    )
    return password


# --- Checks shared by the form and the import ----------------------------------------


def _username_errors(username: str) -> list[str]:
    if not username:
        return [_("工号为空。")]
    if len(username) > 150:
        return [_("工号最多 150 个字符。")]
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        return [_("工号只能包含字母、数字和 @ . + - _ 字符，不能有空格。")]
    return []


def _name_errors(name: str) -> list[str]:
    if not name:
        return [_("姓名为空。")]
    if len(name) > 150:
        return [_("姓名最多 150 个字符。")]
    return []


def _email_errors(email: str) -> list[str]:
    if not email:
        return []
    try:
        validate_email(email)
    except ValidationError:
        return [_("邮箱“%(email)s”格式不正确。") % {"email": email}]
    return []


def _phone_errors(phone: str) -> list[str]:
    if phone and not _PHONE.match(phone):
        return [_("手机号“%(phone)s”格式不正确（6 到 20 位数字）。") % {"phone": phone}]
    return []


def _unit_errors(scope: Scope, unit: Unit) -> list[str]:
    if not scope.can_administer(unit):
        # Name the unit only to someone who may see it anyway.
        where = str(unit) if scope.can_view(unit) else _("所选单位")
        return [
            _("%(unit)s不在您的管理范围内：只能在本单位及其下级单位分配角色。")
            % {"unit": where}
        ]
    if not unit.active:
        return [_("%(unit)s已停用，不能在此分配角色。") % {"unit": unit}]
    return []


def _username_taken(username: str) -> bool:
    return get_user_model().objects.filter(username__iexact=username).exists()


# --- Writing -----------------------------------------------------------------------


def account_create(
    *,
    scope: Scope,
    name: str,
    username: str,
    email: str = "",
    phone: str = "",
    role: str = "",
    unit: Unit | None = None,
) -> tuple[AbstractUser, str]:
    """Create an account with a one-time password; returns it and the password.

    An office of a sub-tree must give the account a role there at once: without
    one the account would leave its reach the moment it is created.
    """
    name, username, email, phone = (
        name.strip(),
        username.strip(),
        email.strip(),
        phone.strip(),
    )
    errors: dict[str, list[str]] = {}
    for field_name, problems in (
        ("name", _name_errors(name)),
        ("username", _username_errors(username)),
        ("email", _email_errors(email)),
        ("phone", _phone_errors(phone)),
    ):
        if problems:
            errors[field_name] = problems
    if "username" not in errors and _username_taken(username):
        errors["username"] = [
            _("工号 %(username)s 已有账户。") % {"username": username}
        ]
    if bool(role) != (unit is not None):
        errors["role"] = [_("角色和单位须同时选择，或都不选。")]
    elif unit is None and not scope.administers_all():
        errors["role"] = [_("请为新账户指定本单位范围内的角色，否则您将无法管理它。")]
    elif unit is not None:
        if role not in Role.values:
            errors["role"] = [_("未知的角色。")]
        if problems := _unit_errors(scope, unit):
            errors["unit"] = problems
    if errors:
        raise PeopleRefused(errors)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                username=username, email=email, first_name=name
            )
            AccountProfile.objects.create(user=user, phone=phone)
            if unit is not None:
                Membership.objects.create(user=user, unit=unit, role=role)
            password = _set_one_time_password(user)
    except IntegrityError:  # the same 工号, created a moment ago by someone else
        raise _refuse(
            "username", _("工号 %(username)s 已有账户。") % {"username": username}
        ) from None
    return user, password


def role_give(
    *, scope: Scope, account: AbstractUser, role: str, unit: Unit
) -> Membership:
    if role not in Role.values:
        raise _refuse("role", _("未知的角色。"))
    if problems := _unit_errors(scope, unit):
        raise PeopleRefused({"unit": problems})
    with transaction.atomic():
        if Membership.objects.filter(user=account, unit=unit, role=role).exists():
            raise _refuse(
                "__all__",
                _("该账户已是%(unit)s的%(role)s。")
                % {"unit": unit, "role": Role(role).label},
            )
        return Membership.objects.create(user=account, unit=unit, role=role)


def _school_offices() -> QuerySet[Membership]:
    """Office roles at the school (a root of the tree) of accounts that may log in."""
    return Membership.objects.filter(
        role=Role.OFFICE,
        unit__parent__isnull=True,
        unit__active=True,
        user__is_active=True,
    )


def role_remove(*, scope: Scope, membership: Membership) -> None:
    if not scope.can_administer(membership.unit_id):
        raise _refuse("__all__", _("该角色不在您的管理范围内。"))
    if membership.role == Role.OFFICE and membership.user_id == scope.user.pk:
        raise _refuse(
            "__all__", _("不能移除自己的办公室角色：请由另一位办公室账户操作。")
        )
    with transaction.atomic():
        offices = _school_offices().select_for_update()
        if (
            offices.filter(pk=membership.pk).exists()
            and not offices.exclude(pk=membership.pk).exists()
        ):
            raise _refuse(
                "__all__",
                _("这是学校领导小组办公室的最后一个角色，移除后无人能管理系统。"),
            )
        membership.delete()


def account_set_active(*, scope: Scope, account: AbstractUser, active: bool) -> None:
    """Deactivate (no login; its sessions end) or reactivate an account."""
    if not active and account.pk == scope.user.pk:
        raise _refuse("__all__", _("不能停用自己的账户。"))
    with transaction.atomic():
        if not active:
            offices = _school_offices().select_for_update()
            if (
                offices.filter(user=account).exists()
                and not offices.exclude(user=account).exists()
            ):
                raise _refuse(
                    "__all__",
                    _("这是学校领导小组办公室唯一可登录的账户，停用后无人能管理系统。"),
                )
        account.is_active = active
        account.save(update_fields=["is_active"])


def password_reset(*, scope: Scope, account: AbstractUser) -> str:
    """A new one-time password (returned, to show once); the old one stops working
    and so do the account's open sessions."""
    if account.pk == scope.user.pk:
        raise _refuse("__all__", _("请在“我的账户”中修改自己的密码。"))
    with transaction.atomic():
        return _set_one_time_password(account)


def password_change(*, user: AbstractUser, new_password: str) -> None:
    """The account's own new password (already validated); a one-time password's
    duty to change ends here."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save()
        AccountProfile.objects.filter(user=user).update(must_change_password=False)


def one_time_password_retire(*, user: AbstractUser) -> bool:
    """A login through the school's CAS proves the person: an unused one-time
    password (which the office has seen) stops working and nothing asks the person
    for a local password they never chose. True when there was one to retire."""
    with transaction.atomic():
        if not AccountProfile.objects.filter(
            user=user, must_change_password=True
        ).update(must_change_password=False):
            return False
        user.set_unusable_password()
        user.save(update_fields=["password"])
        return True


# --- Import ------------------------------------------------------------------------

PEOPLE_COLUMNS = ["username", "name", "unit_code", "role", "email", "phone"]
_REQUIRED = ["username", "name", "unit_code", "role"]
_HEADER_ALIASES = {
    "工号": "username",
    "用户名": "username",
    "姓名": "name",
    "单位编码": "unit_code",
    "角色": "role",
    "邮箱": "email",
    "电子邮箱": "email",
    "手机": "phone",
    "手机号": "phone",
}
_COLUMN_LABELS = {
    "username": "工号",
    "name": "姓名",
    "unit_code": "单位编码",
    "role": "角色",
}


def _role_lookup() -> dict[str, str]:
    table = {value: value for value in Role.values}
    table.update({str(label): value for value, label in Role.choices})
    table.update({"办公室": "office", "管理员": "manager", "查阅": "reviewer"})
    return table


@dataclass
class ImportedAccount:
    username: str
    name: str
    password: str


@dataclass
class PeopleImportResult:
    created: list[ImportedAccount] = field(default_factory=list)
    roles_added: list[str] = field(default_factory=list)  # existing usernames
    unchanged: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    username: str
    name: str
    unit_code: str
    role: str
    email: str
    phone: str
    errors: list[str] = field(default_factory=list)
    unit: Unit | None = None
    account: AbstractUser | None = None


def _parse(table) -> list[_Row]:
    headers = [_HEADER_ALIASES.get(header, header) for header in table.headers]
    missing = [column for column in _REQUIRED if column not in headers]
    if missing:
        labels = "、".join(_COLUMN_LABELS[column] for column in missing)
        raise ImportRefused(
            [RowError(1, "", [_("缺少列：%(cols)s。") % {"cols": labels}])]
        )
    position = {c: headers.index(c) for c in PEOPLE_COLUMNS if c in headers}
    roles = _role_lookup()
    rows = []
    for number, cells in table.rows:
        padded = [*cells, *[""] * len(headers)]
        values = {c: padded[i].strip() for c, i in position.items()}
        raw_role = values["role"]
        row = _Row(
            number=number,
            username=values["username"],
            name=values["name"],
            unit_code=values["unit_code"],
            role=roles.get(raw_role, ""),
            email=values.get("email", ""),
            phone=values.get("phone", ""),
        )
        row.errors += _username_errors(row.username) + _name_errors(row.name)
        row.errors += _email_errors(row.email) + _phone_errors(row.phone)
        if not row.unit_code:
            row.errors.append(_("单位编码为空。"))
        if not row.role:
            row.errors.append(
                _("未知的角色“%(role)s”（可用：办公室、管理员、查阅人）。")
                % {"role": raw_role}
            )
        rows.append(row)
    return rows


def _check_rows(scope: Scope, rows: list[_Row]) -> None:
    first_seen: dict[str, int] = {}
    for row in rows:
        key = row.username.casefold()
        if row.username and key in first_seen:
            row.errors.append(
                _("工号 %(username)s 与第 %(row)d 行重复。")
                % {"username": row.username, "row": first_seen[key]}
            )
        elif row.username:
            first_seen[key] = row.number
    units = {
        unit.code: unit
        for unit in Unit.objects.filter(code__in=[row.unit_code for row in rows])
    }
    users = get_user_model().objects
    reachable = set(accounts_in_scope(scope).values_list("pk", flat=True))
    for row in rows:
        if row.unit_code:
            row.unit = units.get(row.unit_code)
            if row.unit is None:
                row.errors.append(
                    _("单位编码 %(code)s 不存在。") % {"code": row.unit_code}
                )
            else:
                row.errors += _unit_errors(scope, row.unit)
        if not row.username:
            continue
        row.account = users.filter(username__iexact=row.username).first()
        if row.account is None:
            continue
        if row.account.pk not in reachable:
            row.errors.append(
                _("工号 %(username)s 已有账户，但不在您的管理范围内。")
                % {"username": row.username}
            )
        elif row.name and display_name(row.account) != row.name:
            row.errors.append(
                _(
                    "工号 %(username)s 已有账户，姓名为“%(existing)s”，与文件中的“%(name)s”不符。"
                )
                % {
                    "username": row.username,
                    "existing": display_name(row.account),
                    "name": row.name,
                }
            )


def accounts_import(*, scope: Scope, data: bytes, filename: str) -> PeopleImportResult:
    """Create accounts and give roles from a CSV or XLSX file, all or nothing.

    One row per account: 工号, 姓名, 单位编码, 角色, and optionally 邮箱, 手机. A
    工号 that already has an account (with the same name) gets the row's role;
    a new one gets an account with a one-time password, returned in the result.
    Any bad row raises ImportRefused listing every bad row, and nothing is written.
    """
    try:
        table = read_table(data, filename)
    except TableError as exc:
        raise ImportRefused([RowError(None, "", [str(exc)])]) from None
    rows = _parse(table)
    if not rows:
        raise ImportRefused([RowError(None, "", [_("文件中没有账户数据。")])])
    result = PeopleImportResult()
    with transaction.atomic():
        _check_rows(scope, rows)
        bad = [RowError(r.number, r.username, r.errors) for r in rows if r.errors]
        if bad:
            raise ImportRefused(bad)
        for row in rows:
            assert row.unit is not None
            if row.account is None:
                user = get_user_model().objects.create_user(
                    username=row.username, email=row.email, first_name=row.name
                )
                AccountProfile.objects.create(user=user, phone=row.phone)
                Membership.objects.create(user=user, unit=row.unit, role=row.role)
                password = _set_one_time_password(user)
                result.created.append(ImportedAccount(row.username, row.name, password))
                continue
            _membership, created = Membership.objects.get_or_create(
                user=row.account, unit=row.unit, role=row.role
            )
            target = result.roles_added if created else result.unchanged
            target.append(row.account.get_username())
    return result
