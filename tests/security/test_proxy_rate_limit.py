"""The submission flood limit behind a proxy, and what takes from its budget.

Behind nginx every request comes from the proxy's address: the client's address is
read from X-Forwarded-For, but only when the peer is a trusted proxy
(TRUSTED_PROXIES), and only the right-most hop that is not itself a trusted proxy,
so a client cannot pick a fresh budget by writing the header itself. Only valid
submissions count, so junk posts cannot lock a point for a whole campus.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import RequestFactory, SimpleTestCase, override_settings

from questionnaires.ratelimit import client_address
from questionnaires.services import (
    SubmissionRefused,
    ballots_issue,
    response_submit,
)
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import accepted, full_answers, make_round, point_of

ROOT = Path(__file__).resolve().parents[2]
CLEAN = {
    key: value
    for key, value in os.environ.items()
    if key
    not in {
        "SECRET_KEY",
        "DEBUG",
        "DATABASE_URL",
        "REDIS_URL",
        "BEHIND_PROXY",
        "TRUSTED_PROXIES",
        "SUBMIT_RATE_LIMIT",
        "CACHE_KEY_PREFIX",
    }
    and not key.startswith("DJANGO")
}
PROXY = "10.0.0.1"
BEHIND = {"BEHIND_PROXY": True, "TRUSTED_PROXIES": ["10.0.0.1/32"]}


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    """Python with Django set up from these environment variables, in a new process."""
    script = "import django; django.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **CLEAN,
            "DJANGO_SETTINGS_MODULE": "survey_service.settings",
            "SECRET_KEY": settings.SECRET_KEY,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def address(remote: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


# --- Which address is the client's ---------------------------------------------------


class ClientAddressTests(SimpleTestCase):
    def test_without_trusted_proxies_the_peer_is_the_client(self):
        self.assertEqual(address("203.0.113.5", "198.51.100.1"), "203.0.113.5")

    @override_settings(**BEHIND)
    def test_behind_a_trusted_proxy_the_hop_it_appended_is_the_client(self):
        self.assertEqual(address(PROXY, "203.0.113.5"), "203.0.113.5")

    @override_settings(**BEHIND)
    def test_hops_the_client_wrote_itself_are_ignored(self):
        # The client sent "X-Forwarded-For: 1.1.1.1"; nginx appended its address.
        self.assertEqual(address(PROXY, "1.1.1.1, 203.0.113.5"), "203.0.113.5")
        self.assertEqual(address(PROXY, "garbage, 203.0.113.5"), "203.0.113.5")

    @override_settings(**BEHIND)
    def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(self):
        self.assertEqual(address("198.51.100.9", "203.0.113.5"), "198.51.100.9")

    @override_settings(BEHIND_PROXY=True, TRUSTED_PROXIES=["10.0.0.0/24"])
    def test_through_a_chain_of_trusted_proxies_the_first_untrusted_hop_counts(self):
        # client → load balancer 10.0.0.2 → nginx 10.0.0.1 → us
        self.assertEqual(
            address("10.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.2"), "203.0.113.5"
        )

    @override_settings(**BEHIND)
    def test_ports_and_ipv6_forms_are_normalised(self):
        self.assertEqual(address(PROXY, "203.0.113.5:51234"), "203.0.113.5")
        self.assertEqual(address(PROXY, "[2001:db8::7]:443"), "2001:db8::7")
        self.assertEqual(address(PROXY, "2001:DB8::7"), "2001:db8::7")
        self.assertEqual(address(f"::ffff:{PROXY}", "203.0.113.5"), "203.0.113.5")

    @override_settings(**BEHIND)
    def test_a_hop_that_is_not_an_address_stops_the_walk_at_the_proxy(self):
        self.assertEqual(address(PROXY, "unknown"), PROXY)
        self.assertEqual(address(PROXY, "203.0.113.5, unknown"), PROXY)

    @override_settings(**BEHIND)
    def test_a_trusted_peer_without_the_header_is_itself_the_client(self):
        self.assertEqual(address(PROXY), PROXY)

    @override_settings(BEHIND_PROXY=True, TRUSTED_PROXIES=["unix"])
    def test_a_unix_socket_peer_can_be_trusted(self):
        self.assertEqual(address("", "203.0.113.5"), "203.0.113.5")
        self.assertEqual(address("127.0.0.1", "203.0.113.5"), "127.0.0.1")


# --- Start-up -----------------------------------------------------------------------

PRINT_ADDRESS = (
    "from django.test import RequestFactory\n"
    "from questionnaires.ratelimit import client_address\n"
    "r = RequestFactory().get('/', REMOTE_ADDR='{remote}', "
    "HTTP_X_FORWARDED_FOR='203.0.113.5')\n"
    "print(client_address(r))\n"
)


def test_with_behind_proxy_alone_the_proxy_on_this_machine_is_trusted():
    for remote in ("127.0.0.1", "::1"):
        result = run(PRINT_ADDRESS.format(remote=remote), BEHIND_PROXY="1")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "203.0.113.5"
    result = run(PRINT_ADDRESS.format(remote="10.0.0.1"), BEHIND_PROXY="1")
    assert result.stdout.strip() == "10.0.0.1"


def test_trusted_proxies_name_the_proxies_to_believe():
    code = PRINT_ADDRESS.format(remote="10.1.2.3")
    result = run(code, BEHIND_PROXY="1", TRUSTED_PROXIES="10.1.0.0/16, 192.0.2.1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "203.0.113.5"
    # Naming the proxies replaces the default: the local address is no longer one.
    code = PRINT_ADDRESS.format(remote="127.0.0.1")
    result = run(code, BEHIND_PROXY="1", TRUSTED_PROXIES="10.1.0.0/16")
    assert result.stdout.strip() == "127.0.0.1"


def test_without_behind_proxy_no_forwarded_header_is_believed():
    result = run(PRINT_ADDRESS.format(remote="127.0.0.1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "127.0.0.1"


@pytest.mark.parametrize(
    ("value", "behind"),
    [
        ("nginx", "1"),
        ("10.0.0.0/33", "1"),
        ("10.0.0.1, 300.1.1.1", "1"),
        ("0.0.0.0/0", "1"),  # would believe anyone's header
        ("::/0", "1"),
        ("10.0.0.1", "0"),  # a proxy named while BEHIND_PROXY is off
    ],
)
def test_bad_trusted_proxies_stop_start_up_naming_the_variable(value, behind):
    result = run("", BEHIND_PROXY=behind, TRUSTED_PROXIES=value)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last
    assert "TRUSTED_PROXIES" in last


# --- The flood budget over HTTP -----------------------------------------------------


class ProxyBudgetTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_round(cls.school)
        cls.point = point_of(cls.campaign, cls.window_a)

    def setUp(self) -> None:
        cache.clear()  # the flood limit lives in the cache
        self.client = self.api()
        self.nonces = (f"nonce-{i:016d}" for i in range(10_000))

    def post(self, *, valid: bool = True, remote: str = PROXY, forwarded=None):
        body = {
            "answers": full_answers(self.point) if valid else [{"question": "junk"}],
            "nonce": next(self.nonces),
        }
        extra = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            extra["HTTP_X_FORWARDED_FOR"] = forwarded
        return self.client.post(
            f"/api/v1/public/points/{self.point.token}/", body, format="json", **extra
        )

    @override_settings(SUBMIT_RATE_LIMIT=(30, 600), **BEHIND)
    def test_junk_from_one_client_does_not_lock_the_point_for_the_campus(self):
        for _ in range(30):
            self.assertEqual(
                self.post(valid=False, forwarded="203.0.113.5").status_code, 400
            )
        self.assertEqual(self.post(forwarded="198.51.100.7").status_code, 201)
        # Junk took nothing from its own sender's budget either.
        self.assertEqual(self.post(forwarded="203.0.113.5").status_code, 201)
        self.assertEqual(accepted(), 2)

    @override_settings(SUBMIT_RATE_LIMIT=(2, 600), **BEHIND)
    def test_clients_behind_the_proxy_have_budgets_of_their_own(self):
        for _ in range(2):
            self.assertEqual(self.post(forwarded="203.0.113.5").status_code, 201)
        self.assertEqual(self.post(forwarded="203.0.113.5").status_code, 429)
        self.assertEqual(self.post(forwarded="198.51.100.7").status_code, 201)
        self.assertEqual(accepted(), 3)

    @override_settings(SUBMIT_RATE_LIMIT=(2, 600), **BEHIND)
    def test_a_forged_header_gets_no_fresh_budget(self):
        for _ in range(2):
            self.assertEqual(self.post(forwarded="203.0.113.5").status_code, 201)
        # Written by the client, left of what the proxy appended.
        forged = self.post(forwarded="192.0.2.44, 203.0.113.5")
        self.assertEqual(forged.status_code, 429)
        # Sent straight to the app server, not through the proxy: the header is
        # ignored, so each forged value still spends the sender's one budget.
        for forged_client in ("192.0.2.1", "192.0.2.2"):
            response = self.post(remote="203.0.113.9", forwarded=forged_client)
            self.assertEqual(response.status_code, 201)
        response = self.post(remote="203.0.113.9", forwarded="192.0.2.3")
        self.assertEqual(response.status_code, 429)
        self.assertEqual(accepted(), 4)

    @override_settings(SUBMIT_RATE_LIMIT=(2, 600))
    def test_invalid_submissions_do_not_consume_the_budget(self):
        for _ in range(10):
            self.assertEqual(
                self.post(valid=False, remote="203.0.113.5").status_code, 400
            )
        for _ in range(2):
            self.assertEqual(self.post(remote="203.0.113.5").status_code, 201)
        # The limit itself still holds, for valid and invalid posts alike.
        self.assertEqual(self.post(remote="203.0.113.5").status_code, 429)
        self.assertEqual(self.post(valid=False, remote="203.0.113.5").status_code, 429)
        self.assertEqual(accepted(), 2)


class RefusedSubmissionBudgetTests(PersonaTestCase):
    """Refusals after the answers were checked give back what they took."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.open_point = point_of(make_round(cls.school), cls.window_a)
        ballot_round = make_round(
            cls.school, mode="ballot", title="党员评议", kinds={"branch": "wugemofan"}
        )
        cls.ballot_point = point_of(ballot_round, cls.branch_a)

    def setUp(self) -> None:
        cache.clear()

    def submit(self, point, nonce, ballot=None):
        return response_submit(
            point=point,
            answers=full_answers(point),
            nonce=nonce,
            ballot=ballot,
            client_address="203.0.113.5",
        )

    @override_settings(SUBMIT_RATE_LIMIT=(2, 600))
    def test_a_double_tap_takes_nothing(self):
        self.assertTrue(self.submit(self.open_point, "tap-00000000000000001").stored)
        for _ in range(5):
            self.assertFalse(
                self.submit(self.open_point, "tap-00000000000000001").stored
            )
        self.assertTrue(self.submit(self.open_point, "tap-00000000000000002").stored)
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(self.open_point, "tap-00000000000000003")
        self.assertEqual(caught.exception.code, "rate_limited")

    @override_settings(SUBMIT_RATE_LIMIT=(2, 600))
    def test_a_used_ballot_takes_nothing(self):
        first, second, third = ballots_issue(point=self.ballot_point, count=3)
        self.submit(self.ballot_point, "ballot-000000000000001", first)
        for i in range(5):
            with self.assertRaises(SubmissionRefused) as caught:
                self.submit(self.ballot_point, f"ballot-again-{i:09d}", first)
            self.assertEqual(caught.exception.code, "ballot_used")
        self.assertTrue(
            self.submit(self.ballot_point, "ballot-000000000000002", second).stored
        )
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(self.ballot_point, "ballot-000000000000003", third)
        self.assertEqual(caught.exception.code, "rate_limited")


