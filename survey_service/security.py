"""Who the client is, for the API throttles and the login lockout.

Both use :func:`questionnaires.ratelimit.client_address`, the one place that
decides when ``X-Forwarded-For`` is believed (``TRUSTED_PROXIES``), so the
submission flood limit, the API throttles and the login lockout always agree on
an address, and a client cannot pick a fresh one by sending the header itself.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from questionnaires.ratelimit import client_address, parse_address


def login_client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address, or None when it has none
    (a Unix-socket peer without X-Forwarded-For), as axes stores it."""
    address = parse_address(client_address(request))
    return str(address) if address is not None else None


class _ClientThrottle:
    """DRF's throttles, keyed like our own limits and read from the current settings.

    DRF's own ``get_ident`` believes any X-Forwarded-For and puts the raw address
    in the cache key; here the key is a keyed hash of ``client_address``. The rates
    are read on each request (DRF copies them once at import), so a changed
    setting takes effect.
    """

    scope: str

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(
                f"No DEFAULT_THROTTLE_RATES entry for the {self.scope!r} scope"
            ) from None

    def get_ident(self, request) -> str:
        return salted_hmac("api-throttle", client_address(request)).hexdigest()[:32]


class AnonThrottle(_ClientThrottle, AnonRateThrottle):
    """Requests without a login, per client address (``API_THROTTLE_ANON``)."""


class UserThrottle(_ClientThrottle, UserRateThrottle):
    """Requests with a login, per user (``API_THROTTLE_USER``)."""
