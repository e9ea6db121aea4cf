"""Admin for runs, results and findings: results are read-only snapshots."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from organizations.admin import UnitScopedAdmin

from .models import AnalysisRun, Finding, Result


class ReadOnly:
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _administered(request: HttpRequest, queryset, path: str):
    """Only the rounds the user runs as the office."""
    from organizations.access import scope_for

    scope = scope_for(request.user)
    if scope.everything:
        return queryset
    return queryset.filter(**{f"{path}__in": scope.administered_units()})


@admin.register(AnalysisRun)
class AnalysisRunAdmin(ReadOnly, UnitScopedAdmin):
    # Runs carry the office's quality figures (bursts, straight-lining per point).
    unit_path = "campaign__organizer"
    list_display = ["campaign", "created_at", "n_responses"]

    def get_queryset(self, request: HttpRequest):
        return _administered(request, super().get_queryset(request), self.unit_path)


@admin.register(Result)
class ResultAdmin(ReadOnly, UnitScopedAdmin):
    # Raw rows, including those under the anonymity threshold: the office's only.
    unit_path = "run__campaign__organizer"
    list_display = [
        "run",
        "level",
        "unit",
        "label",
        "n_valid",
        "rate",
        "flag",
        "suppressed",
    ]
    list_filter = ["level", "flag", "suppressed"]

    def get_queryset(self, request: HttpRequest):
        return _administered(request, super().get_queryset(request), self.unit_path)


@admin.register(Finding)
class FindingAdmin(ReadOnly, UnitScopedAdmin):
    # Decisions go through the API or pages (finding_decide), which record who decided.
    list_display = ["title", "unit", "campaign", "trigger", "status", "severity"]
    list_filter = ["status", "trigger", "severity"]

    def get_queryset(self, request: HttpRequest):
        # The same rule as the pages and the API: candidates and unpublished
        # rounds' findings are the office's.
        from .access import visible_findings

        return (
            super()
            .get_queryset(request)
            .filter(pk__in=visible_findings(request.user).values("pk"))
        )
