"""The office's pages for accounts and roles (/manage/people/), and every user's own
account page (/manage/account/). The rules are organizations.people's; a refusal is
shown on the page it came from."""

from __future__ import annotations

import time

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from survey_service.spreadsheets import CONTENT_TYPES, write_csv

from .access import Scope, scope_for
from .models import Membership, Unit
from .people import (
    PeopleRefused,
    account_create,
    account_set_active,
    accounts_import,
    accounts_in_scope,
    display_name,
    must_change_password,
    password_change,
    password_reset,
    profile_of,
    role_give,
    role_remove,
)
from .services import ImportRefused, tree_order

Role = Membership.Role
IMPORT_SESSION_KEY = "people_import_passwords"
IMPORT_KEEP_SECONDS = 15 * 60


# --- Forms -------------------------------------------------------------------------


class UnitField(forms.ChoiceField):
    """The office's units in tree order; any unit's id is accepted, so that one
    outside the scope is refused by the service with its reason."""

    def __init__(self, *, scope: Scope, **kwargs) -> None:
        units = tree_order(list(scope.administered_units().filter(active=True)))
        depth: dict[int, int] = {}
        for unit in units:
            depth[unit.pk] = depth[unit.parent_id] + 1 if unit.parent_id in depth else 0
        choices = [(unit.pk, "　" * depth[unit.pk] + str(unit)) for unit in units]
        super().__init__(choices=[("", "---------"), *choices], **kwargs)

    def valid_value(self, value) -> bool:
        return str(value).isdigit()

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        unit = Unit.objects.filter(pk=value).first()
        if unit is None:
            raise forms.ValidationError(_("没有这个单位。"))
        return unit


def _role_choices(empty: str) -> list[tuple[str, str]]:
    return [("", empty), *Role.choices]


class AccountForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=150)
    username = forms.CharField(
        label=gettext_lazy("工号"),
        max_length=150,
        help_text=gettext_lazy("登录时使用的用户名，建立后不能修改。"),
    )
    email = forms.EmailField(label=gettext_lazy("邮箱"), required=False)
    phone = forms.CharField(label=gettext_lazy("手机"), max_length=20, required=False)
    role = forms.ChoiceField(label=gettext_lazy("角色"), required=False, choices=[])
    unit = forms.Field(label=gettext_lazy("单位"), required=False)

    def __init__(self, *args, scope: Scope, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(_("（暂不分配）"))
        self.fields["role"].help_text = _(
            "可选：建立时即分配一个角色；以后也可以在账户页面分配。"
        )
        self.fields["unit"] = UnitField(scope=scope, label=_("单位"), required=False)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("角色"), choices=Role.choices)
    unit = forms.Field(label=gettext_lazy("单位"))

    def __init__(self, *args, scope: Scope, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"] = UnitField(scope=scope, label=_("单位"))


class PeopleImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("账户文件"),
        help_text=gettext_lazy(
            "CSV（UTF-8 或 GBK/GB18030）或 XLSX，列：工号, 姓名, 单位编码, 角色，可选 邮箱, 手机"
        ),
    )


class OwnPasswordForm(PasswordChangeForm):
    """Django's password change, its validators included, in the page's words."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("当前密码")
        self.fields["new_password1"].label = _("新密码")
        self.fields["new_password2"].label = _("再次输入新密码")

    def clean(self):
        cleaned = super().clean()
        new, old = cleaned.get("new_password2"), cleaned.get("old_password")
        if new and old and new == old:
            self.add_error("new_password1", _("新密码不能与当前密码相同。"))
        return cleaned

    def save(self, commit: bool = True):
        password_change(user=self.user, new_password=self.cleaned_data["new_password1"])
        return self.user


# --- Helpers -----------------------------------------------------------------------


def _posted(request: HttpRequest):
    """The form's data on a POST (an empty one too: it shows the errors)."""
    return request.POST if request.method == "POST" else None


def _office_scope(request: HttpRequest) -> Scope:
    scope = scope_for(request.user)
    if not scope.is_office:
        raise PermissionDenied
    held = request.session.get(IMPORT_SESSION_KEY)
    if held and time.time() - held["at"] > IMPORT_KEEP_SECONDS:
        del request.session[IMPORT_SESSION_KEY]  # passwords are not kept for long
    return scope


def _account(scope: Scope, user_id: int):
    return get_object_or_404(accounts_in_scope(scope), pk=user_id)


def _put_errors(form: forms.Form, refused: PeopleRefused) -> None:
    for name, problems in refused.errors.items():
        for problem in problems:
            form.add_error(None if name not in form.fields else name, problem)


