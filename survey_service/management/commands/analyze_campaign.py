from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analysis.models import Finding, Result
from analysis.services import campaign_analyze
from questionnaires.models import Campaign
from rectification.resurvey import tasks_resurvey


class Command(BaseCommand):
    help = (
        "Compute the results of a round (rates, intervals, tests, flags, anonymity) and "
        "create findings (问题清单) for RED units and dimensions; tasks awaiting this "
        "re-survey get their verdict. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", type=int, help="Campaign (round) id.")

    def handle(self, *args: object, **options: object) -> None:
        campaign = (
            Campaign.objects.select_related("organizer")
            .filter(pk=options["campaign"])
            .first()
        )
        if campaign is None:
            raise CommandError(f"No round with id {options['campaign']}.")
        if campaign.status == Campaign.Status.DRAFT:
            raise CommandError(
                "The round has not been opened; there is nothing to analyse."
            )
        if campaign.status == Campaign.Status.OPEN:
            raise CommandError(
                "The round is still open: analyse it once it has closed (analysing an "
                "open round again and again would show single answers)."
            )
        started = time.monotonic()
        before = Finding.objects.filter(campaign=campaign).count()
        run = campaign_analyze(campaign=campaign)
        units = run.results.filter(level=Result.Level.UNIT)
        flags = {
            flag: units.filter(flag=flag).count()
            for flag in ("RED", "AMBER", "GREEN", "GREEN_CONFIRMED", "GREY")
        }
        school = run.results.filter(level=Result.Level.SCHOOL).first()
        self.stdout.write(
            self.style.SUCCESS(
                f"Analysed {campaign.title}: {run.n_responses} responses, {units.count()} units "
                f"in {time.monotonic() - started:.1f} s (run {run.pk})."
            )
        )
        if school and school.rate is not None:
            self.stdout.write(
                f"  School 满意率 {school.rate:.1%} (95% CI {school.ci_low:.1%}–{school.ci_high:.1%}), "
                f"target {float(campaign.target):.0%}"
            )
        self.stdout.write(
            "  Units: " + ", ".join(f"{flag} {n}" for flag, n in flags.items())
        )
        added = Finding.objects.filter(campaign=campaign).count() - before
        self.stdout.write(f"  Findings: {added} new, {before} already listed.")
        for task in tasks_resurvey(run=run):
            self.stdout.write(
                f"  Re-survey of task {task.pk} ({task.title}): {task.resurvey_verdict}"
            )
