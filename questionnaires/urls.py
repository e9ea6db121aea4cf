from django.urls import path

from . import commitment_pages, round_ballots, round_pages, views
from . import editor_pages as editor

urlpatterns = [
    path("campaigns/", views.campaign_list, name="manage-campaigns"),
    path("campaigns/new/", round_pages.campaign_new, name="manage-campaign-new"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="manage-campaign"),
    path(
        "campaigns/<int:campaign_id>/edit/",
        round_pages.campaign_edit,
        name="manage-campaign-edit",
    ),
    path(
        "campaigns/<int:campaign_id>/transition/<str:action>/",
        views.campaign_transition,
        name="manage-campaign-transition",
    ),
    path(
        "campaigns/<int:campaign_id>/preview/<str:kind>/",
        round_pages.campaign_preview,
        name="manage-campaign-preview",
    ),
    path(
        "campaigns/<int:campaign_id>/ballots/",
        round_ballots.campaign_ballots,
        name="manage-campaign-ballots",
    ),
    path(
        "campaigns/<int:campaign_id>/posters.pdf",
        views.campaign_posters,
        name="manage-campaign-posters",
    ),
    path(
        "campaigns/<int:campaign_id>/units/<int:unit_id>/commitments/",
        views.commitments_edit,
        name="manage-commitments",
    ),
    path(
        "points/<int:point_id>/qr.svg",
        views.point_qr,
        {"fmt": "svg"},
        name="manage-point-qr-svg",
    ),
    path(
        "points/<int:point_id>/qr.png",
        views.point_qr,
        {"fmt": "png"},
        name="manage-point-qr-png",
    ),
    path(
        "points/<int:point_id>/poster.pdf",
        views.point_poster,
        name="manage-point-poster",
    ),
    path(
        "points/<int:point_id>/ballots/",
        views.point_ballots,
        name="manage-point-ballots",
    ),
    path(
        "campaigns/<int:campaign_id>/commitments/",
        commitment_pages.commitments_overview,
        name="manage-commitments-overview",
    ),
]

# The questionnaire editor (questionnaires.editor_pages): a version is named by its
# key and number, its dimensions and questions by their codes.
_Q = "questionnaires/<slug:key>/<int:version>/"
urlpatterns += [
    path("questionnaires/", editor.questionnaire_list, name="manage-questionnaires"),
    path(_Q, editor.questionnaire_detail, name="manage-questionnaire"),
    path(
        f"{_Q}preview/",
        editor.questionnaire_preview,
        name="manage-questionnaire-preview",
    ),
    path(f"{_Q}copy/", editor.questionnaire_copy, name="manage-questionnaire-copy"),
    path(
        f"{_Q}new-version/",
        editor.new_version,
        name="manage-questionnaire-new-version",
    ),
    path(f"{_Q}publish/", editor.draft_publish, name="manage-questionnaire-publish"),
    path(f"{_Q}delete/", editor.draft_delete, name="manage-questionnaire-delete"),
    path(f"{_Q}settings/", editor.draft_settings, name="manage-questionnaire-settings"),
    path(
        f"{_Q}dimensions/add/",
        editor.dimension_add,
        name="manage-questionnaire-dimension-add",
    ),
    path(
        f"{_Q}dimensions/<slug:code>/",
        editor.dimension_edit,
        name="manage-questionnaire-dimension",
    ),
    path(
        f"{_Q}dimensions/<slug:code>/move/",
        editor.dimension_move,
        name="manage-questionnaire-dimension-move",
    ),
    path(
        f"{_Q}dimensions/<slug:code>/remove/",
        editor.dimension_remove,
        name="manage-questionnaire-dimension-remove",
    ),
    path(
        f"{_Q}questions/add/",
        editor.question_add,
        name="manage-questionnaire-question-add",
    ),
    path(
        f"{_Q}questions/<slug:code>/",
        editor.question_edit,
        name="manage-questionnaire-question",
    ),
    path(
        f"{_Q}questions/<slug:code>/move/",
        editor.question_move,
        name="manage-questionnaire-question-move",
    ),
    path(
        f"{_Q}questions/<slug:code>/remove/",
        editor.question_remove,
        name="manage-questionnaire-question-remove",
    ),
]
