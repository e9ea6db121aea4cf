from rest_framework.permissions import SAFE_METHODS, BasePermission

from .access import scope_for


class IsOfficeForWrites(BasePermission):
    """Anyone with a scope reads; only the office (领导小组办公室) changes the tree."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return scope_for(request.user).is_office

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return scope_for(request.user).can_administer(obj)
