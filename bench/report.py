"""The table ``python -m bench`` prints and the docs/benchmarks.md it writes.

Pure formatting of :class:`~bench.common.Figure` rows, plus :func:`machine`, which
reads what the machine and its servers say of themselves. No Django here.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from .common import PG_SERVER, REDIS_URL, Figure

NOTES = Path(__file__).resolve().parent / "NOTES.md"
HEADERS = (
    "suite",
    "what",
    "service",
    "baseline",
    "unit",
    "ratio",
    "goal",
    "result",
)


@dataclass
class Outcome:
    """Everything one ``python -m bench`` run produced."""

    figures: list[Figure] = field(default_factory=list)
    crashed: dict[str, str] = field(default_factory=dict)  # suite → the error
    skipped: dict[str, str] = field(default_factory=dict)  # suite → why
    seconds: dict[str, float] = field(default_factory=dict)  # suite → wall time
    command: str = ""
    date: str = ""
    machine: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        data = json.loads(text)
        figures = []
        for item in data["figures"]:
            if item.get("goal") is not None:
                item["goal"] = tuple(item["goal"])
            figures.append(Figure(**item))
        data["figures"] = figures
        return cls(**data)


# --- Numbers --------------------------------------------------------------------


def number(value: float | None) -> str:
    """Three significant figures, thousands separated: 1,234 · 56.7 · 0.123."""
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude == 0:
        return "0"
    return f"{value:.3g}"


def ratio_text(figure: Figure) -> str:
    ratio = figure.ratio
    if ratio is None:
        return "–"
    if ratio >= 10:
        return number(ratio)
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"


def goal_text(figure: Figure) -> str:
    if figure.goal is None:
        return "–"
    kind, bound = figure.goal
    if kind == "ratio>=":
        return f"ratio ≥ {bound:g}"
    if kind == "ratio<=":
        return f"ratio ≤ {bound:g}"
    if kind == "<=":
        return f"≤ {bound:g} {figure.unit}"
    raise ValueError(f"unknown goal {kind!r}")


def result_text(figure: Figure) -> str:
    passed = figure.passed
    if passed is None:
        return "–"
    return "pass" if passed else "FAIL"


def spread(values: Sequence[float] | None) -> str:
    """median (min–max) of the repetitions."""
    if not values:
        return "–"
    median = statistics.median(values)
    if len(values) == 1:
        return number(median)
    return f"{number(median)} ({number(min(values))}–{number(max(values))})"


# --- The table ------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def rows(figures: Iterable[Figure]) -> list[tuple[str, ...]]:
    return [
        (
            f.suite,
            f.name,
            number(f.median),
            number(f.baseline_median),
            f.unit,
            ratio_text(f),
            goal_text(f),
            result_text(f),
        )
        for f in figures
    ]


def table(outcome: Outcome) -> str:
    """The plain-text table printed at the end of a run."""
    body = rows(outcome.figures)
    body += [
        (suite, "crashed: " + error, *("",) * 6)
        for suite, error in outcome.crashed.items()
    ]
    body += [
        (suite, "skipped: " + why, *("",) * 6) for suite, why in outcome.skipped.items()
    ]
    widths = [
        max(_width(cells[i]) for cells in [HEADERS, *body]) for i in range(len(HEADERS))
    ]
    numeric = {2, 3, 5}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            _pad(cell, widths[i], i in numeric) for i, cell in enumerate(cells)
        ).rstrip()

    out = [line(HEADERS), line(["-" * w for w in widths])]
    out += [line(cells) for cells in body]
    return "\n".join(out)


# --- The machine ----------------------------------------------------------------


def _run(args: Sequence[str]) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip()


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def _memory() -> str:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return "unknown"
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.M)
    return f"{int(match.group(1)) / 1024**2:.1f} GiB" if match else "unknown"


def _redis_version() -> str:
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    except Exception as error:  # a report line, not a failure
        return f"unknown ({error.__class__.__name__})"


def machine() -> dict[str, str]:
    """What the report says of the machine, each read off the thing itself."""
    wrk = _run(["wrk", "-v"]).splitlines()
    return {
        "cores": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "memory": _memory(),
        "kernel": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Django": _package("Django"),
        "PostgreSQL": _run(
            ["psql", f"{PG_SERVER}/postgres", "-Atc", "SHOW server_version"]
        )
        or "unknown",
        "Redis": _redis_version(),
        "gunicorn": _package("gunicorn"),
        "wrk": wrk[0].split(" [")[0] if wrk else "not installed",
    }


# --- docs/benchmarks.md ---------------------------------------------------------


def _cell(text: str) -> str:
    """Text for a Markdown table or list: no bar, no line break, and ``<token>``
    shown rather than taken for an HTML tag."""
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def markdown(outcome: Outcome, *, notes: str) -> str:
    """docs/benchmarks.md: the machine, the figures and the hand-written notes."""
    total = sum(outcome.seconds.values())
    out = [
        "# Benchmarks",
        "",
        f"Written by `{outcome.command}` on {outcome.date}"
        f" (the suites took {total / 60:.1f} min).",
        "Do not edit by hand: the figures are regenerated by `make bench FULL=1`;",
        "the explanations after them come from `bench/NOTES.md`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {_cell(value)} |" for key, value in outcome.machine.items()),
        "",
        "## Results",
        "",
        "Each value is the median of the repetitions, with their minimum and maximum"
        " in brackets; the service and its baseline were measured in the same run,"
        " in turn. The ratio is service median / baseline median.",
        "",
        "| suite | what | unit | service | baseline | ratio | goal | result |",
        "|---|---|---|--:|--:|--:|---|---|",
    ]
    for f in outcome.figures:
        out.append(
            "| "
            + " | ".join(
                _cell(cell)
                for cell in (
                    f.suite,
                    f.name,
                    f.unit,
                    spread(f.service),
                    spread(f.baseline),
                    ratio_text(f),
                    goal_text(f),
                    result_text(f),
                )
            )
            + " |"
        )
    for suite, error in outcome.crashed.items():
        out.append(f"| {suite} | crashed: {_cell(error)} | | | | | | |")
    for suite, why in outcome.skipped.items():
        out.append(f"| {suite} | skipped: {_cell(why)} | | | | | | |")
    out += ["", "### Each figure", ""]
    for f in outcome.figures:
        values = ", ".join(number(v) for v in f.service)
        line = f"- **{f.suite}: {_cell(f.name)}** ({f.unit}): service {values}"
        if f.baseline:
            base = ", ".join(number(v) for v in f.baseline)
            line += f"; baseline ({_cell(f.baseline_name or 'baseline')}) {base}"
        if f.notes:
            line += f". {_cell(f.notes)}"
        out.append(line)
    if outcome.seconds:
        times = ", ".join(f"{s} {t:.0f} s" for s, t in outcome.seconds.items())
        out += ["", f"Wall time per suite: {times}."]
    out += ["", notes.strip(), ""]
    return "\n".join(out)


def notes_text(path: Path = NOTES) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
