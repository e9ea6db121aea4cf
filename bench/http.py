"""Suite "http": the respondent page and the submissions under load, beside baselines.

A fresh database (bench_http) with one open round in open mode, one collection
point and a published questionnaire made from the built-in 五好 template with 12
scale questions. gunicorn serves the service and the baselines (bench/baseline.py)
from one process group with 2 × cores + 1 sync workers (as ``make serve`` does);
wrk loads it from 127.0.0.1 with 2 threads and 64 connections, the service and its
baseline in turn (common.alternate). After every submission run the rows in the
database are checked against what wrk saw accepted; a mismatch raises.

A full run adds a second round in ballot mode (a school of its own, one point,
codes from ``ballots_issue``) and the JSON API's submissions there;
``BENCH_HTTP_BALLOTS=1`` adds them to a quick run. By hand:
``python -m bench http`` (add ``--full``, ``--repeats N``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from .common import REDIS_URL, ROOT, Context, Figure, alternate, manage, service_env

OUT = ROOT / "bench" / "out" / "http"
LOAD_SCRIPT = ROOT / "bench" / "wrk" / "load.lua"
THREADS = 2
CONNECTIONS = 64
# One load generator is one address: the limit stays in the path, its Redis work
# included, but never refuses.
RATE_LIMIT = "100000000/10m"
_TAG_ALPHABET = string.ascii_letters + string.digits
CACHE_PREFIX = "bench-http"


@dataclass
class Run:
    """What one wrk run saw, from load.lua's done()."""

    requests: int
    seconds: float
    accepted: int
    other: int
    built: int
    errors: dict[str, int]
    p99_ms: float
    other_statuses: str
    tag: str = ""

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    @property
    def failures(self) -> int:
        return self.other + sum(self.errors.values())


@dataclass
class Checks:
    """The row checks of the submission runs, summed per path for the notes."""

    runs: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, what: str, accepted: int, rows: int) -> None:
        self.runs.setdefault(what, []).append((accepted, rows))

    def text(self, what: str) -> str:
        runs = self.runs.get(what, [])
        accepted = sum(a for a, _ in runs)
        rows = sum(r for _, r in runs)
        return (
            f"{len(runs)} runs, 0 errors, {accepted:,} accepted, {rows:,} rows"
            f" (+{rows - accepted} left in flight at the runs' ends, served after)"
        )


# --- The data, made in a child process with the service's own functions --------


