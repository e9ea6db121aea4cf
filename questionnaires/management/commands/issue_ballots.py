from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from questionnaires import ballots
from questionnaires.models import CollectionPoint
from questionnaires.services import ServiceError, ballots_issue


class Command(BaseCommand):
    help = (
        "Issue N single-use ballot codes for a collection point and write printable A4 "
        "slips. Only keyed hashes are stored: the PDF is the only copy of the codes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--point", type=int, required=True, help="Collection point id."
        )
        parser.add_argument(
            "--count", type=int, required=True, help="How many ballots (1–20000)."
        )
        parser.add_argument(
            "--out", type=Path, help="PDF file to write (default ballots-<point>.pdf)."
        )

    def handle(self, *args: object, **options: object) -> None:
        point = (
            CollectionPoint.objects.select_related("campaign", "unit")
            .filter(pk=options["point"])
            .first()
        )
        if point is None:
            raise CommandError(f"No collection point with id {options['point']}.")
        out: Path = options["out"] or Path(f"ballots-{point.pk}.pdf")
        if out.exists():
            raise CommandError(
                f"{out} exists; choose another --out so no printed codes are lost."
            )
        try:
            # Written inside the transaction: if the PDF cannot be written, no codes exist.
            with transaction.atomic():
                codes = ballots_issue(point=point, count=options["count"])
                out.write_bytes(ballots.slips_pdf(point, codes))
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        except OSError as exc:
            raise CommandError(
                f"Cannot write {out}: {exc.strerror}; no ballots were issued."
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(codes)} ballots for {point.unit.name} written to {out}."
            )
        )
