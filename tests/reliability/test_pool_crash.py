"""Nothing accepted is lost when a process dies: real processes, killed with SIGKILL.

The service runs in a child process (``manage.py``) against this test's database;
the test kills it at the worst moments it can arrange: right after a submission
was accepted, and in the middle of writing a batch out of the pool. PostgreSQL
only: the child needs a database another process can open (SQLite's test
database lives in this process's memory).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import skipUnless

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import TransactionTestCase, override_settings

from organizations.models import Unit
from questionnaires.models import Answer, Campaign, PendingSubmission, Response
from questionnaires.services import response_submit
from tests.base import make_unit
from tests.browser import empty_tables
from tests.questionnaires.helpers import full_answers, make_round, point_of

ROOT = Path(__file__).resolve().parents[2]
BATCH = 10
WAITING = 15  # fewer than two batches: nothing is written while the round runs


@skipUnless(connection.vendor == "postgresql", "a database another process can open")
@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=BATCH)
class PoolCrashTests(TransactionTestCase):
    def setUp(self) -> None:
        school = make_unit("CRASH-S", Unit.Kind.SCHOOL, name="故障测试大学")
        self.branch = make_unit(
            "CRASH-B", Unit.Kind.BRANCH, school, "student", name="故障测试支部"
        )
        self.campaign = make_round(school, kinds={"branch": "wugemofan"})
        self.point = point_of(self.campaign, self.branch)
        self.answers = full_answers(self.point)
        for i in range(WAITING):
            response_submit(
                point=self.point,
                answers=self.answers,
                nonce=f"crash-test-{i:010d}",
                client_address="10.0.0.1",
            )

    def _fixture_teardown(self) -> None:
        empty_tables()  # not Django's flush: see tests.browser.empty_tables

    def child(self, *args: str) -> subprocess.Popen:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/"
            f"{db['NAME']}",
            "SECRET_KEY": settings.SECRET_KEY,
            "ANONYMITY_BATCH": str(BATCH),
            "SUBMIT_RATE_LIMIT": "off",
        }
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def test_a_process_killed_right_after_accepting_loses_nothing(self):
        script = (
            "import os, signal\n"
            "from questionnaires.models import CollectionPoint\n"
            "from questionnaires.services import response_submit\n"
            f"point = CollectionPoint.objects.select_related('campaign', "
            f"'questionnaire').get(pk={self.point.pk})\n"
            f"outcome = response_submit(point=point, answers={self.answers!r}, "
            "nonce='crash-test-killed-after', client_address='10.0.0.2')\n"
            "print(outcome.stored, flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n"
        )
        child = self.child("shell", "-c", script)
        out, err = child.communicate(timeout=120)
        self.assertEqual(child.returncode, -signal.SIGKILL, err.decode())
        self.assertEqual(out.decode().split()[-1], "True", err.decode())
        self.assertEqual(PendingSubmission.objects.count(), WAITING + 1)
        Campaign.objects.filter(pk=self.campaign.pk).update(
            status=Campaign.Status.CLOSED
        )
        call_command("flush_pools", stdout=open(os.devnull, "w"))
        self.assertEqual(Response.objects.count(), WAITING + 1)
        self.assertEqual(Answer.objects.count(), (WAITING + 1) * len(self.answers))

    def test_a_process_killed_while_writing_a_batch_loses_nothing(self):
        # The round closed, then died before its pools were written: the periodic
        # flush_pools writes them. Kill that one halfway, too.
        Campaign.objects.filter(pk=self.campaign.pk).update(
            status=Campaign.Status.CLOSED
        )
        db = connection.settings_dict
        blocker = psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
        )
        try:
            blocker.execute(
                f"LOCK TABLE {Answer._meta.db_table} IN ACCESS EXCLUSIVE MODE"
            )
            child = self.child("flush_pools")
            backend = self.wait_for_lock_wait(blocker, child)
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
            blocker.rollback()  # the child's half-written batch may go on now
            self.wait_gone(blocker, backend)
        finally:
            blocker.close()
        self.assertEqual(Response.objects.count(), 0)
        self.assertEqual(PendingSubmission.objects.count(), WAITING)
        call_command("flush_pools", stdout=open(os.devnull, "w"))
        self.assertEqual(Response.objects.count(), WAITING)
        self.assertEqual(Answer.objects.count(), WAITING * len(self.answers))

    def wait_for_lock_wait(self, blocker, child: subprocess.Popen) -> int:
        """The child's database backend, once it is waiting for the table lock
        halfway through its batch (responses inserted, answers not)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if child.poll() is not None:
                self.fail(f"the child ended early: {child.stderr.read().decode()}")
            # Statistics views are a snapshot per transaction; the blocker's is open.
            blocker.execute("SELECT pg_stat_clear_snapshot()")
            row = blocker.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT%%'"
            ).fetchone()
            if row:
                return row[0]
            time.sleep(0.1)
        self.fail("the child never reached the answers' insert")

    def wait_gone(self, blocker, backend: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            blocker.execute("SELECT pg_stat_clear_snapshot()")
            alive = blocker.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)
            ).fetchone()
            if not alive:
                return
            time.sleep(0.1)
        self.fail("the killed child's backend did not end")
