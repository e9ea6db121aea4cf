from django.urls import path

from . import views

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
]
