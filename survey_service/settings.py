"""Settings for the 群众评议 survey service, read from the environment.

Every variable is parsed by a strict helper: a malformed value stops start-up
with ImproperlyConfigured naming the variable, instead of running with a guess.
The variables are listed in README.md.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(name: str, raw: str) -> tuple[int, int] | None:
    """Parse a rate such as ``30/10m`` into (count, seconds); ``off`` is None."""
    value = raw.strip().lower()
    if value in {"off", "none", "0"}:
        return None
    match = re.fullmatch(r"(\d+)\s*/\s*(\d*)\s*([smhd])", value)
    if not match or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"{name} must look like 30/10m (count/period with s, m, h or d) or 'off'; got {raw!r}"
        )
    count, multiple, unit = (
        int(match.group(1)),
        int(match.group(2) or 1),
        match.group(3),
    )
    if multiple < 1:
        raise ImproperlyConfigured(f"{name} has a zero period; got {raw!r}")
    return count, multiple * _RATE_UNITS[unit]


def parse_duration(name: str, raw: str) -> int:
    """Parse a duration such as ``15m`` (s, m, h or d) into seconds."""
    match = re.fullmatch(r"(\d+)\s*([smhd])", raw.strip().lower())
    if not match or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"{name} must look like 15m (a number with s, m, h or d); got {raw!r}"
        )
    return int(match.group(1)) * _RATE_UNITS[match.group(2)]


_DRF_PERIODS = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


def parse_api_rate(name: str, raw: str) -> str | None:
    """A DRF throttle rate such as ``60/min`` (per s, min, hour or day), or ``off``."""
    value = raw.strip().lower()
    if value in {"off", "none"}:
        return None
    match = re.fullmatch(r"(\d+)/([a-z]+)", value)
    # DRF reads only the period's first letter, so ``10/5m`` would silently mean
    # 10 a minute: such values are refused rather than misread.
    if not match or int(match.group(1)) < 1 or match.group(2) not in _DRF_PERIODS:
        raise ImproperlyConfigured(
            f"{name} must look like 60/min (count per s, min, hour or day) or 'off'; "
            f"got {raw!r}"
        )
    return value


def parse_trusted_proxies(name: str, entries: list[str]) -> list[str]:
    """Addresses or CIDR networks (``10.0.0.0/8``, ``::1``), or ``unix`` for a peer
    on a Unix socket; normalised, e.g. ``127.0.0.1`` becomes ``127.0.0.1/32``."""
    networks = []
    for entry in entries:
        if entry.lower() == "unix":
            networks.append("unix")
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be comma-separated addresses or networks such as "
                f"127.0.0.1, 10.0.0.0/8 or unix; got {entry!r}"
            ) from None
        if network.prefixlen == 0:
            raise ImproperlyConfigured(
                f"{name} must not trust every address ({entry!r}): anyone could then "
                "forge X-Forwarded-For"
            )
        networks.append(str(network))
    return networks


def parse_email_url(name: str, raw: str) -> dict[str, object]:
    """Parse ``smtp://user:pass@host:587?tls=1``, ``console://`` or ``locmem://``."""
    parts = urlsplit(raw)
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
        "submission": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperlyConfigured(
            f"{name} must start with one of {', '.join(sorted(backends))}://; got {raw!r}"
        )
    result: dict[str, object] = {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme in {"smtp", "smtps", "submission"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name} needs a host; got {raw!r}")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} has a malformed port; got {raw!r}"
            ) from None
        result.update(
            EMAIL_HOST=parts.hostname,
            EMAIL_PORT=port or {"smtps": 465, "submission": 587}.get(parts.scheme, 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtps" or query.get("ssl") in _TRUE,
            EMAIL_USE_TLS=parts.scheme == "submission" or query.get("tls") in _TRUE,
        )
    return result


# --- Core ---------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off: set SECRET_KEY to a long random "
            "string (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

# In development a phone on the same network opens this machine by its address.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if not re.match(r"^https?://[^/\s]+$", _origin):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entries must be origins like https://pj.example.edu.cn; "
            f"got {_origin!r}"
        )

PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", PUBLIC_BASE_URL):
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL must be an origin such as https://pj.example.edu.cn; "
        f"got {PUBLIC_BASE_URL!r}"
    )

# The QR codes send respondents to PUBLIC_BASE_URL, so a form posted from a page
# there is our own even when a proxy presents the request under another host name.
_public_origin = "/".join(PUBLIC_BASE_URL.split("/", 3)[:3])
if _public_origin not in CSRF_TRUSTED_ORIGINS:
    CSRF_TRUSTED_ORIGINS.append(_public_origin)
# A refused form gets a page in the product's words, not Django's developer page.
CSRF_FAILURE_VIEW = "survey_service.views.csrf_failure"

# How precisely a response's time is kept: the day, or the day and the hour.
RESPONSE_TIME_RESOLUTION = env_str("RESPONSE_TIME_RESOLUTION", "day").strip().lower()
if RESPONSE_TIME_RESOLUTION not in ("day", "hour"):
    raise ImproperlyConfigured(
        f"RESPONSE_TIME_RESOLUTION must be day or hour; got {RESPONSE_TIME_RESOLUTION!r}"
    )

# Accepted submissions wait in their point's pool and are written as shuffled batches
# of this many (questionnaires.pool): neither a ballot nor the database's own
# bookkeeping orders or links a response more finely than its batch. 1 turns it off.
ANONYMITY_BATCH = env_int("ANONYMITY_BATCH", 10, minimum=1)
# Seconds a worker keeps a point's round, unit and commitments for its
# respondent page (questionnaires/page_cache.py): a round closed early or a
# commitment edited shows in other workers this much later (submissions always
# read the round fresh). 0 reads them on every request.
RESPONDENT_FACTS_SECONDS = env_int("RESPONDENT_FACTS_SECONDS", 1, minimum=0)
# Days a submission's nonce is kept to recognise a double tap or a retried page;
# purge_nonces deletes older ones.
NONCE_RETENTION_DAYS = env_int("NONCE_RETENTION_DAYS", 7, minimum=1)

