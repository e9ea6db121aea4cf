from django.urls import path

from . import views

urlpatterns = [
    path(
        "campaigns/<int:campaign_id>/results/",
        views.results_overview,
        name="analysis-results",
    ),
    path(
        "campaigns/<int:campaign_id>/units/<int:unit_id>/report/",
        views.unit_report,
        name="analysis-unit-report",
    ),
    path(
        "campaigns/<int:campaign_id>/results/export.<str:filetype>",
        views.results_download,
        name="analysis-results-download",
    ),
]