def _detail(
    request: HttpRequest,
    scope: Scope,
    account,
    *,
    role_form: RoleForm | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    memberships = account.memberships.select_related("unit").order_by(
        "unit__code", "role"
    )
    return render(
        request,
        "organizations/people_detail.html",
        {
            "account": account,
            "name": display_name(account),
            "profile": profile_of(account),
            "memberships": memberships,
            "role_form": role_form or RoleForm(scope=scope),
            "refusal": refusal,
            "is_self": account.pk == request.user.pk,
        },
        status=status,
    )


def _role_words(membership: Membership) -> dict[str, str]:
    return {"role": f"{membership.unit} · {membership.get_role_display()}"}


def _one_time(request: HttpRequest, account, password: str, *, created: bool):
    return render(
        request,
        "organizations/people_password.html",
        {
            "account": account,
            "name": display_name(account),
            "password": password,
            "created": created,
        },
    )


# --- The office's pages ------------------------------------------------------------


@login_required
@require_safe
def people_list(request: HttpRequest) -> HttpResponse:
    scope = _office_scope(request)
    accounts = accounts_in_scope(scope).order_by("username")
    unit_field = UnitField(scope=scope, required=False)
    role, query = request.GET.get("role", ""), request.GET.get("q", "").strip()
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        accounts = accounts.filter(memberships__unit_id=unit_id)
    if role in Role.values:
        accounts = accounts.filter(memberships__role=role)
    if query:
        accounts = accounts.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    accounts = accounts.distinct().prefetch_related(
        Prefetch("memberships", Membership.objects.select_related("unit"))
    )
    page = Paginator(accounts, 50).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "organizations/people_list.html",
        {
            "page": page,
            "rows": [(account, display_name(account)) for account in page],
            "units": unit_field.choices[1:],
            "roles": Role.choices,
            "selected": {"unit": unit_id, "role": role, "q": query},
            "filters": filters.urlencode(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    scope = _office_scope(request)
    form = AccountForm(_posted(request), scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account, password = account_create(
                scope=scope,
                name=data["name"],
                username=data["username"],
                email=data["email"],
                phone=data["phone"],
                role=data["role"],
                unit=data["unit"],
            )
        except PeopleRefused as refused:
            _put_errors(form, refused)
        else:
            return _one_time(request, account, password, created=True)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "organizations/people_new.html", {"form": form}, status=status
    )


@login_required
@require_safe
def person_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    scope = _office_scope(request)
    return _detail(request, scope, _account(scope, user_id))


@login_required
@require_POST
def person_role_add(request: HttpRequest, user_id: int) -> HttpResponse:
    scope = _office_scope(request)
    account = _account(scope, user_id)
    form = RoleForm(request.POST, scope=scope)
    if form.is_valid():
        try:
            membership = role_give(
                scope=scope,
                account=account,
                role=form.cleaned_data["role"],
                unit=form.cleaned_data["unit"],
            )
        except PeopleRefused as refused:
            _put_errors(form, refused)
        else:
            messages.success(
                request, _("已分配角色：%(role)s。") % _role_words(membership)
            )
            return redirect("manage-person", account.pk)
    return _detail(request, scope, account, role_form=form, status=400)


@login_required
@require_POST
def person_role_remove(
    request: HttpRequest, user_id: int, membership_id: int
) -> HttpResponse:
    scope = _office_scope(request)
    account = _account(scope, user_id)
    membership = get_object_or_404(
        account.memberships.select_related("unit"), pk=membership_id
    )
    try:
        role_remove(scope=scope, membership=membership)
    except PeopleRefused as refused:
        return _detail(request, scope, account, refusal=str(refused), status=400)
    messages.success(request, _("已移除角色：%(role)s。") % _role_words(membership))
    return redirect("manage-person", account.pk)


@login_required
@require_POST
def person_status(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    if action not in ("deactivate", "reactivate"):
        raise Http404
    scope = _office_scope(request)
    account = _account(scope, user_id)
    try:
        account_set_active(scope=scope, account=account, active=action == "reactivate")
    except PeopleRefused as refused:
        return _detail(request, scope, account, refusal=str(refused), status=400)
    if account.is_active:
        messages.success(request, _("账户已启用，可以登录。"))
    else:
        messages.success(request, _("账户已停用：不能再登录，已登录的会话也已失效。"))
    return redirect("manage-person", account.pk)


@login_required
@require_POST
def person_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    scope = _office_scope(request)
    account = _account(scope, user_id)
    try:
        password = password_reset(scope=scope, account=account)
    except PeopleRefused as refused:
        return _detail(request, scope, account, refusal=str(refused), status=400)
    return _one_time(request, account, password, created=False)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def people_import(request: HttpRequest) -> HttpResponse:
    scope = _office_scope(request)
    form = PeopleImportForm(_posted(request), request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = accounts_import(
                scope=scope, data=upload.read(), filename=upload.name
            )
        except ImportRefused as refused:
            errors = [str(error) for error in refused.errors]
        else:
            rows = [[a.username, a.name, a.password] for a in result.created]
            if rows:
                request.session[IMPORT_SESSION_KEY] = {"at": time.time(), "rows": rows}
            return render(
                request, "organizations/people_import_result.html", {"result": result}
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "organizations/people_import.html",
        {"form": form, "errors": errors},
        status=status,
    )


@login_required
@require_safe
def people_import_passwords(request: HttpRequest) -> HttpResponse:
    """The one-time passwords of the last import, once, within a quarter of an hour."""
    _office_scope(request)
    held = request.session.pop(IMPORT_SESSION_KEY, None)
    if not held or time.time() - held["at"] > IMPORT_KEEP_SECONDS:
        return render(request, "organizations/people_import_gone.html", status=410)
    body = write_csv([_("工号"), _("姓名"), _("临时密码")], held["rows"])
    response = HttpResponse(body, content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = 'attachment; filename="passwords.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- Everyone's own account ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    forced = must_change_password(user)
    form = OwnPasswordForm(user, _posted(request))
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改。"))
        return redirect(next_url or "manage-account")
    memberships = Membership.objects.filter(user=user).select_related("unit")
    return render(
        request,
        "organizations/account.html",
        {
            "form": form,
            "forced": forced,
            "next": next_url,
            "name": display_name(user),
            "profile": profile_of(user),
            "memberships": memberships,
            "everything": scope_for(user).everything,
            "is_office": scope_for(user).is_office,
        },
        status=400 if request.method == "POST" else 200,
    )