SUBMIT_RATE_LIMIT = parse_rate(
    "SUBMIT_RATE_LIMIT", env_str("SUBMIT_RATE_LIMIT", "30/10m")
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Campus single sign-on (CAS section below); installed always, used when configured.
    "django_cas_ng",
    "organizations",
    "questionnaires",
    "analysis",
    "rectification",
    "survey_service",  # the commands that span the apps (seed_demo, analyze_campaign)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "organizations.middleware.ForcePasswordChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "survey_service.urls"
WSGI_APPLICATION = "survey_service.wsgi.application"
ASGI_APPLICATION = "survey_service.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "organizations.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------

_database_url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    _database = dj_database_url.parse(
        _database_url,
        conn_max_age=env_int("CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
if not _database.get("ENGINE"):
    raise ImproperlyConfigured(f"DATABASE_URL has an unknown scheme: {_database_url!r}")
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer commits; IMMEDIATE makes a write
    # transaction take the lock up front instead of failing on upgrade.
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"REDIS_URL must start with redis://; got {REDIS_URL!r}"
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "survey"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ---------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "manage-home"
LOGOUT_REDIRECT_URL = "home"

# Brute-force protection (django-axes) on every password login, /accounts/login/
# and /admin/login/ alike: after LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one client address, that pair is refused, even with the right
# password, for LOGIN_LOCKOUT. Keyed on the pair, because a campus puts whole
# offices behind one address: one person's typos do not lock out colleagues.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT = parse_duration("LOGIN_LOCKOUT", env_str("LOGIN_LOCKOUT", "15m"))
if LOGIN_LOCKOUT % 60:  # the lockout page says how many minutes to wait
    raise ImproperlyConfigured(
        f"LOGIN_LOCKOUT must be whole minutes (e.g. 15m or 1h); got {LOGIN_LOCKOUT}s"
    )
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The lockout runs its full time from the last counted failure; trying again while
# locked out neither counts nor prolongs it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The same client address as the flood limit's (TRUSTED_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "survey_service.security.login_client_address"
# Failures are kept (username, address, user agent, path) only until they expire;
# successful logins are not recorded; logs mask the username and the address.
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
AXES_VERBOSE = False

# --- Internationalisation -----------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------

if env_str("EMAIL_URL"):
    globals().update(parse_email_url("EMAIL_URL", env_str("EMAIL_URL")))
else:
    EMAIL_BACKEND = env_str(
        "EMAIL_BACKEND",
        "django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend",
    )
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "pingyi@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The supervising office (督办): the daily escalation summary goes to these addresses.
SUPERVISION_EMAILS = env_list("SUPERVISION_EMAILS")
for _address in SUPERVISION_EMAILS:
    try:
        validate_email(_address)
    except ValidationError:
        raise ImproperlyConfigured(
            f"SUPERVISION_EMAILS must be comma-separated e-mail addresses; got {_address!r}"
        ) from None

# --- Security -----------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0
)
# Off by default: other hosts under a university's domain may not speak HTTPS yet.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles and everything else only
# from this site's own files, so no inline script, event-handler attribute or
# style attribute runs; images also as data: URLs (QR codes, the blank favicon).
# The API docs add their CDN (survey_service/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    # Only behind a proxy that sets these headers itself; otherwise clients could forge them.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Whose X-Forwarded-For is believed (questionnaires/ratelimit.py:client_address):
# the flood limit, the API throttles and the login lockout all key on the address
# it gives. Behind a proxy on the same machine the default is enough.
TRUSTED_PROXIES = parse_trusted_proxies(
    "TRUSTED_PROXIES",
    env_list("TRUSTED_PROXIES")
    if env_str("TRUSTED_PROXIES")
    else (["127.0.0.1", "::1", "unix"] if BEHIND_PROXY else []),
)
if TRUSTED_PROXIES and not BEHIND_PROXY:
    raise ImproperlyConfigured(
        "TRUSTED_PROXIES is set but BEHIND_PROXY is off: set BEHIND_PROXY=1 when a "
        "proxy is in front, or leave TRUSTED_PROXIES unset"
    )
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024

# --- Campus single sign-on (CAS, 统一身份认证) -----------------------------------
# Optional. With CAS_SERVER_URL set (the school's CAS, e.g.
# https://cas.example.edu.cn/cas/), the login page offers 统一身份认证登录
# (survey_service/cas.py, django-cas-ng) beside the password form. CAS vouches
# for a username; only an active account of that username that already exists
# here logs in: none is ever created. Local passwords keep working.
CAS_SERVER_URL = env_str("CAS_SERVER_URL")
if CAS_SERVER_URL:
    if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", CAS_SERVER_URL):
        raise ImproperlyConfigured(
            "CAS_SERVER_URL must be the CAS server's base URL such as "
            f"https://cas.example.edu.cn/cas/; got {CAS_SERVER_URL!r}"
        )
    # The client joins "login", "logout", "p3/serviceValidate" onto it.
    CAS_SERVER_URL = CAS_SERVER_URL.rstrip("/") + "/"
    AUTHENTICATION_BACKENDS.append("survey_service.cas.ExistingAccountBackend")
    # Logging out posts the header's form, whose redirects end at the CAS logout.
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        "/".join(CAS_SERVER_URL.split("/", 3)[:3])
    )
# The protocol of the ticket check: 3 (/p3/serviceValidate, the default) or 2.
CAS_VERSION = env_str("CAS_VERSION", "3")
if CAS_VERSION not in {"2", "3"}:
    raise ImproperlyConfigured(f"CAS_VERSION must be 2 or 3; got {CAS_VERSION!r}")
CAS_CREATE_USER = False
CAS_REDIRECT_URL = LOGIN_REDIRECT_URL
CAS_IGNORE_REFERER = True  # without ?next= a CAS login lands on the workbench
CAS_LOGOUT_COMPLETELY = True  # logging out here ends the CAS session too
CAS_LOGOUT_NEXT_PAGE = "/"  # where CAS sends the browser after its logout
CAS_LOGIN_MSG = None  # as after a password login: the workbench, no message
CAS_LOGGED_MSG = None
# A CAS login carries a ticket the CAS server checks, not a password: it neither
# counts as a failed login nor is refused by the lockout (CAS guards its own
# password form), so refusals of unknown accounts never lock out an address.
AXES_WHITELIST_CALLABLE = "survey_service.cas.is_ticket_login"

# --- API ----------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: an API client without credentials gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "survey_service.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "survey_service.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "survey_service.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Per client address (TRUSTED_PROXIES) without a login, per user with one; a
    # throttled request gets 429 with Retry-After. The public respondent API is
    # exempt: the submission flood limit (SUBMIT_RATE_LIMIT) governs it, as it
    # does the form, and an assembly behind one campus address must get through.
    "DEFAULT_THROTTLE_CLASSES": [
        "survey_service.security.AnonThrottle",
        "survey_service.security.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": parse_api_rate(
            "API_THROTTLE_ANON", env_str("API_THROTTLE_ANON", "60/min")
        ),
        "user": parse_api_rate(
            "API_THROTTLE_USER", env_str("API_THROTTLE_USER", "600/min")
        ),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "群众评议 Survey Service API",
    "DESCRIPTION": "Anonymous evaluation, statistics and rectification (整改) tracking.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The API's contract is JSON (uploads declare multipart themselves); the form
    # parsers stay for the browsable API and are not promised to integrators.
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Swagger UI served from our own static files (drf-spectacular-sidecar), not
    # from its CDN: nothing at run time comes from another host.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The default hook first (named enums), then an empty choice filter is "all".
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "survey_service.openapi.empty_query_choices",
    ],
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "organizations.models.Unit.Kind",
        "QuestionKindEnum": "questionnaires.models.Question.Kind",
    },
}

