"""Test-wide settings that differ from a server's.

Static files: pages in tests render with the plain storage, because the manifest
that production uses exists only after ``collectstatic`` (which
tests/survey_service/test_deploy.py runs for real).
"""

from django.conf import settings

settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
settings.STATIC_ROOT = None
settings.WHITENOISE_USE_FINDERS = True
