from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from organizations.demo import DemoLogin, demo_logins, demo_tree_build
from organizations.models import Unit
from questionnaires.demo import (
    demo_ballots_for_trying,
    demo_past_rounds_close,
    demo_responses_fill,
    demo_rounds_build,
)
from questionnaires.models import Campaign, CollectionPoint
from survey_service.demo import demo_loop_build


class Command(BaseCommand):
    help = (
        "Load the demo university: the organisation tree, users (leader, reviewer, one "
        "manager per 二级党组织), a spring round and its autumn re-survey (closed), an "
        "open winter round and an open ballot round. With --responses, fills the "
        "rounds, analyses and publishes spring, turns its findings into rectification "
        "tasks in every state and lets the autumn re-survey close one and reopen "
        "another. Idempotent. Prints the demo logins."
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
        parser.add_argument(
            "--responses",
            type=int,
            default=0,
            metavar="N",
            help="Submit N plausible answers to each demo round through the real service.",
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed for --responses."
        )

    def handle(self, *args: object, **options: object) -> None:
        if not settings.DEBUG and not options["yes"]:
            raise CommandError(
                "seed_demo creates users with published passwords. Run it with DEBUG=1, "
                "or pass --yes if this really is a demo server."
            )
        if options["responses"] < 0:
            raise CommandError("--responses must be zero or more.")
        if options["if_empty"] and Unit.objects.exists():
            self.stdout.write(
                "The database already has units; the demo was not loaded again."
            )
            self._print(demo_logins())
            self._print_respondent_url()
            return
        with transaction.atomic():
            logins = demo_tree_build()
            rounds = demo_rounds_build()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo university loaded: {Unit.objects.count()} units, "
                f"{len(rounds.all())} rounds."
            )
        )
        if options["responses"]:
            stored = demo_responses_fill(
                rounds, per_round=options["responses"], seed=options["seed"]
            )
            for title, count in stored.items():
                self.stdout.write(f"  {count} responses submitted to {title}")
        demo_past_rounds_close(rounds)
        if options["responses"]:
            # Results and the rectification loop to look at straight away: the
            # closed rounds analysed, spring published, its findings turned into
            # tasks. Open rounds are not analysed (it would show single answers).
            for line in demo_loop_build(rounds):
                self.stdout.write(f"  {line}")
        self._print(logins)
        self._print_respondent_url()
        if rounds.ballot.status == "open":
            ballot_point, codes = demo_ballots_for_trying(rounds)
            self.stdout.write(
                f"Ballot slips to try ({ballot_point.unit.name}), each usable once:"
            )
            for code in codes:
                self.stdout.write(f"  {settings.PUBLIC_BASE_URL}/b/#{code}")

    def _print_respondent_url(self) -> None:
        """A point of an open round, so a newcomer can answer straight away."""
        point = (
            CollectionPoint.objects.filter(
                campaign__status=Campaign.Status.OPEN,
                campaign__access_mode=Campaign.AccessMode.OPEN,
            )
            .select_related("unit")
            .order_by("campaign__opens_at", "unit__sort_order", "unit__code")
            .first()
        )
        if point is not None:
            self.stdout.write(
                f"Answer as a respondent: {point.public_url}  ({point.unit.name})"
            )

    def _print(self, logins: list[DemoLogin]) -> None:
        if not logins:
            return
        self.stdout.write("Demo logins (username / password — role, unit):")
        for login in logins:
            self.stdout.write(
                f"  {login.username:<10} / {login.password:<22} {login.role}, {login.unit}"
            )