# --- Logging ------------------------------------------------------------------
# Console only. Request lines carry paths, never client addresses: see README.
# Ballot codes are redacted (survey_service/log_redaction.py): on the loggers that
# name request paths, since a logger's filter sees only its own records, and on
# the console handler for anything else that reaches it.

_REDACT = ["redact_ballot_codes"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_ballot_codes": {"()": "survey_service.log_redaction.RedactBallotCodes"}
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # Django's own format for runserver's request lines.
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": _REDACT,
        },
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": _REDACT,
        },
    },
    # Records of our apps and Django (at LOG_LEVEL) propagate to the root's handler;
    # the root logger itself stays at WARNING because scipy's optimiser (used by
    # Boschloo's test) logs every step at INFO straight on it.
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"level": env_str("LOG_LEVEL", "INFO").upper()}
        for name in (
            "django",
            "survey_service",
            "organizations",
            "questionnaires",
            "analysis",
            "rectification",
        )
    },
}
LOGGING["loggers"]["django.db.backends"] = {"level": "WARNING"}
LOGGING["loggers"]["django.request"] = {"filters": _REDACT}
LOGGING["loggers"]["django.security.csrf"] = {"filters": _REDACT}
# runserver's request lines, as Django logs them by default (not propagated).
LOGGING["loggers"]["django.server"] = {
    "handlers": ["server"],
    "level": "INFO",
    "propagate": False,
    "filters": _REDACT,
}
if LOGGING["loggers"]["django"]["level"] not in {
    "DEBUG",
    "INFO",
    "WARNING",
    "ERROR",
    "CRITICAL",
}:
    raise ImproperlyConfigured(
        "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL"
    )
