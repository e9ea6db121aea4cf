"""Counters in the cache that expire: the flood limit's, the bursts' and the
pools' (how many wait in a point's pool, questionnaires.pool).

Every submission counts in several of them, so each step is one round trip and
atomic. On Redis it is a small Lua script run on the client Django's cache holds
(``django.core.cache.backends.redis``; its own ``add`` and ``incr`` cost three
round trips and a new client object each). On any other cache (local memory in
development and tests) the same steps go through Django's cache API, as atomic as
that backend's ``incr``.

A counter's window starts at its first increment and it expires with it, never
later: a counter left without an expiry would outlive the daily key of the
address hash (questionnaires.ratelimit).
"""

from __future__ import annotations

import weakref
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

# KEYS[1] the counter; ARGV[1] the window in seconds. Returns the new count.
_INCR = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# KEYS the counters, ARGV their windows in seconds. Returns their new counts.
_INCR_MANY = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""
# ARGV[2] the limit: counts one unless that passes it. Returns 1 when counted.
_TAKE = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if count > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1
"""
# Gives one back if the counter still exists (a DECR would create it, forever).
_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return false
"""


class _Redis:
    """The cache's Redis client with the scripts registered on it."""

    def __init__(self, backend: RedisCache) -> None:
        # Django builds a client per operation; one per cache object is enough
        # (the client is thread-safe and shares the backend's connection pool).
        self.client = backend._cache.get_client(None, write=True)
        self.incr = self.client.register_script(_INCR)
        self.incr_many = self.client.register_script(_INCR_MANY)
        self.take = self.client.register_script(_TAKE)
        self.give_back = self.client.register_script(_GIVE_BACK)


_clients: weakref.WeakKeyDictionary[BaseCache, _Redis] = weakref.WeakKeyDictionary()


def _redis() -> tuple[BaseCache, _Redis | None]:
    # The current thread's cache object, which a settings change (tests)
    # replaces: the client is kept per object.
    backend: Any = caches[DEFAULT_CACHE_ALIAS]
    if not isinstance(backend, RedisCache):
        return backend, None
    redis = _clients.get(backend)
    if redis is None:
        redis = _clients[backend] = _Redis(backend)
    return backend, redis


def count(key: str, *, timeout: int) -> int:
    """Add one to the counter; its new value."""
    backend, redis = _redis()
    if redis is not None:
        return int(
            redis.incr(keys=[backend.make_and_validate_key(key)], args=[timeout])
        )
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, timeout=timeout)
        return 1


def count_many(timeouts: dict[str, int]) -> list[int]:
    """Add one to each counter (key: its window in seconds), in one round trip;
    their new values, in order."""
    backend, redis = _redis()
    if redis is not None:
        keys = [backend.make_and_validate_key(key) for key in timeouts]
        return [
            int(n) for n in redis.incr_many(keys=keys, args=list(timeouts.values()))
        ]
    return [count(key, timeout=timeout) for key, timeout in timeouts.items()]


def reset(key: str, value: int, *, timeout: int) -> None:
    """Set the counter to ``value``, its window starting anew."""
    backend, redis = _redis()
    if redis is not None:
        redis.client.set(backend.make_and_validate_key(key), value, ex=timeout)
        return
    backend.set(key, value, timeout=timeout)


def take(key: str, *, limit: int, timeout: int) -> bool:
    """Add one unless the counter would pass ``limit``; whether it was added."""
    backend, redis = _redis()
    if redis is not None:
        return bool(
            redis.take(keys=[backend.make_and_validate_key(key)], args=[timeout, limit])
        )
    if count(key, timeout=timeout) > limit:
        give_back(key)
        return False
    return True


def give_back(key: str) -> None:
    """Take one off what :func:`take` added; nothing once the counter expired."""
    backend, redis = _redis()
    if redis is not None:
        redis.give_back(keys=[backend.make_and_validate_key(key)])
        return
    try:
        backend.decr(key)
    except ValueError:  # the window has expired meanwhile: nothing to give back
        pass


def value(key: str) -> int:
    """The counter's value, 0 when it does not exist."""
    backend, redis = _redis()
    if redis is not None:
        raw = redis.client.get(backend.make_and_validate_key(key))
        return int(raw) if raw is not None else 0
    return backend.get(key) or 0
