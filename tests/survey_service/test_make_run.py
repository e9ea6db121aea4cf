"""`make run` for real: the demo with DEBUG off, as a newcomer first meets it.

Runs the Makefile's target on a fresh SQLite database with a small demo, then
asks the server for the home page, its stylesheet (collected and served by
WhiteNoise) and a wrong address (the product's 404 page, not Django's).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.survey_service.test_deploy import ROOT, free_port, get


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_the_demo_with_debug_off():
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"DEBUG", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS"}
            },
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "STATIC_ROOT": f"{tmp}/static",
        }
        secret = Path(tmp) / "secret"
        log = open(Path(tmp) / "log", "w+b")
        server = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "run",
                f"PORT={port}",
                "DEMO_RESPONSES=20",
                f"LOCAL_SECRET={secret}",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(1800):
                try:
                    status, home = get(base + "/")
                    break
                except OSError:
                    assert server.poll() is None, (Path(tmp) / "log").read_text()
                    time.sleep(0.1)
            assert status == 200 and "群众评议与整改" in home
            # The secret was made once, for this machine only.
            assert len(secret.read_text().strip()) >= 50
            assert secret.stat().st_mode & 0o077 == 0
            href = home.split('rel="stylesheet" href="')[1].split('"')[0]
            assert (
                href.startswith("/static/css/site.") and href != "/static/css/site.css"
            )
            status, css = get(base + href)
            assert status == 200 and "--brand" in css
            status, missing = get(base + "/no-such-page/")
            assert status == 404
            assert "页面不存在" in missing and "群众评议与整改" in missing
            assert "Traceback" not in missing and "URLconf" not in missing
            status, _ = get(base.replace("127.0.0.1", "localhost") + "/")
            assert status == 200
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
            log.close()
