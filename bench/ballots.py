"""Ballot codes with their PDF sheets (issue 11, goal 4): ``issue_ballots`` for
one point of an open ballot round, in a child process on a fresh PostgreSQL
database, its wall time and peak resident memory.

Quick: 2,000 and 10,000 codes. Full: 10,000 and 100,000 (goal: 100,000 in
< 60 s and < 500 MB). Beside the wall time, Django's start-up alone (``manage.py
check``), which every run pays; the growth figures show memory flat in the count
and the seconds each further 10,000 codes cost.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .common import ROOT, Context, Figure, manage, measure_process, service_env

SUITE = "ballots"

# One school, one committee, one branch; a ballot round evaluating branches,
# opened (so it has its one collection point). Prints the point's id.
_SETUP = """
from datetime import timedelta
from django.utils import timezone
from organizations.models import Unit
from questionnaires.models import Campaign, CampaignQuestionnaire, Questionnaire
from questionnaires.services import campaign_open

school = Unit.objects.create(code="S", name="测试大学", kind="school")
committee = Unit.objects.create(
    code="A", name="后勤服务集团党委", kind="committee", category="administration",
    parent=school,
)
Unit.objects.create(
    code="A-1", name="后勤服务集团第一教工党支部", kind="branch", category="staff",
    parent=committee,
)
now = timezone.now()
campaign = Campaign.objects.create(
    organizer=school, title="2026年秋季群众满意度测评", access_mode="ballot",
    opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
)
CampaignQuestionnaire.objects.create(
    campaign=campaign, unit_kind="branch",
    questionnaire=Questionnaire.objects.published().get(key="wuhao-branch", version=1),
)
(point,) = campaign_open(campaign=campaign)
print(point.pk)
"""


def _issue(
    env: dict[str, str], point: str, count: int, out: Path
) -> tuple[float, float]:
    out.unlink(missing_ok=True)
    measured = measure_process(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "issue_ballots",
            "--point",
            point,
            "--count",
            str(count),
            "--out",
            str(out),
        ],
        env=env,
    )
    if not out.exists() or out.stat().st_size == 0:
        raise RuntimeError(f"issue_ballots --count {count} wrote no PDF")
    out.unlink()
    return measured.seconds, measured.peak_mb


def _startup(env: dict[str, str]) -> float:
    """A management command that does almost nothing: Django's start-up, which
    every issue_ballots run pays before its first code."""
    return measure_process(
        [sys.executable, str(ROOT / "manage.py"), "check"], env=env
    ).seconds


def run(ctx: Context) -> list[Figure]:
    sizes = (10_000, 100_000) if ctx.full else (2_000, 10_000)
    url = ctx.fresh_database(SUITE)
    env = service_env(url)
    seconds: dict[int, list[float]] = {size: [] for size in sizes}
    peaks: dict[int, list[float]] = {size: [] for size in sizes}
    startup: list[float] = []
    try:
        point = manage(["shell", "-c", _SETUP], env=env).stdout.strip().splitlines()[-1]
        with tempfile.TemporaryDirectory(prefix="bench-ballots-") as tmp:
            out = Path(tmp) / "ballots.pdf"
            for repeat in range(ctx.repeats):
                # Small and large in turn, so both meet the machine alike.
                for size in sizes if repeat % 2 == 0 else reversed(sizes):
                    ctx.log(f"ballots: issue_ballots --count {size} ({repeat + 1})")
                    wall, peak = _issue(env, point, size, out)
                    seconds[size].append(wall)
                    peaks[size].append(peak)
                startup.append(_startup(env))
    finally:
        ctx.drop_database(SUITE)

    small, large = sizes
    figures = []
    for size in sizes:
        goal = size == 100_000
        figures.append(
            Figure(
                SUITE,
                f"issue_ballots --count {size:,} with the PDF: wall",
                "s",
                seconds[size],
                baseline=startup,
                baseline_name="manage.py check (Django start-up alone)",
                goal=("<=", 60.0) if goal else None,
            )
        )
        figures.append(
            Figure(
                SUITE,
                f"issue_ballots --count {size:,} with the PDF: peak memory",
                "MB",
                peaks[size],
                goal=("<=", 500.0) if goal else None,
            )
        )
    figures.append(
        Figure(
            SUITE,
            f"growth: seconds per 10,000 codes from {small:,} to {large:,}",
            "s",
            [
                (b - a) / (large - small) * 10_000
                for a, b in zip(seconds[small], seconds[large], strict=True)
            ],
            notes="the cost of more codes, start-up left out",
        )
    )
    figures.append(
        Figure(
            SUITE,
            f"growth: peak MB at {large:,} over peak MB at {small:,}",
            "×",
            [b / a for a, b in zip(peaks[small], peaks[large], strict=True)],
            notes="1.0 is flat: pages are streamed to the file, not held",
        )
    )
    return figures
