from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import drf_spectacular
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from drf_spectacular.settings import spectacular_settings

from .api import api_not_found


def _api_docs_csp() -> dict[str, list[str]]:
    """What the Swagger UI page (/api/docs/) adds to the Content-Security-Policy.

    Its scripts, stylesheet and icon are our static files (drf-spectacular-sidecar;
    a CDN's origin is added only if SPECTACULAR_SETTINGS["SWAGGER_UI_DIST"] names
    one); its own start-up script is a file of ours (the split view serves it at
    ?script); its one inline <style> block is allowed by its hash, read from
    drf-spectacular's template itself."""
    parts = urlsplit(spectacular_settings.SWAGGER_UI_DIST)
    cdn = [f"{parts.scheme}://{parts.netloc}"] if parts.netloc else []
    template = (
        Path(drf_spectacular.__file__).parent
        / "templates/drf_spectacular/swagger_ui.html"
    )
    blocks = re.findall(
        r"<style>(.*?)</style>", template.read_text(encoding="utf-8"), re.S
    )
    digests = [hashlib.sha256(block.encode()).digest() for block in blocks]
    hashes = [f"'sha256-{base64.b64encode(d).decode()}'" for d in digests]
    return {"script-src": cdn, "style-src": [*cdn, *hashes], "img-src": cdn}


API_DOCS_CSP = _api_docs_csp()


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post: nothing was stored, and the page says what to do.

    Django logs ``reason`` (to ``django.security.csrf``); the person sees plain
    words. Respondents (``/s/``, ``/b/``) get their own mobile page."""
    if request.path.startswith(("/s/", "/b/")):
        template = "questionnaires/respond/csrf_failed.html"
    else:
        template = "csrf_failed.html"
    return render(request, template, {"retry_url": request.path}, status=403)
