"""Which tasks a user may see and act on: the one helper every page and endpoint uses.

A task is visible to anyone whose scope reaches its lead unit or one of its
cooperating units (managers of those subtrees, reviewers, the office) — except that
drafts and tasks being verified are shown to the office only. What each may do with
a task is decided by ``rectification.services`` from the same scope.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from organizations.access import scope_for

from .models import Task


def visible_tasks(user) -> QuerySet[Task]:
    scope = scope_for(user)
    tasks = Task.objects.select_related("lead_unit", "finding", "campaign")
    if scope.everything:
        return tasks
    units = scope.visible_units()
    ids = Task.objects.filter(
        Q(lead_unit__in=units) | Q(cooperating_units__in=units)
    ).values("pk")
    return tasks.filter(pk__in=ids)
