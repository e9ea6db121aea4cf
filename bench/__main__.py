"""``python -m bench [SUITE ...] [--full] [--only SUITE,...] [--repeats N]``.

Runs the suites one after another, each in a child process of its own (so one
suite's Django settings, memory or crash stay its own), prints one table and
writes docs/benchmarks.md: always on a full run, on a quick run only with
``--write``. The exit status is 0 when every suite ran, whatever the goals say
(a missed goal is a measurement), and 1 when a suite crashed.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from . import report
from .common import ROOT, Context, Figure

SUITES = ("http", "analysis", "ballots", "statistics", "partitioning")
DOCS = ROOT / "docs" / "benchmarks.md"
# The last run's figures, and the last full run's, for --render.
RESULTS = ROOT / "bench" / "out" / "results.json"
FULL_RESULTS = ROOT / "bench" / "out" / "results-full.json"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "suites", nargs="*", help=f"suites to run (of {', '.join(SUITES)})"
    )
    parser.add_argument("--full", action="store_true", help="the issue's sizes")
    parser.add_argument("--only", default="", help="comma-separated suites")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions (≥ 1)")
    parser.add_argument(
        "--write", action="store_true", help="write docs/benchmarks.md on a quick run"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write it on a full run"
    )
    parser.add_argument("--out", type=Path, default=DOCS, help="where to write it")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RESULTS_JSON",
        help="run nothing: write the docs from saved figures"
        " (bench/out/results-full.json holds the last full run's)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    chosen = [*args.suites, *filter(None, args.only.split(","))]
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.chosen = [s for s in SUITES if s in chosen] or list(SUITES)
    return args


def _child(name: str, out: Path, full: bool, repeats: int) -> int:
    """In the child process: run one suite, save its figures as JSON."""
    module = importlib.import_module(f"bench.{name}")
    ctx = Context(full=full, repeats=repeats, only=(name,))
    figures = module.run(ctx)
    if not figures or not all(isinstance(f, Figure) for f in figures):
        raise TypeError(f"bench.{name}.run() must return a list of Figure")
    for figure in figures:
        if not figure.service:
            raise ValueError(f"{figure.name}: no values for the service")
    out.write_text(report.Outcome(figures=list(figures)).to_json())
    return 0


def _missing(name: str) -> bool:
    return importlib.util.find_spec(f"bench.{name}") is None


def _suite(name: str, args: argparse.Namespace, outcome: report.Outcome) -> None:
    if _missing(name):
        outcome.skipped[name] = f"bench/{name}.py is not there"
        print(f"== {name}: skipped (bench/{name}.py is missing)", file=sys.stderr)
        return
    print(f"== {name}", file=sys.stderr, flush=True)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
        saved = Path(scratch) / "figures.json"
        command = [sys.executable, "-m", "bench", "--child", name]
        command += ["--child-out", str(saved), "--repeats", str(args.repeats)]
        if args.full:
            command.append("--full")
        # The suite's log passes through; its last line names a crash.
        child = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        last = ""
        for line in child.stderr:
            sys.stderr.write(line)
            last = line.strip() or last
        returncode = child.wait()
        outcome.seconds[name] = time.monotonic() - start
        if returncode != 0 or not saved.exists():
            outcome.crashed[name] = f"exit {returncode}: {last[:160]}"
            print(f"== {name}: crashed", file=sys.stderr)
            return
        outcome.figures += report.Outcome.from_json(saved.read_text()).figures
    print(f"== {name}: {outcome.seconds[name]:.0f} s", file=sys.stderr, flush=True)


def _write_docs(outcome: report.Outcome, path: Path) -> None:
    text = report.markdown(outcome, notes=report.notes_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.child:
        try:
            return _child(args.child, args.child_out, args.full, args.repeats)
        except Exception:
            traceback.print_exc()
            return 1
    if args.render:
        _write_docs(report.Outcome.from_json(args.render.read_text()), args.out)
        return 0
    outcome = report.Outcome(
        command=shlex.join(["python", "-m", "bench", *(argv or sys.argv[1:])]),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=report.machine(),
    )
    start = time.monotonic()
    for name in args.chosen:
        _suite(name, args, outcome)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(outcome.to_json())
    if args.full:
        FULL_RESULTS.write_text(outcome.to_json())
    print()
    print(report.table(outcome))
    print(f"\n{'full' if args.full else 'quick'} run: {time.monotonic() - start:.0f} s")
    if (args.full and not args.no_write) or args.write:
        _write_docs(outcome, args.out)
    return 1 if outcome.crashed else 0


if __name__ == "__main__":
    sys.exit(main())
