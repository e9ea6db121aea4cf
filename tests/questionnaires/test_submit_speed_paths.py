"""The short paths of a submission (issue 11): what they skip must not change what
is stored, refused or counted.

- The cache counters (questionnaires.counters): one Lua step on Redis, the cache
  API elsewhere; both must count, refuse and expire alike.
- The accepting transaction: the nonce by ON CONFLICT DO NOTHING, a bounded
  number of queries; the pool's size counted in the cache, which only says when
  to try a batch (a count too high or lost there changes nothing written).
- A batch's flush locks its point's row only, never the round's or the unit's,
  does not make submissions wait, and skips when another flush holds the point.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta
from unittest import skipUnless

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from organizations.models import Unit
from questionnaires import counters
from questionnaires.bursts import BURST_MIN, record_submission
from questionnaires.models import (
    Campaign,
    CollectionPoint,
    PendingSubmission,
    Response,
    SubmissionNonce,
)
from questionnaires.pool import pool_flush, waiting_key
from questionnaires.ratelimit import (
    allow_submission,
    release_submission,
    take_submission,
)
from questionnaires.services import (
    SubmissionRefused,
    SubmitOutcome,
    campaign_close,
    response_submit,
)
from tests.base import PersonaTestCase, make_unit
from tests.browser import empty_tables

from .helpers import full_answers, make_round, point_of

REDIS = "redis://127.0.0.1:6379/12"
BATCH = 3


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_caches(prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": prefix,
        }
    }


class CounterContract:
    """The same behaviour whichever cache holds the counters."""

    def key(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def test_it_counts_and_refuses_past_the_limit_counting_nothing_then(self):
        key = self.key("take")
        results = [counters.take(key, limit=3, timeout=60) for _ in range(5)]
        self.assertEqual(results, [True, True, True, False, False])
        self.assertEqual(counters.value(key), 3)

    def test_what_is_given_back_can_be_taken_again(self):
        key = self.key("give")
        for _ in range(2):
            counters.take(key, limit=2, timeout=60)
        self.assertFalse(counters.take(key, limit=2, timeout=60))
        counters.give_back(key)
        self.assertTrue(counters.take(key, limit=2, timeout=60))

    def test_giving_back_to_an_expired_counter_creates_nothing(self):
        key = self.key("gone")
        counters.give_back(key)
        self.assertEqual(counters.value(key), 0)
        self.assertTrue(counters.take(key, limit=1, timeout=60))
        self.assertFalse(counters.take(key, limit=1, timeout=60))

    def test_a_count_is_one_more_each_time(self):
        key = self.key("count")
        self.assertEqual([counters.count(key, timeout=60) for _ in range(3)], [1, 2, 3])
        self.assertEqual(counters.value(self.key("never")), 0)

    def test_several_counters_count_at_once_and_can_be_set(self):
        a, b = self.key("many-a"), self.key("many-b")
        counters.count(b, timeout=60)
        self.assertEqual(counters.count_many({a: 60, b: 60}), [1, 2])
        self.assertEqual(counters.count_many({a: 60, b: 60}), [2, 3])
        counters.reset(b, 7, timeout=60)
        self.assertEqual(counters.value(b), 7)
        self.assertEqual(counters.count_many({b: 60}), [8])

    def test_the_flood_limit_through_the_counters(self):
        with override_settings(SUBMIT_RATE_LIMIT=(2, 600)):
            address = f"198.51.100.{uuid.uuid4().int % 250}"
            point = 900_000 + uuid.uuid4().int % 1000
            self.assertTrue(allow_submission(point, address))
            self.assertTrue(take_submission(point, address))
            self.assertTrue(take_submission(point, address))
            self.assertFalse(allow_submission(point, address))
            self.assertFalse(take_submission(point, address))
            release_submission(point, address)
            self.assertTrue(allow_submission(point, address))

    def test_bursts_through_the_counters(self):
        now = timezone.now().replace(second=30)
        point = 800_000 + uuid.uuid4().int % 1000
        results = [record_submission(point, now) for _ in range(BURST_MIN)]
        self.assertEqual(results, [False] * (BURST_MIN - 1) + [True])


class LocalCounterTests(CounterContract, TestCase):
    def setUp(self) -> None:
        cache.clear()
        self.prefix = "local"


@pytest.mark.skipif(
    not redis_up() and os.environ.get("CI") != "true",
    reason="Redis at 127.0.0.1:6379 is not running",
)
class RedisCounterTests(CounterContract, TestCase):
    def setUp(self) -> None:
        self.prefix = f"test-{uuid.uuid4().hex}"
        settings_change = override_settings(CACHES=redis_caches(self.prefix))
        settings_change.enable()
        self.addCleanup(settings_change.disable)
        self.addCleanup(self.delete_keys)

    def delete_keys(self) -> None:
        import redis

        server = redis.Redis.from_url(REDIS)
        for key in server.scan_iter(f"{self.prefix}:*"):
            server.delete(key)

    def server_key(self, name: str) -> str:
        return cache.make_and_validate_key(self.key(name))

    def test_every_counter_expires_with_its_window(self):
        import redis

        server = redis.Redis.from_url(REDIS)
        counters.take(self.key("ttl-take"), limit=5, timeout=600)
        counters.count(self.key("ttl-count"), timeout=7200)
        self.assertTrue(0 < server.ttl(self.server_key("ttl-take")) <= 600)
        self.assertTrue(0 < server.ttl(self.server_key("ttl-count")) <= 7200)
        counters.count_many({self.key("ttl-a"): 60, self.key("ttl-b"): 7200})
        self.assertTrue(0 < server.ttl(self.server_key("ttl-a")) <= 60)
        self.assertTrue(60 < server.ttl(self.server_key("ttl-b")) <= 7200)
        counters.reset(self.key("ttl-b"), 3, timeout=600)
        self.assertTrue(0 < server.ttl(self.server_key("ttl-b")) <= 600)

    def test_a_counter_left_without_an_expiry_gets_one(self):
        import redis

        server = redis.Redis.from_url(REDIS)
        server.set(self.server_key("forever"), 4)
        self.assertTrue(counters.take(self.key("forever"), limit=9, timeout=600))
        self.assertEqual(counters.value(self.key("forever")), 5)
        self.assertTrue(0 < server.ttl(self.server_key("forever")) <= 600)

    def test_the_counters_read_what_the_cache_api_wrote(self):
        # A worker of the previous release counted with cache.add and cache.incr.
        cache.add(self.key("old"), 0, timeout=600)
        cache.incr(self.key("old"))
        self.assertEqual(counters.value(self.key("old")), 1)
        self.assertEqual(counters.count(self.key("old"), timeout=600), 2)
        self.assertEqual(cache.get(self.key("old")), 2)

    def test_a_submission_is_limited_through_redis(self):
        school = make_unit("SPD-S", Unit.Kind.SCHOOL, name="速度测试大学")
        window = make_unit("SPD-W", Unit.Kind.WINDOW, school, name="速度测试窗口")
        point = point_of(make_round(school, kinds={"window": "window"}), window)
        with override_settings(SUBMIT_RATE_LIMIT=(2, 600)):
            for i in range(2):
                response_submit(
                    point=point,
                    answers=full_answers(point),
                    nonce=f"redis-limit-{i:012d}",
                    client_address="203.0.113.77",
                )
            with self.assertRaises(SubmissionRefused) as caught:
                response_submit(
                    point=point,
                    answers=full_answers(point),
                    nonce="redis-limit-000000000002",
                    client_address="203.0.113.77",
                )
        self.assertEqual(caught.exception.code, "rate_limited")
        self.assertEqual(PendingSubmission.objects.filter(point=point).count(), 2)


@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=BATCH)
class AcceptTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(
            cls.school, opens_at=timezone.now() - timedelta(days=1)
        )
        cls.point = point_of(cls.campaign, cls.window_a)

    def setUp(self) -> None:
        cache.clear()  # the pools' counts (questionnaires.pool.waiting_key)

    def submit(self, index: int, **kwargs):
        return response_submit(
            point=kwargs.pop("point", self.point),
            answers=full_answers(self.point),
            nonce=f"speed-path-{index:010d}",
            client_address="10.4.5.6",
            **kwargs,
        )

    def test_an_accepted_submission_costs_a_bounded_number_of_statements(self):
        self.submit(0)
        point = point_of(self.campaign, self.window_a)
        # The savepoint (a transaction outside tests), the nonce, the pending row,
        # on PostgreSQL the point's key lock, the round's re-check, the release;
        # the pool is counted in the cache, not in the database.
        key_lock = 1 if connection.vendor == "postgresql" else 0
        with self.assertNumQueries(5 + key_lock):
            self.submit(1, point=point)

    def test_a_double_tap_is_answered_by_the_nonce_alone(self):
        self.submit(0)
        with self.assertNumQueries(3):  # savepoint, nonce, rollback
            self.assertFalse(self.submit(0).stored)
        self.assertEqual(SubmissionNonce.objects.count(), 1)
        self.assertEqual(PendingSubmission.objects.count(), 1)

    def test_the_pool_counted_with_the_round_writes_the_batch_when_due(self):
        for i in range(2 * BATCH - 1):
            self.submit(i)
        self.assertEqual(Response.objects.count(), 0)
        self.submit(2 * BATCH)
        self.assertEqual(Response.objects.count(), BATCH)
        self.assertEqual(PendingSubmission.objects.count(), BATCH)

    def test_a_pool_count_left_too_high_brings_an_attempt_forward_only(self):
        # Say the cache kept a count from rows rolled back (or another database).
        counters.reset(waiting_key(self.point.pk), 50, timeout=600)
        self.submit(0)
        self.assertEqual(Response.objects.count(), 0)  # tried, found one, wrote none
        self.assertEqual(counters.value(waiting_key(self.point.pk)), 1)
        for i in range(1, 2 * BATCH - 1):
            self.submit(i)
        self.assertEqual(Response.objects.count(), 0)
        self.submit(2 * BATCH)
        self.assertEqual(Response.objects.count(), BATCH)
        self.assertEqual(counters.value(waiting_key(self.point.pk)), BATCH)

    def test_a_pool_count_the_cache_lost_delays_a_batch_and_is_set_again(self):
        for i in range(2 * BATCH - 1):
            self.submit(i)
        cache.clear()  # the pool holds 2 × BATCH - 1; the cache counts nothing
        for i in range(2 * BATCH - 1):
            self.submit(100 + i)
        self.assertEqual(Response.objects.count(), 0)
        self.submit(200)  # the cache counts 2 × BATCH, the pool 4 × BATCH - 1
        self.assertEqual(Response.objects.count(), BATCH)
        waiting = PendingSubmission.objects.count()
        self.assertEqual(waiting, 3 * BATCH - 1)
        self.assertEqual(counters.value(waiting_key(self.point.pk)), waiting)
        self.submit(201)  # still due: the next batch
        self.assertEqual(Response.objects.count(), 2 * BATCH)

    def test_a_round_closed_meanwhile_is_seen_by_the_recheck(self):
        stale = point_of(self.campaign, self.window_a)
        Campaign.objects.filter(pk=self.campaign.pk).update(
            status=Campaign.Status.CLOSED
        )
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(0, point=stale)
        self.assertEqual(caught.exception.code, "closed")
        self.assertEqual(SubmissionNonce.objects.count(), 0)
        self.assertEqual(PendingSubmission.objects.count(), 0)


@skipUnless(connection.vendor == "postgresql", "PostgreSQL's row locks")
@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=BATCH)
class FlushLockTests(TransactionTestCase):
    """Another connection holds a lock; this one must not wait for it (a lock
    timeout turns a wait into a failure instead of a hang)."""

    def setUp(self) -> None:
        school = make_unit("LCK-S", Unit.Kind.SCHOOL, name="锁测试大学")
        window = make_unit("LCK-W", Unit.Kind.WINDOW, school, name="锁测试窗口")
        self.campaign = make_round(school, kinds={"window": "window"})
        self.point = point_of(self.campaign, window)
        self.other = connections.create_connection("default")
        self.addCleanup(self.other.close)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")

    def _fixture_teardown(self) -> None:
        empty_tables()

    def submit(self, index: int):
        return response_submit(
            point=self.point,
            answers=full_answers(self.point),
            nonce=f"lock-path-{index:010d}",
            client_address="10.7.8.9",
        )

    def hold(self, sql: str, pk: int) -> None:
        self.other.set_autocommit(False)
        with self.other.cursor() as cursor:
            cursor.execute(sql, [pk])
        self.addCleanup(self.other.rollback)

    def test_a_batch_is_written_while_its_round_row_is_locked(self):
        for i in range(2 * BATCH - 1):
            self.submit(i)
        table = Campaign._meta.db_table
        self.hold(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', self.campaign.pk)
        self.submit(2 * BATCH)
        self.assertEqual(Response.objects.count(), BATCH)

    def test_submissions_do_not_wait_for_a_batch_being_written(self):
        table = CollectionPoint._meta.db_table
        self.hold(
            f'SELECT 1 FROM "{table}" WHERE id = %s FOR NO KEY UPDATE', self.point.pk
        )
        for i in range(2 * BATCH):
            self.assertTrue(self.submit(i).stored)
        # The flush they asked for skipped the point held by the other "flush".
        self.assertEqual(PendingSubmission.objects.count(), 2 * BATCH)
        self.other.rollback()
        self.submit(2 * BATCH)
        self.assertEqual(Response.objects.count(), BATCH)
        self.assertEqual(PendingSubmission.objects.count(), BATCH + 1)

    def test_a_batch_flush_skips_a_point_another_flush_holds(self):
        for _ in range(2 * BATCH):
            PendingSubmission.objects.create(point=self.point, sealed=b"x")
        table = CollectionPoint._meta.db_table
        self.hold(
            f'SELECT 1 FROM "{table}" WHERE id = %s FOR NO KEY UPDATE', self.point.pk
        )
        self.assertEqual(pool_flush(point_id=self.point.pk), 0)

    def test_a_close_waits_for_a_submission_that_found_the_round_open(self):
        # The race: a submission has asked whether the round is open (yes) and not
        # yet committed when the round closes. The close's flush must wait for it,
        # or its submission would wait in the pool alone after the close.
        checked, go = threading.Event(), threading.Event()

        def pause_after_the_recheck(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if f'FROM "{Campaign._meta.db_table}"' in sql:  # the round's re-check
                checked.set()
                go.wait(timeout=10)
            return result

        outcomes: dict[str, object] = {}

        def submit() -> None:
            try:
                with connection.execute_wrapper(pause_after_the_recheck):
                    outcomes["submit"] = self.submit(1)
            except Exception as exc:
                outcomes["submit"] = exc
            finally:
                connections.close_all()

        def close() -> None:
            try:
                outcomes["close"] = campaign_close(campaign=self.campaign)
            except Exception as exc:
                outcomes["close"] = exc
            finally:
                connections.close_all()

        submitter = threading.Thread(target=submit)
        submitter.start()
        self.assertTrue(checked.wait(timeout=10))
        closer = threading.Thread(target=close)
        closer.start()
        closer.join(timeout=1)
        waited = closer.is_alive()
        go.set()
        submitter.join(timeout=10)
        closer.join(timeout=10)
        self.assertTrue(waited, "the close's flush did not wait for the submission")
        self.assertEqual(outcomes["submit"], SubmitOutcome(stored=True))
        self.assertIsInstance(outcomes["close"], Campaign)
        self.assertEqual(PendingSubmission.objects.count(), 0)
        self.assertEqual(Response.objects.filter(point=self.point).count(), 1)
