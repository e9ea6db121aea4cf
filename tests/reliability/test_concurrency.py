"""Concurrency on PostgreSQL: many submissions at once, two offices on one task.

Real threads with their own connections and committed transactions (the one ballot
raced by fifty threads is in tests/questionnaires/test_ballot_race.py). SQLite
serialises writers with one lock for the whole file, and its shared-cache test
database fails a second writer at once instead of making it wait, so these run on
PostgreSQL only.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from unittest import skipUnless

from django.db import connection
from django.test import TransactionTestCase, override_settings
from rest_framework.test import APIClient

from analysis.models import Finding
from organizations.models import Membership, Unit
from questionnaires.models import Answer, PendingSubmission, Response
from questionnaires.services import SubmitOutcome, campaign_close, response_submit
from rectification.models import Task, TaskEvent
from rectification.services import task_create
from tests.base import make_unit, make_user
from tests.browser import empty_tables
from tests.questionnaires.helpers import full_answers, make_round, point_of, question

SUBMISSIONS = 500
WORKERS = 32
BATCH = 10


@skipUnless(connection.vendor == "postgresql", "PostgreSQL's concurrency")
@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=BATCH)
class ConcurrencyTests(TransactionTestCase):
    def setUp(self) -> None:
        self.school = make_unit("CON-S", Unit.Kind.SCHOOL, name="并发测试大学")
        self.branch = make_unit(
            "CON-B", Unit.Kind.BRANCH, self.school, "student", name="并发测试支部"
        )
        self.campaign = make_round(self.school, kinds={"branch": "wugemofan"})
        self.point = point_of(self.campaign, self.branch)

    def _fixture_teardown(self) -> None:
        empty_tables()  # not Django's flush: see tests.browser.empty_tables

    def test_five_hundred_simultaneous_submissions_store_every_answer(self):
        comment = question(self.point, "text").id
        base = full_answers(self.point)
        barrier = threading.Barrier(WORKERS)

        def submit(index: int) -> object:
            if index < WORKERS:
                barrier.wait(timeout=30)
            try:
                return response_submit(
                    point=point_of(self.campaign, self.branch),
                    answers=[
                        {**a, "text": f"并发意见{index:04d}"}
                        if a["question"] == comment
                        else a
                        for a in base
                    ],
                    nonce=f"concurrent-{index:010d}",
                    client_address=f"10.9.{index // 250}.{index % 250}",
                )
            except Exception as exc:  # reported by the assertions below
                return exc
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = list(pool.map(submit, range(SUBMISSIONS)))
        self.assertEqual(
            Counter(type(o).__name__ for o in outcomes), {"SubmitOutcome": SUBMISSIONS}
        )
        self.assertTrue(all(o == SubmitOutcome(stored=True) for o in outcomes))
        # While the round runs every batch written is full, and what waits is
        # between one and two batches.
        written = Response.objects.filter(point=self.point).count()
        self.assertEqual(written % BATCH, 0)
        self.assertEqual(
            written + PendingSubmission.objects.filter(point=self.point).count(),
            SUBMISSIONS,
        )
        campaign_close(campaign=self.campaign)
        self.assertEqual(Response.objects.filter(point=self.point).count(), SUBMISSIONS)
        self.assertEqual(PendingSubmission.objects.count(), 0)
        answers = Answer.objects.filter(point=self.point)
        self.assertEqual(answers.count(), SUBMISSIONS * len(base))
        self.assertEqual(
            sorted(answers.filter(question_id=comment).values_list("text", flat=True)),
            [f"并发意见{i:04d}" for i in range(SUBMISSIONS)],
        )

    def test_two_offices_moving_one_task_at_once_one_wins_one_gets_409(self):
        first = make_user("con-office-1", Membership.Role.OFFICE, self.school)
        second = make_user("con-office-2", Membership.Role.OFFICE, self.school)
        finding = Finding.objects.create(
            campaign=self.campaign,
            unit=self.branch,
            trigger="statistical",
            title="并发测试支部满意率偏低",
            status="confirmed",
        )
        task = task_create(user=first, fields={}, finding=finding)
        barrier = threading.Barrier(2)
        statuses: list[int] = [0, 0]

        def verify(index: int, user) -> None:
            client = APIClient()
            client.force_authenticate(user=user)
            try:
                barrier.wait(timeout=30)
                statuses[index] = client.post(
                    f"/api/v1/tasks/{task.pk}/transitions/",
                    {"action": "verify"},
                    format="json",
                ).status_code
            finally:
                connection.close()

        threads = [
            threading.Thread(target=verify, args=(i, user))
            for i, user in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(sorted(statuses), [200, 409])
        self.assertEqual(Task.objects.get(pk=task.pk).state, "verifying")
        self.assertEqual(
            TaskEvent.objects.filter(
                task=task, kind=TaskEvent.Kind.TRANSITION, action="verify"
            ).count(),
            1,
        )
