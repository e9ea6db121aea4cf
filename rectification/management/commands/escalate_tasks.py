from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand, CommandParser

from rectification.supervision import tasks_escalate


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(
            f"must be a date like 2026-03-11; got {value!r}"
        ) from None


class Command(BaseCommand):
    help = (
        "Supervision (督办), run daily from cron: colour open rectification tasks "
        "blue/yellow/red, list 约谈 candidates, record each change of colour and "
        "mail reminders and a summary. Running it again on the same day changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today",
            type=_iso_date,
            help="Evaluate as of this date (YYYY-MM-DD), for tests and back-filling; "
            "default the school's date (TIME_ZONE).",
        )

    def handle(self, *args: object, **options: object) -> None:
        report = tasks_escalate(today=options["today"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Supervision {report.today}: {len(report.changes)} changed "
                f"(blue {report.changed_to('blue')}, yellow {report.changed_to('yellow')}, "
                f"red {report.changed_to('red')}, none {report.changed_to('')}); "
                f"open tasks now blue {report.totals['blue']}, "
                f"yellow {report.totals['yellow']}, red {report.totals['red']}; "
                f"{len(report.interview_candidates)} for 约谈 "
                f"({len(report.new_interview_candidates)} new)."
            )
        )
        self.stdout.write(
            f"  E-mail: {report.reminders_sent} reminders, "
            f"{'1 summary' if report.summary_sent else 'no summary'}."
        )
