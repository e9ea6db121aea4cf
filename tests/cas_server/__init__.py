"""A real CAS server for the single sign-on tests: django-cas-server in a small
Django project of its own (settings.py, urls.py), run by serve.py as a separate
process on a free loopback port. ``CASServer`` starts and stops it."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class CASServerUnavailable(Exception):
    """django-cas-server is not installed, or its process did not start."""


class CASServer:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.process: subprocess.Popen | None = None
        self.folder: tempfile.TemporaryDirectory | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> str:
        """Start it; the CAS base URL (``http://127.0.0.1:PORT/cas/``)."""
        if importlib.util.find_spec("cas_server") is None:
            raise CASServerUnavailable(
                "django-cas-server is not installed: pip install -r requirements-dev.txt"
            )
        self.folder = tempfile.TemporaryDirectory(prefix="cas-server-")
        log = Path(self.folder.name) / "server.log"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DJANGO") and key != "DATABASE_URL"
        }
        env["CAS_TEST_DB"] = str(Path(self.folder.name) / "cas.sqlite3")
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.cas_server.serve",
                    str(port),
                    *(f"{name}:{password}" for name, password in self.users.items()),
                ],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{port}/cas/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = log.read_text(errors="replace")
                self.stop()
                raise CASServerUnavailable(f"the CAS server exited:\n{output}")
            try:
                with urllib.request.urlopen(self.url + "login", timeout=2) as answer:
                    if answer.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.2)
        output = log.read_text(errors="replace")
        self.stop()
        raise CASServerUnavailable(
            f"the CAS server did not answer in {timeout}s:\n{output}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None
