"""Settings of the test CAS server (django-cas-server): its own SQLite database in a
temporary folder (``CAS_TEST_DB``), cookies named apart from the service's (a
browser keeps cookies per host, not per port, and both run on 127.0.0.1), nothing
fetched from other hosts."""

import os

SECRET_KEY = "test-cas-server-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cas_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "tests.cas_server.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["CAS_TEST_DB"],
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
STATIC_URL = "/static/"
SESSION_COOKIE_NAME = "cas_sessionid"
CSRF_COOKIE_NAME = "cas_csrftoken"
LANGUAGE_COOKIE_NAME = "cas_language"

# The users are this project's own Django users (tests/cas_server/serve.py).
CAS_AUTH_CLASS = "cas_server.auth.DjangoAuthUser"
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_INFO_MESSAGES_ORDER = []
CAS_COMPONENT_URLS = {
    name: "data:text/css," if name.endswith("_css") else "data:text/javascript,"
    for name in (
        "bootstrap3_css",
        "bootstrap3_js",
        "html5shiv",
        "respond",
        "bootstrap4_css",
        "bootstrap4_js",
        "jquery",
    )
}
CAS_LOGO_URL = None
CAS_SHOW_POWERED = False
CAS_FAVICON_URL = None
