from django.urls import path

from . import views

urlpatterns = [
    path("", views.manage_home, name="manage-home"),
    path("units/", views.unit_list, name="manage-units"),
    path("units/import/", views.unit_import, name="manage-unit-import"),
    path("units/export.<str:filetype>", views.unit_export, name="manage-unit-export"),
]
