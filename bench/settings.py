"""The service's settings with the baselines' URLs added (bench/urls.py).

Only the HTTP suite's gunicorn runs with these; nothing else changes, so the
service and its baselines share one process, one database and one middleware.
"""

from survey_service.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
