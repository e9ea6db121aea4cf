from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from survey_service.spreadsheets import CONTENT_TYPES

from .access import scope_for
from .services import ImportRefused, tree_order, units_export, units_import


class UnitImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("单位文件"),
        help_text=gettext_lazy(
            "CSV（UTF-8 或 GBK/GB18030）或 XLSX，列：code, name, kind, category, parent_code"
        ),
    )


@login_required
@require_safe
def unit_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    units = list(
        scope.visible_units().select_related("parent").order_by("sort_order", "code")
    )
    ordered = tree_order(units)  # parents come before their children
    depth: dict[int, int] = {}
    for unit in ordered:
        depth[unit.pk] = depth[unit.parent_id] + 1 if unit.parent_id in depth else 0
    rows = [(unit, depth[unit.pk]) for unit in ordered]
    return render(
        request,
        "organizations/unit_list.html",
        {"rows": rows, "form": UnitImportForm(), "can_import": scope.administers_all()},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def unit_import(request: HttpRequest) -> HttpResponse:
    """The units file, all or nothing: GET shows the form on a page of its own
    (a bookmark, or the error page's address reloaded), POST imports it."""
    if not scope_for(request.user).administers_all():
        raise PermissionDenied
    if request.method != "POST":
        return render(
            request, "organizations/unit_import_errors.html", {"form": UnitImportForm()}
        )
    form = UnitImportForm(request.POST, request.FILES)
    errors: list[str] = []
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = units_import(data=upload.read(), filename=upload.name)
        except ImportRefused as refused:
            errors = [str(error) for error in refused.errors]
        else:
            messages.success(
                request,
                _(
                    "导入成功：新增 %(created)d 个，更新 %(updated)d 个，未变 %(unchanged)d 个。"
                )
                % {
                    "created": len(result.created),
                    "updated": len(result.updated),
                    "unchanged": len(result.unchanged),
                },
            )
            return redirect("manage-units")
    return render(
        request,
        "organizations/unit_import_errors.html",
        {"form": form, "errors": errors, "failed": True},
        status=400,
    )


@login_required
@require_safe
def unit_export(request: HttpRequest, filetype: str) -> HttpResponse:
    if filetype not in CONTENT_TYPES:
        raise Http404
    units = scope_for(request.user).visible_units()
    response = HttpResponse(
        units_export(units, fmt=filetype), content_type=CONTENT_TYPES[filetype]
    )
    response["Content-Disposition"] = f'attachment; filename="units.{filetype}"'
    return response
