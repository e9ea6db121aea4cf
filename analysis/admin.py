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


@admin.register(AnalysisRun)
class AnalysisRunAdmin(ReadOnly, UnitScopedAdmin):
    unit_path = "campaign__organizer"
    list_display = ["campaign", "created_at", "n_responses"]


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
        from organizations.access import scope_for

        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        return (
            queryset
            if scope.everything
            else queryset.filter(
                run__campaign__organizer__in=scope.administered_units()
            )
        )


@admin.register(Finding)
class FindingAdmin(ReadOnly, UnitScopedAdmin):
    # Decisions go through the API or pages (finding_decide), which record who decided.
    list_display = ["title", "unit", "campaign", "trigger", "status", "severity"]
    list_filter = ["status", "trigger", "severity"]
