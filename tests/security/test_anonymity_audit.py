"""Anonymity audit: someone with read access to every table, system column and log.

Ballots are answered in slip order, each from its own address and browser with a
comment naming its slip; then the round closes. Whatever the reader joins or sorts
by — ids, PostgreSQL's ``xmin`` and ``ctid``, SQLite's ``rowid``, the nonce table —
no ballot narrows to fewer than ``ANONYMITY_BATCH`` responses, and no order inside
a batch survives. Real transactions (TransactionTestCase): inside one test
transaction every row would share its ``xmin`` and prove nothing.
"""

from __future__ import annotations

import io
import logging
import re

from django.db import connection
from django.test import TransactionTestCase, override_settings

from organizations.models import Unit
from questionnaires.models import Answer, BallotCode, PendingSubmission, Response
from questionnaires.services import ballots_issue, campaign_close
from tests.base import make_unit
from tests.browser import empty_tables
from tests.questionnaires.helpers import full_answers, make_round, point_of, question

BATCH = 10
BALLOTS = 2 * BATCH + 5  # one batch written while the round runs, 15 at the close


def slip_of(text: str) -> int:
    return int(re.fullmatch(r"第(\d+)张选票", text).group(1))


@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=BATCH)
class AnonymityAuditTests(TransactionTestCase):
    def setUp(self) -> None:
        school = make_unit("AUD-S", Unit.Kind.SCHOOL, name="审计测试大学")
        branch = make_unit(
            "AUD-B", Unit.Kind.BRANCH, school, "student", name="审计测试支部"
        )
        self.campaign = make_round(school, mode="ballot", kinds={"branch": "wugemofan"})
        self.point = point_of(self.campaign, branch)
        self.codes = ballots_issue(point=self.point, count=BALLOTS)
        comment = question(self.point, "text").id
        self.addresses = [f"172.16.{i}.{100 + i}" for i in range(BALLOTS)]
        self.agents = [
            f"AuditPhone/{i}.0 MicroMessenger/8.0.{i}" for i in range(BALLOTS)
        ]
        self.log = io.StringIO()
        handler = logging.StreamHandler(self.log)
        handler.setLevel(logging.DEBUG)
        root = logging.getLogger()
        root.addHandler(handler)
        old_level = root.level
        root.setLevel(logging.DEBUG)
        try:
            for i, code in enumerate(self.codes):
                answers = [
                    {**a, "text": f"第{i}张选票"} if a["question"] == comment else a
                    for a in full_answers(self.point)
                ]
                reply = self.client.post(
                    f"/api/v1/public/points/{self.point.token}/",
                    {
                        "answers": answers,
                        "nonce": f"audit-nonce-{i:06d}",
                        "ballot": code,
                    },
                    content_type="application/json",
                    REMOTE_ADDR=self.addresses[i],
                    HTTP_USER_AGENT=self.agents[i],
                )
                self.assertEqual(reply.status_code, 201, reply.content)
            campaign_close(campaign=self.campaign)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)

    def _fixture_teardown(self) -> None:
        empty_tables()  # not Django's flush: see tests.browser.empty_tables

    # --- What is stored -------------------------------------------------------

    def test_every_response_is_written_and_nothing_waits(self):
        self.assertEqual(Response.objects.filter(point=self.point).count(), BALLOTS)
        self.assertEqual(PendingSubmission.objects.count(), 0)
        self.assertEqual(
            sorted(
                slip_of(t)
                for t in Answer.objects.filter(question__kind="text").values_list(
                    "text", flat=True
                )
            ),
            list(range(BALLOTS)),
        )

    def test_no_table_and_no_log_holds_a_code_an_address_or_a_browser(self):
        secrets = [*self.codes, *self.addresses, *self.agents]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names():
                cursor.execute(f"SELECT * FROM {quote(table)}")
                for row in cursor.fetchall():
                    cells = " ".join(str(cell) for cell in row)
                    found = [s for s in secrets if s in cells]
                    self.assertEqual(found, [], f"{table} holds {found[:3]}")
        logged = self.log.getvalue()
        self.assertEqual([s for s in secrets if s in logged], [])

    # --- What the system columns tell ----------------------------------------

    def physical_batches(self) -> list[list[int]]:
        """The responses' slips, batch by batch, each batch in physical order.

        PostgreSQL: a batch is the responses sharing a transaction id, in ``ctid``
        order. SQLite keeps no transaction ids; its ``rowid`` is the insertion
        order, so a batch is a run of rowids: the first BATCH, then the rest.
        """
        table = Response._meta.db_table
        answers = Answer._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"SELECT r.xmin::text, a.text FROM {table} r JOIN {answers} a "
                    f"ON a.response_id = r.id AND a.text <> '' ORDER BY r.ctid"
                )
                batches: dict[str, list[int]] = {}
                for xmin, text in cursor.fetchall():
                    batches.setdefault(xmin, []).append(slip_of(text))
                return list(batches.values())
            cursor.execute(
                f"SELECT a.text FROM {table} r JOIN {answers} a "
                f"ON a.response_id = r.id AND a.text <> '' ORDER BY r.rowid"
            )
            slips = [slip_of(text) for (text,) in cursor.fetchall()]
            return [slips[:BATCH], slips[BATCH:]]

    def test_responses_are_written_in_batches_no_smaller_than_the_batch_size(self):
        batches = self.physical_batches()
        self.assertEqual(sorted(len(b) for b in batches), [BATCH, BALLOTS - BATCH])

    def test_the_order_inside_a_batch_is_not_the_order_of_answering(self):
        # A shuffled batch of 10 comes out sorted once in 10! ≈ 3.6 million runs.
        for batch in self.physical_batches():
            self.assertNotEqual(batch, sorted(batch))

    def test_the_first_batch_is_not_simply_the_first_answers(self):
        # Drawn at random from the first twenty: the first ten once in 184,756 runs.
        first = self.physical_batches()
        if connection.vendor == "postgresql":
            first.sort(key=len)
        self.assertNotEqual(sorted(first[0]), list(range(BATCH)))

    def test_no_ballot_shares_a_transaction_id_with_a_response_or_an_answer(self):
        if connection.vendor != "postgresql":
            self.skipTest("transaction ids are PostgreSQL's")
        ballots = BallotCode._meta.db_table
        with connection.cursor() as cursor:
            for other in (Response._meta.db_table, Answer._meta.db_table):
                cursor.execute(
                    f"SELECT count(*) FROM {ballots} b JOIN {other} r "
                    f"ON r.xmin = b.xmin"
                )
                self.assertEqual(cursor.fetchone()[0], 0, other)

    def test_a_ballot_narrows_its_response_to_no_fewer_than_a_batch(self):
        """The reader's best use of transaction ids: a ballot's response is in a
        batch written after the ballot was used. Every ballot keeps at least a
        batch of candidates."""
        if connection.vendor != "postgresql":
            self.skipTest("transaction ids are PostgreSQL's")
        ballots = BallotCode._meta.db_table
        responses = Response._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT min(c.n) FROM (SELECT b.id, count(r.id) AS n "
                f"FROM {ballots} b JOIN {responses} r "
                f"ON r.xmin::text::bigint >= b.xmin::text::bigint "
                f"WHERE b.used_on IS NOT NULL GROUP BY b.id) c"
            )
            self.assertGreaterEqual(cursor.fetchone()[0], BATCH)
