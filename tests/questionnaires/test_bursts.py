"""Bursts: a minute far above the point's own rate marks the point for review."""

from datetime import timedelta

from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from questionnaires.bursts import BURST_MIN, record_submission
from questionnaires.models import CollectionPoint
from questionnaires.services import response_submit
from tests.base import PersonaTestCase

from .helpers import full_answers, make_round, point_of


class BurstTests(PersonaTestCase):
    def setUp(self):
        cache.clear()
        self.now = timezone.now().replace(second=30)

    def test_a_first_minute_of_twenty_is_a_burst_and_nineteen_is_not(self):
        results = [record_submission(1, self.now) for _ in range(BURST_MIN)]
        self.assertEqual(results, [False] * (BURST_MIN - 1) + [True])

    def test_a_point_that_is_always_busy_has_no_burst_at_its_usual_rate(self):
        for minutes_ago in range(1, 61):
            for _ in range(5):
                record_submission(2, self.now - timedelta(minutes=minutes_ago))
        # Average 5 a minute: 20 or 40 in a minute is normal, 60 (10 × (5 + 1)) is not.
        results = [record_submission(2, self.now) for _ in range(60)]
        self.assertEqual([i + 1 for i, burst in enumerate(results) if burst], [60])

    @override_settings(SUBMIT_RATE_LIMIT=None)
    def test_a_burst_of_real_submissions_marks_the_point_with_the_day(self):
        campaign = make_round(self.school, kinds={"window": "window"})
        point = point_of(campaign, self.window_a)
        for i in range(BURST_MIN):
            response_submit(
                point=point,
                answers=full_answers(point),
                nonce=f"burst-test-{i:08d}",
                client_address=f"10.0.0.{i}",
                now=self.now,
            )
        self.assertEqual(
            CollectionPoint.objects.get(pk=point.pk).burst_on,
            timezone.localdate(self.now),
        )
        self.login(self.leader)
        self.assertContains(
            self.client.get(f"/manage/campaigns/{campaign.pk}/"), "提交突增"
        )
        self.login(self.manager_a)
        self.assertNotContains(
            self.client.get(f"/manage/campaigns/{campaign.pk}/"), "提交突增"
        )

    @override_settings(SUBMIT_RATE_LIMIT=None)
    def test_submissions_spread_over_minutes_mark_nothing(self):
        campaign = make_round(self.school, kinds={"window": "window"})
        point = point_of(campaign, self.window_a)
        for i in range(BURST_MIN * 2):
            response_submit(
                point=point,
                answers=full_answers(point),
                nonce=f"calm-test-{i:08d}",
                client_address="x",
                now=self.now - timedelta(minutes=i),
            )
        self.assertIsNone(CollectionPoint.objects.get(pk=point.pk).burst_on)
