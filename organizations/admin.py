"""Admin for the tree and roles, scoped for staff who are not superusers.

Later apps reuse :class:`UnitScopedAdmin`: set ``unit_path`` to the lookup from
the model to its unit, and the admin shows and edits only what the user's scope
(organizations.access) reaches.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .access import scope_for
from .models import AccountProfile, Membership, Unit
from .services import unit_save


class UnitScopedAdmin(admin.ModelAdmin):
    unit_path = "unit"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.everything:
            return queryset
        return queryset.filter(**{f"{self.unit_path}__in": scope.visible_units()})

    def _unit_of(self, obj) -> Unit | None:
        for part in self.unit_path.split("__"):
            obj = obj if part == "pk" else getattr(obj, part, None)
            if obj is None:
                return None
        return obj

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        unit = self._unit_of(obj)
        return unit is not None and scope_for(request.user).can_administer(unit)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        unit = self._unit_of(obj)
        return unit is not None and scope_for(request.user).can_administer(unit)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        scope = scope_for(request.user)
        if db_field.related_model is Unit and not scope.everything:
            kwargs["queryset"] = scope.administered_units()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Unit)
class UnitAdmin(UnitScopedAdmin):
    unit_path = "pk"
    list_display = [
        "code",
        "name",
        "kind",
        "category",
        "parent",
        "active",
        "sort_order",
    ]
    list_filter = ["kind", "category", "active"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    ordering = ["sort_order", "code"]

    def save_model(self, request: HttpRequest, obj: Unit, form, change: bool) -> None:
        unit_save(unit=obj)


@admin.register(Membership)
class MembershipAdmin(UnitScopedAdmin):
    list_display = ["user", "role", "unit"]
    list_filter = ["role"]
    search_fields = ["user__username", "unit__code", "unit__name"]
    list_select_related = ["user", "unit"]
    autocomplete_fields = ["unit"]


@admin.register(AccountProfile)
class AccountProfileAdmin(admin.ModelAdmin):
    """Superusers only: an account's phone and one-time-password flag belong to
    no unit, and the office manages them on /manage/people/."""

    list_display = ["user", "phone", "must_change_password"]
    search_fields = ["user__username", "phone"]
    list_select_related = ["user"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)
