from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from organizations.services import ImportRefused, units_import


class Command(BaseCommand):
    help = (
        "Import units from a .csv (UTF-8, with or without BOM, or GBK/GB18030) or .xlsx "
        "file with columns code, name, kind, category, parent_code. All or nothing: "
        "any bad row writes nothing and is listed by row number."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path to the .csv or .xlsx file.")

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        try:
            result = units_import(data=data, filename=path.name)
        except ImportRefused as refused:
            lines = "\n".join(f"  {error}" for error in refused.errors)
            raise CommandError(
                f"Nothing was imported; fix these rows and try again:\n{lines}"
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {path.name} ({result.encoding}): {len(result.created)} created, "
                f"{len(result.updated)} updated, {len(result.unchanged)} unchanged."
            )
        )
