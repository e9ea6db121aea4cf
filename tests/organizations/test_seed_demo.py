import io
import re

from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory, TestCase, override_settings

from analysis.models import AnalysisRun
from organizations.models import Membership, Unit
from questionnaires.models import (
    BallotCode,
    Campaign,
    CollectionPoint,
    PendingSubmission,
    Response,
)


class SeedDemoTests(TestCase):
    @override_settings(DEBUG=True)
    def test_it_builds_the_demo_university_once(self):
        call_command("seed_demo", stdout=io.StringIO())
        counts = {
            kind: Unit.objects.filter(kind=kind).count() for kind in Unit.Kind.values
        }
        call_command("seed_demo", stdout=io.StringIO())
        self.assertEqual(
            counts,
            {kind: Unit.objects.filter(kind=kind).count() for kind in Unit.Kind.values},
        )
        self.assertEqual(counts["school"], 1)
        self.assertGreaterEqual(counts["committee"], 6)
        self.assertGreaterEqual(counts["branch"], 20)
        self.assertGreaterEqual(counts["window"], 5)
        categories = set(
            Unit.objects.filter(kind="committee").values_list("category", flat=True)
        )
        self.assertEqual(categories, {"teaching", "administration", "logistics"})
        branch_types = set(
            Unit.objects.filter(kind="branch").values_list("category", flat=True)
        )
        self.assertEqual(branch_types, {"staff", "student"})
        self.assertEqual(Membership.objects.filter(user__username="leader").count(), 1)

    @override_settings(DEBUG=True)
    def test_it_prints_logins_that_work(self):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        self.assertIn("leader-demo-2026", out.getvalue())
        # As the login page asks: with the request (django-axes needs it).
        login = RequestFactory().post("/accounts/login/")
        self.assertIsNotNone(
            authenticate(login, username="leader", password="leader-demo-2026")
        )
        managers = Membership.objects.filter(role="manager")
        self.assertEqual(
            managers.count(), Unit.objects.filter(kind="committee").count()
        )

    def test_it_refuses_when_debug_is_off_without_yes(self):
        with self.assertRaises(CommandError):
            call_command("seed_demo", stdout=io.StringIO())
        self.assertFalse(Unit.objects.exists())
        self.assertFalse(get_user_model().objects.exists())

    def test_yes_allows_it_when_debug_is_off(self):
        call_command("seed_demo", "--yes", stdout=io.StringIO())
        self.assertTrue(Unit.objects.exists())

    @override_settings(DEBUG=True)
    def test_if_empty_leaves_a_database_with_units_alone(self):
        Unit.objects.create(code="X", name="别的学校", kind="school")
        out = io.StringIO()
        call_command("seed_demo", "--if-empty", stdout=out)
        self.assertEqual(Unit.objects.count(), 1)
        self.assertIn("not loaded", out.getvalue())


class SeedDemoRoundTests(TestCase):
    @override_settings(DEBUG=True)
    def test_it_creates_two_open_rounds_and_a_closed_baseline_once(self):
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo", stdout=io.StringIO())
        rounds = {c.access_mode + ":" + c.status: c for c in Campaign.objects.all()}
        self.assertEqual(Campaign.objects.count(), 3)
        self.assertEqual(set(rounds), {"open:closed", "open:open", "ballot:open"})
        self.assertEqual(rounds["open:open"].baseline, rounds["open:closed"])
        self.assertTrue(rounds["open:open"].points.exists())
        self.assertTrue(rounds["open:open"].commitments.exists())

    @override_settings(DEBUG=True)
    def test_every_run_prints_a_respondent_url_of_the_open_round(self):
        """So that a second ``make run`` still says where to answer."""
        for _ in range(2):
            out = io.StringIO()
            call_command("seed_demo", "--if-empty", stdout=out)
            (url,) = re.findall(r"Answer as a respondent: (\S+)", out.getvalue())
            point = CollectionPoint.objects.get(token=url.rstrip("/").split("/")[-1])
            self.assertEqual(point.campaign.status, "open")
            self.assertEqual(point.campaign.access_mode, "open")

    @override_settings(DEBUG=True, SUBMIT_RATE_LIMIT=(30, 600))
    def test_responses_fill_every_round_through_the_service_once(self):
        out = io.StringIO()
        call_command("seed_demo", "--responses", "150", stdout=out)
        for campaign in Campaign.objects.all():
            # Open rounds keep up to two batches in the anonymity pool.
            self.assertEqual(
                Response.objects.filter(point__campaign=campaign).count()
                + PendingSubmission.objects.filter(point__campaign=campaign).count(),
                150,
                campaign.title,
            )
        ballot_round = Campaign.objects.get(access_mode="ballot")
        used = BallotCode.objects.filter(
            point__campaign=ballot_round, used_on__isnull=False
        ).count()
        self.assertEqual(used, 150)
        spring = Campaign.objects.get(access_mode="open", baseline__isnull=True)
        self.assertEqual(spring.status, "published")
        # Only the closed round is analysed: open rounds wait for their close.
        self.assertEqual(
            list(AnalysisRun.objects.values_list("campaign", flat=True)), [spring.pk]
        )
        call_command("seed_demo", "--responses", "150", stdout=io.StringIO())
        self.assertEqual(
            Response.objects.count() + PendingSubmission.objects.count(), 450
        )
        self.assertIn("/b/", out.getvalue())

    @override_settings(DEBUG=True)
    def test_a_negative_count_is_refused(self):
        with self.assertRaises(CommandError):
            call_command("seed_demo", "--responses", "-1", stdout=io.StringIO())