def create_data(ballot_file: str = "", ballot_count: int = 0) -> None:
    """Run inside ``python -c`` with the service's environment: build the rounds and
    print their points' tokens and the questions as JSON. With ``ballot_count``,
    a second school's round in ballot mode too, its codes written to
    ``ballot_file``, one a line."""
    import copy
    from datetime import timedelta

    import django

    django.setup()
    from django.utils import timezone

    from organizations.models import Unit
    from questionnaires import ballots
    from questionnaires.builtin import TEMPLATES
    from questionnaires.models import Campaign, CampaignQuestionnaire
    from questionnaires.services import (
        ballots_issue,
        campaign_open,
        commitments_replace,
        questionnaire_create,
        questionnaire_publish,
    )

    spec = copy.deepcopy(next(t for t in TEMPLATES if t["key"] == "wuhao-committee"))
    spec["key"] = "bench-committee"
    # The template's ten 五好 items and its overall rating, and one more: 12.
    spec["questions"].insert(
        0,
        {
            "code": "overall_service",
            "kind": "scale",
            "text": "您对该党组织服务师生工作的评价",
            "scale": "three_dk",
        },
    )
    questionnaire = questionnaire_publish(questionnaire=questionnaire_create(spec=spec))
    school = Unit.objects.create(code="BENCH", name="基准大学", kind="school")
    committee = Unit.objects.create(
        code="BENCH01",
        name="计算机学院党委",
        kind="committee",
        category="teaching",
        parent=school,
    )
    now = timezone.now()
    campaign = Campaign.objects.create(
        organizer=school,
        title="基准测试轮次",
        description="根据学校创先争优活动实施方案，组织师生对各级党组织进行匿名评议。",
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=30),
        access_mode=Campaign.AccessMode.OPEN,
    )
    CampaignQuestionnaire.objects.create(
        campaign=campaign, unit_kind="committee", questionnaire=questionnaire
    )
    (point,) = campaign_open(campaign=campaign)
    commitments_replace(
        campaign=campaign,
        unit=committee,
        texts=[
            "每月开展一次“书记接待日”，当面听取师生意见。",
            "师生反映的问题五个工作日内答复。",
        ],
    )
    questions = [
        [q.pk, q.scale.levels.order_by("order", "pk").first().code]
        for q in questionnaire.questions.select_related("scale").order_by("order")
        if q.kind == "scale"
    ]
    data = {"token": point.token, "questions": questions}
    if ballot_count:
        # Its own school, so that the open round evaluates only the one committee.
        other = Unit.objects.create(code="BENCHB", name="基准学院", kind="school")
        Unit.objects.create(
            code="BENCHB01",
            name="机关党委",
            kind="committee",
            category="administration",
            parent=other,
        )
        by_ballot = Campaign.objects.create(
            organizer=other,
            title="基准测试轮次（一人一票）",
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=30),
            access_mode=Campaign.AccessMode.BALLOT,
        )
        CampaignQuestionnaire.objects.create(
            campaign=by_ballot, unit_kind="committee", questionnaire=questionnaire
        )
        (ballot_point,) = campaign_open(campaign=by_ballot)
        codes = ballots_issue(
            point=ballot_point, count=ballot_count, limit=ballots.MAX_PER_COMMAND
        )
        Path(ballot_file).write_text("\n".join(codes) + "\n")
        data["ballot_token"] = ballot_point.token
    print(json.dumps(data))


def _forget_earlier_runs() -> int:
    """Delete what earlier runs left in the cache (each run has a key prefix of
    its own, so nothing of theirs is read, but nothing should pile up either)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{CACHE_PREFIX}-*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    return len(keys)


def _static_stale(static: Path) -> bool:
    """Whether the collected files (as DEBUG off serves them, hashed) are older
    than the project's static files or the installed packages."""
    manifest = static / "staticfiles.json"
    if not manifest.exists():
        return True
    sources = [p for p in (ROOT / "static").rglob("*") if p.is_file()]
    sources.append(Path(sys.prefix) / "pyvenv.cfg")
    sources += list(Path(sys.prefix).glob(".*-installed"))
    return manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources)


