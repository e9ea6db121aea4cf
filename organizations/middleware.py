"""An account that logged in with a one-time password changes it before anything else."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .people import must_change_password


class ForcePasswordChangeMiddleware:
    """Sends an account flagged must-change to the password page, from every page
    but that one, logout, static files and the language switch; the API answers
    403 with the reason. Goes after AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._exempt(request.path_info):
            return self.get_response(request)
        api = request.path_info.startswith("/api/")
        user = request.user if request.user.is_authenticated else None
        if user is None and api:
            user = _token_user(request)
        if user is None or not must_change_password(user):
            return self.get_response(request)
        if api:
            message = _("请先在网页上登录并修改临时密码，然后再使用接口。")
            return JsonResponse({"detail": message, "errors": {}}, status=403)
        target = reverse("manage-account")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)

    @staticmethod
    def _exempt(path: str) -> bool:
        static = "/" + settings.STATIC_URL.lstrip("/")
        return path.startswith(static) or path in _exempt_paths()


@functools.cache
def _exempt_paths() -> frozenset[str]:
    """Reversed once per process: every request, a respondent's too, asks."""
    return frozenset(
        (reverse("manage-account"), reverse("logout"), reverse("set_language"))
    )


def _token_user(request: HttpRequest):
    """The user of an API token (DRF authenticates only later, in the view)."""
    try:
        found = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None  # the view answers 401 itself
    return found[0] if found else None
