"""Admin for the ledger, scoped by the lead unit. Events and evidence are read-only:
the audit trail is append-only and state changes go through task_transition."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from organizations.admin import UnitScopedAdmin

from .access import visible_tasks
from .models import Evidence, ExtensionRequest, Milestone, Task, TaskEvent


class OfVisibleTasks:
    """Rows of tasks the user may see, by the one rule (rectification.access)."""

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .filter(task__in=visible_tasks(request.user).values("pk"))
        )


class ReadOnlyScopedAdmin(OfVisibleTasks, UnitScopedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Task)
class TaskAdmin(UnitScopedAdmin):
    unit_path = "lead_unit"
    list_display = [
        "title",
        "lead_unit",
        "state",
        "colour",
        "due_date",
        "interview_candidate",
    ]
    list_filter = ["state", "colour", "task_type", "source"]
    search_fields = ["title", "lead_unit__name"]
    # The state and supervision fields move only through the services.
    readonly_fields = [
        "state",
        "colour",
        "red_since",
        "times_red",
        "interview_candidate",
        "resurvey_verdict",
        "resurvey_figures",
        "accepted_at",
        "closed_at",
        "lookback_on",
    ]
    inlines = [MilestoneInline]

    def get_queryset(self, request: HttpRequest):
        # The same rule as the pages and the API (drafts are the office's).
        return (
            super()
            .get_queryset(request)
            .filter(pk__in=visible_tasks(request.user).values("pk"))
        )

    # Read-only here: every change goes through rectification.services, which
    # checks the role and writes the event the audit trail needs.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the ledger keeps every task; dismiss instead


@admin.register(Milestone)
class MilestoneAdmin(OfVisibleTasks, UnitScopedAdmin):
    unit_path = "task__lead_unit"
    list_display = ["task", "title", "due_date", "done_on"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyScopedAdmin):
    unit_path = "task__lead_unit"
    list_display = ["task", "new_due_date", "status", "requested_at"]


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyScopedAdmin):
    unit_path = "task__lead_unit"
    list_display = ["task", "kind", "action", "from_state", "to_state", "actor", "at"]
    list_filter = ["kind"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyScopedAdmin):
    unit_path = "task__lead_unit"
    list_display = ["task", "original_name", "size", "sha256", "uploaded_at"]
    exclude = ["file"]  # downloads go through the access-checked view only