def _data(env: dict[str, str], ballot_file: Path, ballot_count: int) -> dict:
    call = f"create_data({str(ballot_file)!r}, {ballot_count})"
    done = subprocess.run(
        [sys.executable, "-c", f"from bench.http import create_data; {call}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"making the rounds failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- The server -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn on a free loopback port, stopped (its process group) on exit."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = 2 * (os.cpu_count() or 1) + 1
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "survey_service.wsgi:application",
                "--workers",
                str(self.workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--error-logfile",
                str(self.log),
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer /healthz; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _fetch(url: str) -> tuple[bytes, str, list[str]]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return (
            answer.read(),
            answer.headers["Content-Type"],
            answer.headers.get_all("Set-Cookie") or [],
        )


# --- wrk ------------------------------------------------------------------------


def _request_file(
    path: Path, method: str, target: str, headers: dict[str, str], body: str = ""
) -> Path:
    head = [f"{method} {target}", *(f"{k}: {v}" for k, v in headers.items())]
    path.write_text("\n".join(head) + "\n\n" + body)
    return path


def _wrk(
    base: str,
    request_file: Path,
    accepted: int,
    seconds: int,
    ballot_file: Path | None = None,
) -> Run:
    tag = "".join(secrets.choice(_TAG_ALPHABET) for _ in range(8))
    done = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LOAD_SCRIPT),
            base,
            "--",
            str(request_file),
            str(accepted),
            tag,
            *([str(ballot_file), str(THREADS)] if ballot_file else []),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    report = json.loads(line[len("BENCH ") :])
    return Run(
        tag=tag,
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        accepted=report["accepted"],
        other=report["other"],
        built=report["built"],
        errors={k: report[k] for k in ("connect", "read", "write", "timeout")},
        p99_ms=report["p99_us"] / 1000,
        other_statuses=report["other_statuses"].strip(),
    )


def _sql(url: str, query: str) -> list[str]:
    done = subprocess.run(
        ["psql", url, "-Atc", query], check=True, capture_output=True, text=True
    )
    return done.stdout.strip().split("|")


@dataclass(frozen=True)
class Rows:
    stored: int  # submissions pending in the pool or written out as responses
    nonces: int  # nonces of one run (each stored submission records one)
    ballots: int  # ballot codes used


def _rows(url: str, tag: str = "") -> Rows:
    values = _sql(
        url,
        "SELECT (SELECT count(*) FROM questionnaires_pendingsubmission)"
        " + (SELECT count(*) FROM questionnaires_response),"
        " (SELECT count(*) FROM questionnaires_submissionnonce"
        f" WHERE nonce LIKE '{tag}%'),"
        " (SELECT count(*) FROM questionnaires_ballotcode"
        " WHERE used_on IS NOT NULL)",
    )
    return Rows(*(int(v) for v in values))


def _settled_rows(url: str, tag: str = "") -> Rows:
    """The counts once the requests wrk left in flight have been served."""
    last, steady = _rows(url, tag), 0
    deadline = time.monotonic() + 30
    while steady < 2 and time.monotonic() < deadline:
        time.sleep(0.25)
        now = _rows(url, tag)
        steady = steady + 1 if now == last else 0
        last = now
    return last


def _checked(
    what: str,
    url: str,
    base: str,
    request_file: Path,
    accepted_status: int,
    seconds: int,
    checks: Checks,
    *,
    nonces: bool,
    p99: list[float] | None = None,
    ballot_files: list[Path] | None = None,
) -> Callable[[], float]:
    """One submission run as a measurement: req/s accepted, after the checks.

    wrk stops at its deadline with up to one request per connection in flight,
    which the server still serves. So: no errors; the rows written equal the
    submissions the server stored (its nonces of this run, for the service), and
    lie between what wrk saw accepted and what it sent; in ballot mode as many
    ballots were used (each run has codes of its own, ``ballot_files``).
    """

    def measure() -> float:
        # The run before this one has settled (after its own run, or below).
        before = _rows(url)
        codes = ballot_files.pop(0) if ballot_files else None
        run = _wrk(base, request_file, accepted_status, seconds, codes)
        after = _settled_rows(url, run.tag)
        rows = after.stored - before.stored
        if run.failures:
            raise RuntimeError(
                f"{what}: {run.other} responses other than {accepted_status}"
                f" ({run.other_statuses}), socket errors {run.errors}"
            )
        if nonces and rows != after.nonces:
            raise RuntimeError(
                f"{what}: {rows} rows written but {after.nonces} submissions stored"
            )
        if codes and after.ballots - before.ballots != rows:
            raise RuntimeError(
                f"{what}: {rows} rows written but"
                f" {after.ballots - before.ballots} ballots used"
            )
        if not run.accepted <= rows <= run.built:
            raise RuntimeError(
                f"{what}: {rows} rows written, {run.accepted} accepted,"
                f" {run.built} sent"
            )
        checks.add(what, run.accepted, rows)
        if p99 is not None:
            p99.append(run.p99_ms)
        return run.rate

    return measure


def _get(base: str, request_file: Path, seconds: int, what: str) -> Callable[[], float]:
    def measure() -> float:
        run = _wrk(base, request_file, 200, seconds)
        if run.failures:
            raise RuntimeError(
                f"{what}: {run.other} responses other than 200"
                f" ({run.other_statuses}), socket errors {run.errors}"
            )
        return run.rate

    return measure


# --- The suite ------------------------------------------------------------------


def run(ctx: Context) -> list[Figure]:
    started = time.monotonic()

    def log(message: str) -> None:
        ctx.log(f"http [{time.monotonic() - started:4.0f} s]: {message}")

    seconds = 10 if ctx.full else 3
    repeats = ctx.repeats
    OUT.mkdir(parents=True, exist_ok=True)
    log(
        f"database bench_http; {_forget_earlier_runs()} cache keys of earlier runs gone"
    )
    url = ctx.fresh_database("http")
    page_file = OUT / "page.html"
    env = service_env(
        url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        SUBMIT_RATE_LIMIT=RATE_LIMIT,
        STATIC_ROOT=str(OUT / "static"),
        # Nothing cached by an earlier run on another bench_http is read back.
        CACHE_KEY_PREFIX=f"{CACHE_PREFIX}-{secrets.token_hex(4)}",
        BENCH_PAGE_FILE=str(page_file),
    )
    if _static_stale(OUT / "static"):
        log("collectstatic")
        manage(["collectstatic", "--noinput", "-v", "0"], env=env)
    # The ballot-mode round: on a full run, or asked for (BENCH_HTTP_BALLOTS=1).
    with_ballots = ctx.full or os.environ.get("BENCH_HTTP_BALLOTS") == "1"
    # More codes per run than the service could take in it.
    per_run = 1000 * seconds
    ballot_file = OUT / "ballots.txt"
    log("data" + (f", {repeats * per_run:,} ballots" if with_ballots else ""))
    data = _data(env, ballot_file, repeats * per_run if with_ballots else 0)
    token = data["token"]
    answers = [{"question": q, "level": code} for q, code in data["questions"]]
    log(f"gunicorn, wrk -t{THREADS} -c{CONNECTIONS} -d{seconds}s × {repeats}")
    with Server(env, OUT / "gunicorn.log") as server:
        log("capture the page, warm up")
        base = server.base
        body, content_type, cookies = _fetch(f"{base}/s/{token}/")
        page_file.write_bytes(body)
        Path(f"{page_file}.type").write_text(content_type)
        copy, copy_type, _ = _fetch(f"{base}/bench/page/{token}/")
        again, _, _ = _fetch(f"{base}/s/{token}/")
        if copy != body or copy_type != content_type or len(again) != len(body):
            raise RuntimeError(
                f"the page baseline differs: {len(copy)} bytes ({copy_type}),"
                f" the page {len(body)} then {len(again)} bytes ({content_type})"
            )
        csrf_cookie = next(
            c.split(";")[0] for c in cookies if c.startswith("csrftoken=")
        )
        csrf_field = re.search(
            rb'name="csrfmiddlewaretoken" value="([^"]+)"', body
        ).group(1)

        files = OUT / "requests"
        files.mkdir(exist_ok=True)
        get_page = _request_file(files / "page.txt", "GET", f"/s/{token}/", {})
        get_copy = _request_file(
            files / "page_copy.txt", "GET", f"/bench/page/{token}/", {}
        )
        json_headers = {"Content-Type": "application/json"}
        json_body = json.dumps(
            {"nonce": "@NONCE@", "answers": answers}, separators=(",", ":")
        )
        post_json = _request_file(
            files / "json.txt",
            "POST",
            f"/api/v1/public/points/{token}/",
            json_headers,
            json_body,
        )
        post_insert = _request_file(
            files / "insert.txt",
            "POST",
            f"/bench/insert/{token}/",
            json_headers,
            json_body,
        )
        form_fields = {"csrfmiddlewaretoken": csrf_field.decode()}
        form_fields.update({f"q{q}": code for q, code in data["questions"]})
        post_form = _request_file(
            files / "form.txt",
            "POST",
            f"/s/{token}/",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": csrf_cookie,
            },
            urlencode(form_fields) + "&nonce=@NONCE@",
        )

        # Warm the workers (imports, connections) before anything counts; the
        # baselines run in the same processes.
        for request_file, status in (
            (get_page, 200),
            (post_json, 201),
            (post_form, 302),
        ):
            _wrk(base, request_file, status, 1)
        _settled_rows(url)

        checks = Checks()
        log("GET page")
        page, page_copy = alternate(
            repeats,
            _get(base, get_page, seconds, "GET page"),
            _get(base, get_copy, seconds, "GET page copy"),
        )
        log("POST JSON")
        p99_json: list[float] = []
        p99_insert: list[float] = []
        posted_json, inserted_a = alternate(
            repeats,
            _checked(
                "json",
                url,
                base,
                post_json,
                201,
                seconds,
                checks,
                nonces=True,
                p99=p99_json,
            ),
            _checked(
                "insert",
                url,
                base,
                post_insert,
                201,
                seconds,
                checks,
                nonces=False,
                p99=p99_insert,
            ),
        )
        log("POST form")
        posted_form, inserted_b = alternate(
            repeats,
            _checked("form", url, base, post_form, 302, seconds, checks, nonces=True),
            _checked(
                "insert", url, base, post_insert, 201, seconds, checks, nonces=False
            ),
        )
        if with_ballots:
            log("POST JSON, ballot mode")
            post_ballot = _request_file(
                files / "ballot.txt",
                "POST",
                f"/api/v1/public/points/{data['ballot_token']}/",
                json_headers,
                json.dumps(
                    {"nonce": "@NONCE@", "ballot": "@BALLOT@", "answers": answers},
                    separators=(",", ":"),
                ),
            )
            codes = ballot_file.read_text().split()
            slices = []
            for i in range(repeats):
                slices.append(files / f"ballots-{i}.txt")
                slices[-1].write_text(
                    "\n".join(codes[i * per_run : (i + 1) * per_run]) + "\n"
                )
            posted_ballot, inserted_c = alternate(
                repeats,
                _checked(
                    "ballot",
                    url,
                    base,
                    post_ballot,
                    201,
                    seconds,
                    checks,
                    nonces=True,
                    ballot_files=slices,
                ),
                _checked(
                    "insert", url, base, post_insert, 201, seconds, checks, nonces=False
                ),
            )

    load = (
        f"wrk -t{THREADS} -c{CONNECTIONS} -d{seconds}s on 127.0.0.1,"
        f" gunicorn {server.workers} sync workers"
    )
    baseline_insert = "bulk_create of the same Response and Answer rows, /bench/insert/"
    figures = [
        Figure(
            suite="http",
            name="GET /s/<token>/",
            unit="req/s",
            service=page,
            baseline=page_copy,
            baseline_name="a Django view returning the same bytes, /bench/page/",
            goal=("ratio>=", 0.7),
            notes=f"{load}; the page is {len(body):,} bytes, the copy identical",
        ),
        Figure(
            suite="http",
            name="POST JSON /api/v1/public/points/<token>/",
            unit="req/s",
            service=posted_json,
            baseline=inserted_a,
            baseline_name=baseline_insert,
            goal=("ratio>=", 0.7),
            notes=f"{load}; {len(answers)} answers; service: {checks.text('json')}",
        ),
        Figure(
            suite="http",
            name="POST form /s/<token>/",
            unit="req/s",
            service=posted_form,
            baseline=inserted_b,
            baseline_name=baseline_insert,
            goal=("ratio>=", 0.7),
            notes=f"{load}; {len(answers)} answers; service: {checks.text('form')}",
        ),
        Figure(
            suite="http",
            name="p99 latency, POST JSON",
            unit="ms",
            service=p99_json,
            baseline=p99_insert,
            baseline_name="p99 of the insert baseline",
            goal=None,
            notes=f"{load}; insert baseline: {checks.text('insert')}",
        ),
    ]
    if with_ballots:
        figures.append(
            Figure(
                suite="http",
                name="POST JSON, ballot mode (一人一票)",
                unit="req/s",
                service=posted_ballot,
                baseline=inserted_c,
                baseline_name=baseline_insert,
                goal=None,
                notes=f"{load}; {len(answers)} answers and a ballot code each;"
                f" service: {checks.text('ballot')}",
            )
        )
    return figures