# --- With several processes: the budget is shared only through Redis ---------------

REDIS = "redis://127.0.0.1:6379/15"


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(
    not redis_up() and os.environ.get("CI") != "true",
    reason="Redis at 127.0.0.1:6379 is not running",
)
class SharedCacheTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.point = point_of(make_round(cls.school), cls.window_a)

    def test_submissions_counted_by_another_process_count_here(self):
        prefix = f"test-{uuid.uuid4().hex}"
        # Another worker takes the whole budget of 203.0.113.5 at this point.
        other = run(
            "from questionnaires.ratelimit import take_submission\n"
            f"print([take_submission({self.point.pk}, '203.0.113.5') for _ in range(3)])\n",
            REDIS_URL=REDIS,
            CACHE_KEY_PREFIX=prefix,
            SUBMIT_RATE_LIMIT="2/10m",
        )
        assert other.returncode == 0, other.stderr
        self.assertEqual(other.stdout.strip(), "[True, True, False]")
        caches = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS,
                "KEY_PREFIX": prefix,
            }
        }
        with override_settings(CACHES=caches, SUBMIT_RATE_LIMIT=(2, 600)):
            try:
                with self.assertRaises(SubmissionRefused) as caught:
                    response_submit(
                        point=self.point,
                        answers=full_answers(self.point),
                        nonce="shared-cache-000000001",
                        client_address="203.0.113.5",
                    )
                self.assertEqual(caught.exception.code, "rate_limited")
                response_submit(
                    point=self.point,
                    answers=full_answers(self.point),
                    nonce="shared-cache-000000002",
                    client_address="198.51.100.7",
                )
                self.assertEqual(accepted(), 1)
            finally:
                import redis

                server = redis.Redis.from_url(REDIS)
                for key in server.scan_iter(f"{prefix}:*"):
                    server.delete(key)
