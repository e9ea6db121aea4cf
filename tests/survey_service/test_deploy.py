"""Production serving for real: collectstatic with the manifest, gunicorn, HTTP."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_gunicorn_serves_pages_and_hashed_static_files():
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"DEBUG", "DATABASE_URL"}
            },
            "SECRET_KEY": "deploy-test-" + "k" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "STATIC_ROOT": f"{tmp}/static",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
        }
        python = str(BIN / "python")
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            subprocess.run(
                [python, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "survey_service.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    status, _body = get(base + "/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            assert status == 200
            status, home = get(base + "/")
            assert status == 200 and "群众评议与整改" in home
            status, login = get(base + "/accounts/login/")
            assert status == 200 and "管理人员登录" in login
            # The stylesheet link carries the manifest's content hash and is served.
            href = home.split('rel="stylesheet" href="')[1].split('"')[0]
            assert (
                href.startswith("/static/css/site.") and href != "/static/css/site.css"
            )
            status, css = get(base + href)
            assert status == 200 and "--brand" in css
        finally:
            server.terminate()
            server.wait(timeout=10)
