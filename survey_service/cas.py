"""Campus single sign-on (统一身份认证) through the school's CAS, with django-cas-ng.

Used only when CAS_SERVER_URL is set (settings.py, "Campus single sign-on"): the
login page then links to ``cas-login``, which sends the browser to CAS and, back
with a ticket, has CAS vouch for a username. Only an active account of that
username that already exists here logs in; anyone else gets a page that says why,
and no account is created.

Logout: the header's form posts to the local logout as always; in a session that
began at CAS it carries ``next`` = ``cas-logout``, which then sends the browser,
already logged out here, to the CAS logout, so the CAS session ends too.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    get_user_model,
    update_session_auth_hash,
)
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django_cas_ng import views as cas_views
from django_cas_ng.backends import CASBackend

from organizations.people import one_time_password_retire

logger = logging.getLogger(__name__)

BACKEND = "survey_service.cas.ExistingAccountBackend"
# Set in a session that began at CAS: its logout also ends the CAS session.
SESSION_FLAG = "cas_sso"


class ExistingAccountBackend(CASBackend):
    """django-cas-ng's backend; with CAS_CREATE_USER off it finds the account by
    username and refuses an inactive one. It also notes on the request the
    username CAS vouched for, so that a refusal can say why."""

    def authenticate(
        self, request: HttpRequest | None, ticket: str, service: str
    ) -> Any:
        self._request = request
        return super().authenticate(request, ticket=ticket, service=service)

    def clean_username(self, username: str) -> str:
        # Called once the ticket checked out, with the username CAS gave.
        username = super().clean_username(username)
        if self._request is not None:
            self._request.cas_username = username
        return username


def is_ticket_login(request: HttpRequest, credentials: dict[str, Any]) -> bool:
    """AXES_WHITELIST_CALLABLE: a CAS ticket is not a password guess."""
    return bool(credentials) and "ticket" in credentials


class LoginView(cas_views.LoginView):
    """django-cas-ng's login, with a local ``next`` only and our own refusal page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        # django-cas-ng 5.1 follows ?next= after the login without checking it.
        next_url = request.GET.get("next")
        if next_url and not url_has_allowed_host_and_scheme(
            next_url,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        ):
            return redirect("cas-login")
        try:
            return super().get(request)
        except PermissionDenied:
            return refused(request)
        except requests.RequestException:
            logger.warning("CAS ticket check failed: the CAS server did not answer")
            return render(
                request,
                "registration/cas_refused.html",
                {"reason": "unavailable"},
                status=502,
            )

    def successful_login(self, request: HttpRequest, next_page: str) -> HttpResponse:
        if request.session.get(BACKEND_SESSION_KEY) == BACKEND:
            request.session[SESSION_FLAG] = True
            if one_time_password_retire(user=request.user):
                # The password hash changed: keep this session valid.
                update_session_auth_hash(request, request.user)
        return super().successful_login(request, next_page)


def refused(request: HttpRequest) -> HttpResponse:
    username = getattr(request, "cas_username", None)
    if username is None:
        reason = "ticket"  # CAS did not confirm the ticket (used, expired, forged)
    elif (
        get_user_model()
        ._default_manager.filter(username=username, is_active=False)
        .exists()
    ):
        reason = "inactive"
    else:
        reason = "no_account"
    logger.info("CAS login refused: %s", reason)
    return render(
        request, "registration/cas_refused.html", {"reason": reason}, status=403
    )


class LogoutView(cas_views.LogoutView):
    """Sends a browser that has logged out here to the CAS logout. A browser still
    logged in is sent to the workbench instead: logging out takes the header's
    POST form, so that no link from elsewhere can log anyone out."""

    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect("manage-home")
        return super().get(request)


urlpatterns = [
    path("accounts/cas/login/", LoginView.as_view(), name="cas-login"),
    path("accounts/cas/logout/", LogoutView.as_view(), name="cas-logout"),
]
