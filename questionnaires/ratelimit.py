"""The flood limit on submissions, kept in the cache only.

The key is a keyed hash of the client address (the key changes daily), so neither
the cache nor the database ever holds an address; entries expire with the window.
Campus networks put thousands of people behind few addresses: the limit only
stops floods. One person, one vote is what ballot mode is for.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac


def client_address(request: HttpRequest) -> str:
    """The client's address: behind our own proxy, the last hop it appended."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")


def _key(point_id: int, address: str) -> str:
    day = timezone.localdate().isoformat()
    digest = salted_hmac("submit-rate-limit:" + day, address).hexdigest()[:32]
    return f"submit-rate:{point_id}:{digest}"


def allow_submission(point_id: int, address: str) -> bool:
    """Count one submission attempt; False once the address is over the limit."""
    limit = settings.SUBMIT_RATE_LIMIT
    if limit is None:
        return True
    count, seconds = limit
    key = _key(point_id, address)
    cache.add(key, 0, timeout=seconds)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds)
        used = 1
    return used <= count
