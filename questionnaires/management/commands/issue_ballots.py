from __future__ import annotations

import os
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
            "--count",
            type=int,
            required=True,
            help=f"How many ballots (1–{ballots.MAX_PER_COMMAND}).",
        )
        parser.add_argument(
            "--out", type=Path, help="PDF file to write (default ballots-<point>.pdf)."
        )

    def handle(self, *args: object, **options: object) -> None:
        count = options["count"]
        if not 1 <= count <= ballots.MAX_PER_COMMAND:
            raise CommandError(
                f"--count must be 1 to {ballots.MAX_PER_COMMAND}, not {count}; "
                "no ballots were issued."
            )
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
        created = False
        try:
            # Written inside the transaction: if the PDF cannot be written, no
            # codes exist. Pages go to the file as they are made.
            with transaction.atomic():
                codes = ballots_issue(
                    point=point, count=count, limit=ballots.MAX_PER_COMMAND
                )
                with out.open("xb") as file:  # never over a file made meanwhile
                    created = True
                    pages = ballots.slips_pdf_write(file, point, codes)
                    file.flush()
                    os.fsync(file.fileno())
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        except OSError as exc:
            if created:
                out.unlink(missing_ok=True)
            raise CommandError(
                f"Cannot write {out}: {exc.strerror}; no ballots were issued."
            ) from None
        except BaseException:
            # The codes were rolled back: a PDF of them would print dead slips.
            if created:
                out.unlink(missing_ok=True)
            raise
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(codes)} ballots for {point.unit.name} written to {out} "
                f"({pages} pages)."
            )
        )
