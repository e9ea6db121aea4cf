"""The 整改台账 page and its export: tasks, and confirmed problems still waiting for
one (待交办), through ``visible_tasks`` and ``visible_findings``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from analysis.models import Finding
from organizations.models import Unit
from questionnaires.models import Campaign
from survey_service.spreadsheets import CONTENT_TYPES

from .access import earlier_for, office_of_findings, visible_tasks
from .ledger import (
    OPEN_STATES,
    ledger_rows,
    ledger_summary,
    ledger_table,
    pending_findings,
)
from .models import Task

PENDING = "pending"
ALL = gettext_lazy("全部")


class LedgerFilter(forms.Form):
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("评议轮次"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=ALL,
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("牵头单位"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=ALL,
    )
    state = forms.ChoiceField(
        label=gettext_lazy("状态"),
        choices=[("", ALL), (PENDING, gettext_lazy("待交办")), *Task.State.choices],
        required=False,
    )
    colour = forms.ChoiceField(
        label=gettext_lazy("督办"),
        choices=[("", ALL), *[c for c in Task.Colour.choices if c[0]]],
        required=False,
    )
    overdue = forms.BooleanField(label=gettext_lazy("只看逾期"), required=False)

    def __init__(
        self, data: Any, *, tasks: QuerySet[Task], findings: QuerySet[Finding]
    ) -> None:
        super().__init__(data)
        self.fields["campaign"].queryset = Campaign.objects.filter(
            pk__in=[*tasks.values_list("campaign", flat=True)]
            + [*findings.values_list("campaign", flat=True)]
        ).order_by("-opens_at")
        self.fields["unit"].queryset = Unit.objects.filter(
            pk__in=[*tasks.values_list("lead_unit", flat=True)]
            + [*findings.values_list("unit", flat=True)]
        ).order_by("sort_order", "code")

    def filter(self, tasks: QuerySet[Task]) -> QuerySet[Task]:
        if not self.is_valid():
            return tasks.none()
        data = self.cleaned_data
        if data["campaign"]:
            tasks = tasks.filter(campaign=data["campaign"])
        if data["unit"]:
            tasks = tasks.filter(lead_unit=data["unit"])
        if data["state"] == PENDING:
            tasks = tasks.none()
        elif data["state"]:
            tasks = tasks.filter(state=data["state"])
        if data["colour"]:
            tasks = tasks.filter(colour=data["colour"])
        if data["overdue"]:
            tasks = tasks.filter(
                due_date__lt=timezone.localdate(), state__in=OPEN_STATES
            )
        return tasks.order_by("due_date", "id")

    def filter_pending(self, findings: QuerySet[Finding]) -> list[Finding]:
        """The waiting problems the filter keeps: none once it asks for a task's
        state, a colour or overdue tasks, which a problem without a task has not."""
        if not self.is_valid():
            return []
        data = self.cleaned_data
        if data["state"] not in ("", PENDING) or data["colour"] or data["overdue"]:
            return []
        if data["campaign"]:
            findings = findings.filter(campaign=data["campaign"])
        if data["unit"]:
            findings = findings.filter(unit=data["unit"])
        return list(findings)


def _ledger_filter(
    request: HttpRequest,
) -> tuple[LedgerFilter, QuerySet[Task], list[Finding]]:
    tasks = visible_tasks(request.user)
    findings = pending_findings(request.user)
    form = LedgerFilter(request.GET, tasks=tasks, findings=findings)
    return form, form.filter(tasks), form.filter_pending(findings)


@login_required
@require_safe
def ledger(request: HttpRequest) -> HttpResponse:
    form, filtered, pending = _ledger_filter(request)
    tasks = list(filtered.prefetch_related("cooperating_units"))
    is_office = office_of_findings(request.user)
    for finding in pending:
        finding.is_office = is_office(finding)
    earlier = earlier_for(
        request.user, [*pending, *(t.finding for t in tasks if t.finding_id)]
    )
    for task in tasks:
        task.earlier = earlier.get(task.finding_id)
    for finding in pending:
        finding.earlier = earlier.get(finding.pk)
    query = request.GET.urlencode()
    return render(
        request,
        "rectification/ledger.html",
        {
            "form": form,
            "tasks": tasks,
            "pending": pending,
            "listed": len(tasks) + len(pending),
            "summary": ledger_summary(filtered, pending=pending),
            "rows": ledger_rows(filtered, pending=pending),
            "exports": [
                (fmt, reverse("rectification-ledger-export", args=[fmt]) + "?" + query)
                for fmt in ("csv", "xlsx")
            ],
        },
    )


@login_required
@require_safe
def ledger_export(request: HttpRequest, filetype: str) -> HttpResponse:
    if filetype not in CONTENT_TYPES:
        raise Http404
    _form, tasks, pending = _ledger_filter(request)
    response = HttpResponse(
        ledger_table(tasks, fmt=filetype, pending=pending),
        content_type=CONTENT_TYPES[filetype],
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="ledger-{stamp}.{filetype}"'
    )
    return response
