from django.urls import path

from . import people_pages, views

urlpatterns = [
    path("units/", views.unit_list, name="manage-units"),
    path("units/import/", views.unit_import, name="manage-unit-import"),
    path("units/export.<str:filetype>", views.unit_export, name="manage-unit-export"),
    # Accounts and roles (the office), and everyone's own account.
    path("people/", people_pages.people_list, name="manage-people"),
    path("people/new/", people_pages.person_new, name="manage-person-new"),
    path("people/import/", people_pages.people_import, name="manage-people-import"),
    path(
        "people/import/passwords.csv",
        people_pages.people_import_passwords,
        name="manage-people-import-passwords",
    ),
    path("people/<int:user_id>/", people_pages.person_detail, name="manage-person"),
    path(
        "people/<int:user_id>/roles/",
        people_pages.person_role_add,
        name="manage-person-role-add",
    ),
    path(
        "people/<int:user_id>/roles/<int:membership_id>/remove/",
        people_pages.person_role_remove,
        name="manage-person-role-remove",
    ),
    path(
        "people/<int:user_id>/status/<str:action>/",
        people_pages.person_status,
        name="manage-person-status",
    ),
    path(
        "people/<int:user_id>/reset-password/",
        people_pages.person_reset,
        name="manage-person-reset",
    ),
    path("account/", people_pages.account, name="manage-account"),
]
