"""What every benchmark suite shares: its context, its figures, measuring a process.

A suite is a module of this package with ``run(ctx: Context) -> list[Figure]``.
Each figure holds one value per repetition for the service and, beside it, for a
baseline measured in the same run (alternating with it, where the two compete for
the machine), and the goal as a ratio or a bound. ``python -m bench`` runs the
suites, prints one table and writes docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("BENCH_PG", "postgres://root@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
SECRET_KEY = "bench-only-secret-key-not-for-any-server"


@dataclass
class Figure:
    """One row of the table.

    ``service`` and ``baseline``: one value per repetition, in ``unit``.
    ``goal``: how the figure is judged, one of
      ("ratio>=", 0.7)  service / baseline at least 0.7 (higher is better: req/s)
      ("ratio<=", 2.0)  service / baseline at most 2.0 (lower is better: seconds)
      ("<=", 60.0)      the service's median at most this, in ``unit``
      None              reported only
    """

    suite: str
    name: str
    unit: str
    service: list[float]
    baseline: list[float] | None = None
    baseline_name: str = ""
    goal: tuple[str, float] | None = None
    notes: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.service)

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        base = self.baseline_median
        if not base:
            return None
        return self.median / base

    @property
    def passed(self) -> bool | None:
        if self.goal is None:
            return None
        kind, bound = self.goal
        if kind == "ratio>=":
            return self.ratio is not None and self.ratio >= bound
        if kind == "ratio<=":
            return self.ratio is not None and self.ratio <= bound
        if kind == "<=":
            return self.median <= bound
        raise ValueError(f"unknown goal {kind!r}")


@dataclass
class Context:
    """What a suite is given. ``full``: the sizes of docs/benchmarks.md (make bench
    FULL=1); otherwise a quick run under five minutes in all."""

    full: bool = False
    repeats: int = 3
    only: Sequence[str] = ()
    log: Callable[[str], None] = field(
        default=lambda message: print(message, file=sys.stderr, flush=True)
    )

    def database_url(self, name: str) -> str:
        return f"{PG_SERVER}/bench_{name}"

    def fresh_database(self, name: str, *, migrate: bool = True) -> str:
        """Drop and create the PostgreSQL database ``bench_<name>``; migrate it."""
        db = f"bench_{name}"
        _psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        _psql(f"CREATE DATABASE {db}")
        url = self.database_url(name)
        if migrate:
            manage(["migrate", "--noinput", "-v", "0"], env=service_env(url))
        return url

    def drop_database(self, name: str) -> None:
        subprocess.run(
            [
                "psql",
                f"{PG_SERVER}/postgres",
                "-qc",
                f"DROP DATABASE IF EXISTS bench_{name} WITH (FORCE)",
            ],
            check=False,
            capture_output=True,
        )


def _psql(sql: str) -> None:
    """Run ``sql`` on the server's postgres database; psql's own words on failure."""
    done = subprocess.run(
        ["psql", f"{PG_SERVER}/postgres", "-qc", sql], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of the service as a server runs it, on ``database_url``."""
    env = dict(os.environ)
    env.update(
        {
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DJANGO_SETTINGS_MODULE": "survey_service.settings",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def manage(
    args: Sequence[str], *, env: dict[str, str], capture: bool = True
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    stdout: str


_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(done.stderr)
print(json.dumps({"rc": done.returncode, "seconds": seconds,
                  "peak_mb": peak_kb / 1024, "stdout": done.stdout}))
"""


def measure_process(
    args: Sequence[str], *, env: dict[str, str], timeout: float = 1800
) -> Measured:
    """Run ``args`` in a child process: its wall time and peak resident memory
    (the child's own maximum RSS, as the kernel counts it)."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args!r} failed:\n{done.stderr[-4000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["rc"] != 0:
        raise RuntimeError(f"{args!r} exited {report['rc']}:\n{done.stderr[-4000:]}")
    return Measured(report["seconds"], report["peak_mb"], report["stdout"])


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def alternate(
    repeats: int, service: Callable[[], float], baseline: Callable[[], float]
) -> tuple[list[float], list[float]]:
    """Measure service and baseline in turn, ``repeats`` times each, so that
    whatever else the machine does falls on both alike."""
    ours: list[float] = []
    theirs: list[float] = []
    for i in range(repeats):
        # Alternate who goes first, so neither always meets a warm cache.
        if i % 2 == 0:
            ours.append(service())
            theirs.append(baseline())
        else:
            theirs.append(baseline())
            ours.append(service())
    return ours, theirs
