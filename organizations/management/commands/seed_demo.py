from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from organizations.demo import DemoLogin, demo_logins, demo_tree_build
from organizations.models import Unit


class Command(BaseCommand):
    help = (
        "Load the demo university (organisation tree, users leader, reviewer and one "
        "manager per 二级党组织). Idempotent. Prints the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Allow demo users with known passwords even though DEBUG is off.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only load the demo when the database has no units; otherwise just list the demo logins.",
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["yes"]:
            raise CommandError(
                "seed_demo creates users with published passwords. Run it with DEBUG=1, "
                "or pass --yes if this really is a demo server."
            )
        if options["if_empty"] and Unit.objects.exists():
            self.stdout.write(
                "The database already has units; the demo was not loaded again."
            )
            self._print(demo_logins())
            return
        logins = demo_tree_build()
        self.stdout.write(
            self.style.SUCCESS(f"Demo university loaded: {Unit.objects.count()} units.")
        )
        self._print(logins)

    def _print(self, logins: list[DemoLogin]) -> None:
        if not logins:
            return
        self.stdout.write("Demo logins (username / password — role, unit):")
        for login in logins:
            self.stdout.write(
                f"  {login.username:<10} / {login.password:<22} {login.role}, {login.unit}"
            )
