from django.urls import path

from . import pages, views

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
        "findings/<int:finding_id>/decide/",
        pages.finding_decision,
        name="rectification-finding-decide",
    ),
    path(
        "findings/<int:finding_id>/task/",
        pages.finding_task,
        name="rectification-finding-task",
    ),
    path("tasks/<int:task_id>/", pages.task_detail, name="rectification-task"),
    path(
        "tasks/<int:task_id>/actions/<str:action>/",
        pages.task_action,
        name="rectification-task-action",
    ),
    path(
        "tasks/<int:task_id>/progress/",
        pages.task_progress,
        name="rectification-task-progress",
    ),
    path(
        "tasks/<int:task_id>/evidence/",
        pages.task_evidence,
        name="rectification-task-evidence",
    ),
    path(
        "tasks/<int:task_id>/extensions/",
        pages.task_extension,
        name="rectification-task-extension",
    ),
    path(
        "tasks/<int:task_id>/extensions/<int:extension_id>/decide/",
        pages.task_extension_decide,
        name="rectification-extension-decide",
    ),
    path("ledger/", pages.ledger, name="rectification-ledger"),
    path(
        "ledger/export.<str:filetype>",
        pages.ledger_export,
        name="rectification-ledger-export",
    ),
]
