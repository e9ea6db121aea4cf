"""The service's URLs plus the baselines under /bench/ (bench/baseline.py)."""

from django.urls import path

from survey_service.urls import handler404
from survey_service.urls import urlpatterns as service_urlpatterns

from . import baseline

urlpatterns = [
    path("bench/page/<str:token>/", baseline.page, name="bench-page"),
    path("bench/insert/<str:token>/", baseline.insert, name="bench-insert"),
    *service_urlpatterns,
]

__all__ = ["handler404", "urlpatterns"]
