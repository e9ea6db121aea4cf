"""The anonymity pool: accepted submissions wait sealed and reach the tables in batches.

What someone reading the database must not learn is checked in
tests/security/test_anonymity_audit.py; here, that the pool keeps and writes
everything it accepted, in batches of the configured size.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from questionnaires.forms_spec import form_spec
from questionnaires.models import Answer, Campaign, PendingSubmission, Response
from questionnaires.pool import padded_length, pool_flush
from questionnaires.services import (
    SubmissionRefused,
    campaign_close,
    response_submit,
)
from tests.base import PersonaTestCase

from .helpers import full_answers, make_round, point_of, question

BATCH = 10


def comment_answers(point, text: str) -> list[dict]:
    """A full answer set whose free-text answer is ``text``."""
    comment = question(point, "text").id
    return [
        {**a, "text": text} if a["question"] == comment else a
        for a in full_answers(point)
    ]


def written_comments(point) -> Counter:
    return Counter(
        Answer.objects.filter(point=point, question__kind="text").values_list(
            "text", flat=True
        )
    )


@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=BATCH)
class PoolTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(
            cls.school, opens_at=timezone.now() - timedelta(days=5)
        )
        cls.point = point_of(cls.campaign, cls.window_a)

    def submit(self, index: int, *, point=None, now=None):
        point = point or self.point
        return response_submit(
            point=point,
            answers=comment_answers(point, f"意见{index:03d}"),
            nonce=f"pool-test-{index:08d}",
            client_address="10.1.2.3",
            now=now,
        )

    def test_nothing_is_written_until_twice_the_batch_has_waited(self):
        for i in range(2 * BATCH - 1):
            self.assertTrue(self.submit(i).stored)
        self.assertEqual(Response.objects.count(), 0)
        self.assertEqual(Answer.objects.count(), 0)
        self.assertEqual(PendingSubmission.objects.count(), 2 * BATCH - 1)

    def test_the_submission_that_makes_two_batches_writes_one(self):
        for i in range(2 * BATCH):
            self.submit(i)
        self.assertEqual(Response.objects.count(), BATCH)
        self.assertEqual(PendingSubmission.objects.count(), BATCH)
        # Each written response has every answer it was sent with.
        per_response = Counter(
            Answer.objects.filter(point=self.point).values_list("response", flat=True)
        )
        self.assertEqual(set(per_response.values()), {len(full_answers(self.point))})

    def test_the_close_writes_every_pool_whole_and_nothing_is_lost(self):
        sent = Counter()
        for i in range(2 * BATCH + 7):
            self.submit(i)
            sent[f"意见{i:03d}"] += 1
        campaign_close(campaign=self.campaign)
        self.assertEqual(PendingSubmission.objects.count(), 0)
        self.assertEqual(Response.objects.count(), 2 * BATCH + 7)
        self.assertEqual(written_comments(self.point), sent)

    def test_a_batch_carries_the_day_of_its_latest_submission(self):
        today = timezone.now()
        for i in range(BATCH):
            self.submit(i, now=today - timedelta(days=3 if i < BATCH - 1 else 1))
        campaign_close(campaign=self.campaign)
        self.assertEqual(
            set(Response.objects.values_list("submitted_on", flat=True)),
            {timezone.localtime(today - timedelta(days=1)).date()},
        )

    def test_a_double_tap_waits_once(self):
        self.submit(1)
        self.assertFalse(self.submit(1).stored)
        self.assertEqual(PendingSubmission.objects.count(), 1)

    def test_a_submission_after_the_close_is_refused_and_nothing_waits(self):
        stale = point_of(self.campaign, self.window_a)  # read while the round ran
        campaign_close(campaign=self.campaign)
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(1, point=stale)
        self.assertEqual(caught.exception.code, "closed")
        self.assertEqual(PendingSubmission.objects.count(), 0)

    def test_a_close_that_died_before_its_pools_were_written_loses_nothing(self):
        for i in range(5):
            self.submit(i)
        # The status moved, then the process died before writing the pool out.
        Campaign.objects.filter(pk=self.campaign.pk).update(
            status=Campaign.Status.CLOSED
        )
        call_command("flush_pools", stdout=open("/dev/null", "w"))
        self.assertEqual(Response.objects.count(), 5)
        self.assertEqual(PendingSubmission.objects.count(), 0)

    def test_the_analysis_writes_out_a_pool_left_behind(self):
        from analysis.services import campaign_analyze

        for i in range(4):
            self.submit(i)
        Campaign.objects.filter(pk=self.campaign.pk).update(
            status=Campaign.Status.CLOSED
        )
        run = campaign_analyze(campaign=self.campaign)
        self.assertEqual(run.n_responses, 4)

    def test_flush_pools_writes_due_batches_only_for_open_rounds(self):
        for i in range(BATCH + 3):
            self.submit(i)
        call_command("flush_pools", stdout=open("/dev/null", "w"))
        self.assertEqual(Response.objects.count(), 0)
        self.assertEqual(PendingSubmission.objects.count(), BATCH + 3)

    @override_settings(ANONYMITY_BATCH=1)
    def test_a_batch_of_one_writes_at_once(self):
        self.submit(1)
        self.assertEqual(Response.objects.count(), 1)
        self.assertEqual(PendingSubmission.objects.count(), 0)

    def test_a_pool_sealed_before_a_key_rotation_is_still_written(self):
        for i in range(3):
            self.submit(i)
        old_key = settings.SECRET_KEY
        with self.settings(SECRET_KEY="a new key", SECRET_KEY_FALLBACKS=[old_key]):
            pool_flush(point_id=self.point.pk, everything=True)
        self.assertEqual(Response.objects.count(), 3)

    def test_a_pool_that_cannot_be_unsealed_stays_where_it_is(self):
        self.submit(1)
        with self.settings(SECRET_KEY="another key", SECRET_KEY_FALLBACKS=[]):
            with self.assertRaises(InvalidTag):
                pool_flush(point_id=self.point.pk, everything=True)
        self.assertEqual(PendingSubmission.objects.count(), 1)
        self.assertEqual(Response.objects.count(), 0)

    def test_every_sealed_submission_of_a_questionnaire_has_one_length(self):
        point = self.point
        comment = question(point, "text").id
        long_text = "😀" * 2000  # the worst case: four bytes each in UTF-8
        bodies = [
            comment_answers(point, "好"),
            comment_answers(point, long_text),
            [a for a in full_answers(point) if a["question"] != comment],
        ]
        for i, answers in enumerate(bodies):
            response_submit(
                point=point,
                answers=answers,
                nonce=f"pool-length-{i:08d}",
                client_address="10.1.2.3",
            )
        lengths = {
            len(bytes(s))
            for s in PendingSubmission.objects.values_list("sealed", flat=True)
        }
        self.assertEqual(len(lengths), 1, lengths)
        self.assertGreaterEqual(
            lengths.pop(), padded_length(form_spec(point.questionnaire))
        )

    def test_the_office_sees_how_many_wait_and_managers_do_not(self):
        for i in range(7):
            self.submit(i)
        self.login(self.leader)
        page = self.client.get(f"/manage/campaigns/{self.campaign.pk}/")
        self.assertContains(page, 'id="pool-waiting"')
        self.assertContains(
            page, "5+ 份答卷在匿名池中等待入库：某单位攒够 20 份时随机写入其中 10 份"
        )
        self.login(self.manager_a)
        page = self.client.get(f"/manage/campaigns/{self.campaign.pk}/")
        self.assertNotContains(page, 'id="pool-waiting"')
