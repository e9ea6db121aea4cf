from django.urls import path

from . import round_pages, views

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
]
