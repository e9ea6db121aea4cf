"""One ballot, many simultaneous submissions: the database lets exactly one through.

Real threads with their own connections and committed transactions, so this is a
TransactionTestCase; each run starts the threads together at a barrier.
"""

from __future__ import annotations

import threading
from unittest import skipUnless

from django.db import connection
from django.test import TransactionTestCase, override_settings

from organizations.models import Unit
from questionnaires.models import (
    Answer,
    BallotCode,
    Campaign,
    CollectionPoint,
    PendingSubmission,
    Response,
    SubmissionNonce,
)
from questionnaires.services import (
    SubmissionRefused,
    SubmitOutcome,
    ballots_issue,
    response_submit,
)
from tests.base import make_unit

from .helpers import full_answers, make_round, point_of, write_out

NONCE_PREFIX = "ballot-race-"


@skipUnless(
    connection.vendor == "postgresql",
    "SQLite's in-memory test database is shared between threads in shared-cache "
    "mode, where a second writer fails at once with 'database table is locked' "
    "instead of waiting for the lock, so the race ends in errors, not refusals; "
    "SQLite serialises writers anyway (one lock for the whole file).",
)
@override_settings(SUBMIT_RATE_LIMIT=None)
class BallotRaceTests(TransactionTestCase):
    def setUp(self) -> None:
        self.school = make_unit("RACE-S", Unit.Kind.SCHOOL, name="竞态测试大学")
        self.branch = make_unit(
            "RACE-B", Unit.Kind.BRANCH, self.school, "student", name="竞态测试支部"
        )
        self.campaign = make_round(
            self.school, mode="ballot", kinds={"branch": "wugemofan"}
        )
        self.point = point_of(self.campaign, self.branch)
        [self.code] = ballots_issue(point=self.point, count=1)

    def _fixture_teardown(self) -> None:
        # Not Django's flush of every table: on SQLite its DELETEs trip the freeze
        # triggers of published questionnaires (migration 0003), and on PostgreSQL
        # its TRUNCATE would wipe the built-in questionnaires later tests need.
        points = CollectionPoint.objects.filter(campaign__organizer__code="RACE-S")
        Answer.objects.filter(point__in=points).delete()
        PendingSubmission.objects.filter(point__in=points).delete()
        Response.objects.filter(point__in=points).delete()
        Campaign.objects.filter(organizer__code="RACE-S").delete()
        SubmissionNonce.objects.filter(nonce__startswith=NONCE_PREFIX).delete()
        Unit.objects.filter(code="RACE-B").delete()
        Unit.objects.filter(code="RACE-S").delete()

    def race(self, threads: int) -> list[object]:
        """Submit the one ballot from ``threads`` threads at once; their outcomes."""
        answers = full_answers(self.point)
        barrier = threading.Barrier(threads)
        outcomes: list[object] = [None] * threads

        def submit(index: int) -> None:
            try:
                point = point_of(self.campaign, self.branch)
                barrier.wait(timeout=30)
                outcomes[index] = response_submit(
                    point=point,
                    answers=answers,
                    nonce=f"{NONCE_PREFIX}{threads:03d}-{index:08d}",
                    ballot=self.code,
                    client_address=f"10.20.30.{index}",
                )
            except Exception as exc:  # reported by the assertions below
                outcomes[index] = exc
            finally:
                connection.close()

        workers = [threading.Thread(target=submit, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        self.assertFalse([w for w in workers if w.is_alive()], "a thread hung")
        return outcomes

    def assert_one_winner(self, outcomes: list[object]) -> None:
        winners = [o for o in outcomes if isinstance(o, SubmitOutcome)]
        self.assertEqual(winners, [SubmitOutcome(stored=True)], outcomes)
        losers = [o for o in outcomes if not isinstance(o, SubmitOutcome)]
        self.assertEqual(len(losers), len(outcomes) - 1)
        for loser in losers:
            self.assertIsInstance(loser, SubmissionRefused, repr(loser))
            self.assertEqual(loser.code, "ballot_used")
        self.assertEqual(PendingSubmission.objects.filter(point=self.point).count(), 1)
        write_out(self.point)
        self.assertEqual(Response.objects.filter(point=self.point).count(), 1)
        self.assertEqual(
            BallotCode.objects.filter(point=self.point, used_on__isnull=False).count(),
            1,
        )
        # The losers' nonces were rolled back with everything else they wrote.
        self.assertEqual(
            SubmissionNonce.objects.filter(nonce__startswith=NONCE_PREFIX).count(), 1
        )
        self.assertEqual(
            Answer.objects.filter(point=self.point).count(),
            len(full_answers(self.point)),
        )

    def test_two_simultaneous_submissions_of_one_ballot_store_one_response(self):
        self.assert_one_winner(self.race(2))

    def test_ten_simultaneous_submissions_of_one_ballot_store_one_response(self):
        self.assert_one_winner(self.race(10))

    def test_fifty_simultaneous_submissions_of_one_ballot_store_one_response(self):
        self.assert_one_winner(self.race(50))
