from django.urls import path

from . import ledger_pages, pages, task_pages, views

urlpatterns = [
    # The results page's button: analysis, findings and re-survey verdicts at once
    # (rectification owns it because analysis may not call into rectification).
    path(
        "campaigns/<int:campaign_id>/results/analyze/",
        views.results_analyze,
        name="analysis-analyze",
    ),
    path(
        "evidence/<int:evidence_id>/",
        views.evidence_download,
        name="evidence-download",
    ),
    path("rectification/", pages.inbox, name="rectification-inbox"),
    path(
        "findings/<int:finding_id>/",
        pages.finding_detail,
        name="rectification-finding",
    ),
    path(
        "findings/<int:finding_id>/decide/",
        pages.finding_decision,
        name="rectification-finding-decide",
    ),
    path(
        "findings/<int:finding_id>/task/",
        pages.finding_task,
        name="rectification-finding-task",
    ),
    path("tasks/<int:task_id>/", task_pages.task_detail, name="rectification-task"),
    path(
        "tasks/<int:task_id>/actions/<str:action>/",
        task_pages.task_action,
        name="rectification-task-action",
    ),
    path(
        "tasks/<int:task_id>/progress/",
        task_pages.task_progress,
        name="rectification-task-progress",
    ),
    path(
        "tasks/<int:task_id>/evidence/",
        task_pages.task_evidence,
        name="rectification-task-evidence",
    ),
    path(
        "tasks/<int:task_id>/extensions/",
        task_pages.task_extension,
        name="rectification-task-extension",
    ),
    path(
        "tasks/<int:task_id>/extensions/<int:extension_id>/decide/",
        task_pages.task_extension_decide,
        name="rectification-extension-decide",
    ),
    path("ledger/", ledger_pages.ledger, name="rectification-ledger"),
    path(
        "ledger/export.<str:filetype>",
        ledger_pages.ledger_export,
        name="rectification-ledger-export",
    ),
]
