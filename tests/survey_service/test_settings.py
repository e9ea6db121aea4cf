"""Start-up with bad settings fails clearly. Each case starts a real Python process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLEAN = {
    key: value
    for key, value in os.environ.items()
    if key not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
    and not key.startswith("DJANGO")
}


def start(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**CLEAN, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = start()
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_it_starts_without_secret_key_in_debug():
    result = start(DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_it_starts_with_a_secret_key():
    result = start(SECRET_KEY="a" * 50)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("SUBMIT_RATE_LIMIT", "thirty a minute"),
        ("CONN_MAX_AGE", "forever"),
        ("DATABASE_URL", "mongodb://localhost/x"),
        ("REDIS_URL", "http://localhost:6379"),
        ("PUBLIC_BASE_URL", "pj.example.edu.cn"),
        ("EMAIL_URL", "carrier-pigeon://x"),
        ("CSRF_TRUSTED_ORIGINS", "pj.example.edu.cn"),
        ("SECURE_HSTS_SECONDS", "-1"),
        ("LOG_LEVEL", "LOUD"),
        ("RESPONSE_TIME_RESOLUTION", "minute"),
    ],
)
def test_a_malformed_variable_stops_start_up_naming_it(name, value):
    result = start(SECRET_KEY="a" * 50, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("raw", "kept"), [("", "day"), ("hour", "hour"), ("Day", "day")]
)
def test_the_response_time_resolution_is_read_from_the_environment(raw, kept):
    env = {
        **CLEAN,
        "SECRET_KEY": "a" * 50,
        "DJANGO_SETTINGS_MODULE": "survey_service.settings",
    }
    if raw:
        env["RESPONSE_TIME_RESOLUTION"] = raw
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.RESPONSE_TIME_RESOLUTION)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == kept


def test_check_deploy_passes_with_production_like_variables():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **CLEAN,
            "SECRET_KEY": "x9!" + "k" * 60 + "Qz#4",
            "ALLOWED_HOSTS": "pj.example.edu.cn",
            "CSRF_TRUSTED_ORIGINS": "https://pj.example.edu.cn",
            "PUBLIC_BASE_URL": "https://pj.example.edu.cn",
            "SECURE_SSL_REDIRECT": "1",
            "BEHIND_PROXY": "1",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "SECURE_HSTS_PRELOAD": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rate_limit_parsing():
    from survey_service.settings import parse_rate

    assert parse_rate("X", "30/10m") == (30, 600)
    assert parse_rate("X", "5/h") == (5, 3600)
    assert parse_rate("X", "off") is None


def test_email_url_parsing():
    from survey_service.settings import parse_email_url

    smtp = parse_email_url("EMAIL_URL", "submission://bot%40edu.cn:p%40ss@mail.edu.cn")
    assert smtp["EMAIL_HOST"] == "mail.edu.cn"
    assert smtp["EMAIL_PORT"] == 587
    assert smtp["EMAIL_HOST_USER"] == "bot@edu.cn"
    assert smtp["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert smtp["EMAIL_USE_TLS"] is True
    assert parse_email_url("EMAIL_URL", "console://")["EMAIL_BACKEND"].endswith(
        "console.EmailBackend"
    )
