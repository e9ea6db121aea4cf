import os
import subprocess
import sys
from pathlib import Path

from django.test import TestCase

ROOT = Path(__file__).resolve().parents[2]


class HealthzTests(TestCase):
    def test_it_answers_200_when_the_database_answers(self):
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["database"], "ok")
        self.assertIn("no-cache", response["Cache-Control"])

    def test_it_refuses_post(self):
        self.assertEqual(self.client.post("/healthz").status_code, 405)


def test_it_answers_503_when_the_database_does_not():
    # A real process whose database is a PostgreSQL port nothing listens on.
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(r.status_code, r.json()['status'])"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "survey_service.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none?connect_timeout=2",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["503", "unavailable"], result.stderr
