"""The flood limit on submissions, kept in the cache only, and the client's address.

The key is a keyed hash of the client address (the key changes daily), so neither
the cache nor the database ever holds an address; entries expire with the window.
Campus networks put thousands of people behind few addresses: the limit only
stops floods. One person, one vote is what ballot mode is for.

Only valid submissions take from the budget (:func:`take_submission` after the
answers were checked, :func:`release_submission` when nothing was stored), so a
stream of junk posts cannot lock a point for everyone behind the same address;
junk stores nothing and costs only the CPU of checking it.

With several workers or servers the counts are shared only through a shared
cache (``REDIS_URL``); a per-process memory cache counts per worker.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import counters

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# In TRUSTED_PROXIES: a peer on a Unix socket, which has no address (REMOTE_ADDR "").
UNIX_SOCKET = "unix"


def parse_address(raw: str) -> Address | None:
    """An address as a proxy writes it (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``,
    ``::ffff:1.2.3.4``), or None when it is not one."""
    value = raw.strip()
    if value.startswith("["):  # [IPv6]:port
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # IPv4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[tuple[Network, ...], bool]:
    networks = tuple(
        ipaddress.ip_network(entry, strict=False)
        for entry in entries
        if entry != UNIX_SOCKET
    )
    return networks, UNIX_SOCKET in entries


def client_address(request: HttpRequest) -> str:
    """The client's address.

    ``X-Forwarded-For`` is read only when the peer (``REMOTE_ADDR``) is one of
    ``TRUSTED_PROXIES``; then the answer is the right-most hop that is not itself a
    trusted proxy. Hops to its left were written by the client and prove nothing,
    so sending the header yourself never gets a fresh budget. Without trusted
    proxies the peer is the client.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    networks, unix = _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not networks and not unix:
        return remote

    def trusted(address: Address | None) -> bool:
        return address is not None and any(address in net for net in networks)

    peer = parse_address(remote)
    if not (trusted(peer) or (unix and remote == "")):
        return str(peer) if peer is not None else remote
    nearest = str(peer) if peer is not None else remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([hop for hop in forwarded.split(",") if hop.strip()]):
        address = parse_address(hop)
        if address is None:
            # Not an address our proxy wrote: what lies to its left is the
            # client's word. Count the request against the nearest proxy.
            break
        if not trusted(address):
            return str(address)
        nearest = str(address)
    return nearest


def _key(point_id: int, address: str) -> str:
    day = timezone.localdate().isoformat()
    digest = salted_hmac("submit-rate-limit:" + day, address).hexdigest()[:32]
    return f"submit-rate:{point_id}:{digest}"


def allow_submission(point_id: int, address: str) -> bool:
    """Whether the address has budget left at the point; counts nothing."""
    limit = settings.SUBMIT_RATE_LIMIT
    if limit is None:
        return True
    count, _seconds = limit
    return counters.value(_key(point_id, address)) < count


def take_submission(point_id: int, address: str) -> bool:
    """Count one valid submission; False (and nothing counted) once over the limit.

    One atomic step in the cache (questionnaires.counters), so concurrent
    submissions from one address cannot all slip under the limit.
    """
    limit = settings.SUBMIT_RATE_LIMIT
    if limit is None:
        return True
    count, seconds = limit
    return counters.take(_key(point_id, address), limit=count, timeout=seconds)


def release_submission(point_id: int, address: str) -> None:
    """Give back what :func:`take_submission` took when nothing was stored."""
    if settings.SUBMIT_RATE_LIMIT is None:
        return
    counters.give_back(_key(point_id, address))
