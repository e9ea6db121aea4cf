"""The benchmark report on made-up figures: ratios, verdicts, the table, the docs.

No servers and no suites run here; `make bench` measures, `make test` does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench import report
from bench.common import Figure


def page_figure(service: list[float], baseline: list[float]) -> Figure:
    return Figure(
        suite="http",
        name="GET /s/<token>/",
        unit="req/s",
        service=service,
        baseline=baseline,
        baseline_name="the same bytes",
        goal=("ratio>=", 0.7),
        notes="wrk -t2 -c64",
    )


def made_up() -> report.Outcome:
    return report.Outcome(
        figures=[
            page_figure([900.0, 1000.0, 1100.0], [1200.0, 1300.0, 1250.0]),
            Figure(
                suite="analysis",
                name="campaign_analyze, 1M responses",
                unit="s",
                service=[9.0, 10.0, 12.0],
                baseline=[3.4, 3.3, 3.5],
                baseline_name="GROUP BY",
                goal=("ratio<=", 2.0),
            ),
            Figure(
                suite="ballots",
                name="issue_ballots 100,000",
                unit="s",
                service=[51.0, 55.0, 50.0],
                goal=("<=", 60.0),
            ),
            Figure(suite="http", name="p99 latency", unit="ms", service=[812.5, 0.25]),
        ],
        crashed={"statistics": "exit 1 (traceback above)"},
        skipped={"partitioning": "bench/partitioning.py is not there"},
        seconds={"http": 70.0, "analysis": 50.0},
        command="python -m bench --full",
        date="2026-12-01 18:00 UTC",
        machine={"cores": "2", "PostgreSQL": "15.20", "Redis": "7.0.15"},
    )


def test_it_judges_each_kind_of_goal() -> None:
    page, analysis, ballots, latency = made_up().figures
    assert page.ratio == pytest.approx(1000 / 1250)
    assert page.passed is True
    assert page_figure([800.0], [1250.0]).passed is False  # 0.64 < 0.7
    assert analysis.ratio == pytest.approx(10 / 3.4)
    assert analysis.passed is False
    assert ballots.passed is True
    assert latency.ratio is None and latency.passed is None


def test_it_prints_one_aligned_table() -> None:
    lines = report.table(made_up()).splitlines()
    assert lines[0].split() == list(report.HEADERS)
    assert len(lines[0]) == len(lines[1])
    page, analysis, ballots, latency, crashed, skipped = lines[2:]
    assert page.split() == [
        "http", "GET", "/s/<token>/", "1,000", "1,250", "req/s", "0.80",
        "ratio", "≥", "0.7", "pass",
    ]  # fmt: skip
    assert analysis.split()[-8:] == [
        "10.0", "3.40", "s", "2.94", "ratio", "≤", "2", "FAIL",
    ]  # fmt: skip
    assert ballots.split()[-8:] == ["51.0", "–", "s", "–", "≤", "60", "s", "pass"]
    assert latency.split()[-6:] == ["406", "–", "ms", "–", "–", "–"]
    assert crashed.split() == [
        "statistics",
        "crashed:",
        "exit",
        "1",
        "(traceback",
        "above)",
    ]
    assert skipped.startswith("partitioning  skipped: bench/partitioning.py")
    # The numbers' column ends where its heading does.
    assert page.index("1,000") + len("1,000") == lines[0].index("service") + len(
        "service"
    )


def test_it_formats_numbers_to_three_figures() -> None:
    assert [report.number(v) for v in (12345.6, 56.78, 3.456, 0.01234, 0)] == [
        "12,346",
        "56.8",
        "3.46",
        "0.0123",
        "0",
    ]
    assert report.number(None) == "–"
    assert report.spread([3.0, 1.0, 2.0]) == "2.00 (1.00–3.00)"
    ratios = [page_figure([s], [1.0]) for s in (165.2, 16.52, 0.804, 0.0372)]
    assert [report.ratio_text(f) for f in ratios] == ["165", "16.5", "0.80", "0.037"]


def test_it_renders_the_docs_from_saved_results(tmp_path: Path) -> None:
    saved = tmp_path / "results.json"
    saved.write_text(made_up().to_json())
    out = tmp_path / "docs" / "benchmarks.md"

    assert bench_main.main(["--render", str(saved), "--out", str(out)]) == 0

    text = out.read_text()
    assert "Written by `python -m bench --full` on 2026-12-01 18:00 UTC" in text
    assert "| PostgreSQL | 15.20 |" in text and "| Redis | 7.0.15 |" in text
    assert (
        "| http | GET /s/&lt;token>/ | req/s | 1,000 (900–1,100) | 1,250 (1,200–1,300)"
        " | 0.80 | ratio ≥ 0.7 | pass |"
    ) in text
    assert "| 10.0 (9.00–12.0) | 3.40 (3.30–3.50) | 2.94 | ratio ≤ 2 | FAIL |" in text
    assert "| statistics | crashed: exit 1 (traceback above) |" in text
    assert "service 900, 1,000, 1,100; baseline (the same bytes) 1,200" in text
    # The hand-written notes follow the figures.
    assert text.index("## Results") < text.index("## Baselines")


def test_the_saved_results_round_trip() -> None:
    outcome = made_up()
    again = report.Outcome.from_json(outcome.to_json())
    assert again == outcome
    assert json.loads(outcome.to_json())["figures"][0]["goal"] == ["ratio>=", 0.7]


@pytest.fixture
def no_suites(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """main() with suites that only say what happened to them."""
    ran: list[str] = []
    fates = {"http": "figures", "ballots": "crash"}

    def fake_suite(name, args, outcome) -> None:
        ran.append(name)
        if fates.get(name) == "crash":
            outcome.crashed[name] = "exit 1"
        elif fates.get(name) == "figures":
            outcome.figures.append(page_figure([1.0], [1.0]))
        else:
            outcome.skipped[name] = "missing"

    monkeypatch.setattr(bench_main, "_suite", fake_suite)
    monkeypatch.setattr(bench_main, "RESULTS", tmp_path / "results.json")
    monkeypatch.setattr(bench_main, "FULL_RESULTS", tmp_path / "results-full.json")
    monkeypatch.setattr(report, "machine", lambda: {"cores": "2"})
    return ran


def test_a_quick_run_exits_0_and_writes_no_docs_unasked(
    no_suites: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "benchmarks.md"
    assert bench_main.main(["--only", "http", "--out", str(out)]) == 0
    assert no_suites == ["http"]
    assert not out.exists()
    assert not (tmp_path / "results-full.json").exists()
    assert "GET /s/<token>/" in capsys.readouterr().out
    assert bench_main.main(["http", "--write", "--out", str(out)]) == 0
    assert out.exists()


def test_a_crashed_suite_makes_the_exit_status_1(
    no_suites: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "benchmarks.md"
    assert bench_main.main(["--full", "--out", str(out)]) == 1
    assert no_suites == list(bench_main.SUITES)
    assert "crashed: exit 1" in out.read_text()  # a full run writes the docs
    saved = report.Outcome.from_json((tmp_path / "results-full.json").read_text())
    assert saved.crashed == {"ballots": "exit 1"}


def test_it_refuses_an_unknown_suite() -> None:
    with pytest.raises(SystemExit) as refused:
        bench_main.main(["--only", "htp"])
    assert refused.value.code == 2


def test_it_skips_a_suite_whose_module_is_missing(monkeypatch) -> None:
    monkeypatch.setattr(bench_main, "_missing", lambda name: True)
    outcome = report.Outcome()
    bench_main._suite("statistics", None, outcome)
    assert outcome.skipped == {"statistics": "bench/statistics.py is not there"}
    assert not outcome.crashed
