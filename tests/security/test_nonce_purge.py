"""Submission nonces are kept only as long as a double tap needs them."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from questionnaires.models import SubmissionNonce
from questionnaires.services import response_submit
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import accepted, full_answers, make_round, point_of


@override_settings(SUBMIT_RATE_LIMIT=None, NONCE_RETENTION_DAYS=7)
class NoncePurgeTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(
            cls.school, opens_at=timezone.now() - timedelta(days=30)
        )
        cls.point = point_of(cls.campaign, cls.window_a)

    def submit(self, nonce: str, days_ago: int):
        return response_submit(
            point=self.point,
            answers=full_answers(self.point),
            nonce=nonce,
            client_address="10.1.2.3",
            now=timezone.now() - timedelta(days=days_ago),
        )

    def test_nonces_past_the_retention_are_deleted_and_recent_ones_kept(self):
        self.submit("purge-old-nonce-0001", days_ago=8)
        self.submit("purge-edge-nonce-001", days_ago=7)
        self.submit("purge-new-nonce-0001", days_ago=0)
        out = io.StringIO()
        call_command("purge_nonces", stdout=out)
        self.assertEqual(
            sorted(SubmissionNonce.objects.values_list("nonce", flat=True)),
            ["purge-edge-nonce-001", "purge-new-nonce-0001"],
        )
        self.assertIn("1 nonces older than 7 days deleted", out.getvalue())
        # What the purge left still recognises a double tap; the answers stay.
        self.assertFalse(self.submit("purge-new-nonce-0001", days_ago=0).stored)
        self.assertEqual(accepted(self.point), 3)

    def test_running_it_twice_deletes_nothing_more(self):
        self.submit("purge-old-nonce-0002", days_ago=20)
        call_command("purge_nonces", stdout=io.StringIO())
        out = io.StringIO()
        call_command("purge_nonces", stdout=out)
        self.assertIn("purge_nonces: 0 nonces", out.getvalue())
