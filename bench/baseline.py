"""The baselines of the HTTP suite: the least the service's job needs, in Django.

Served by the same gunicorn, settings and middleware as the service
(bench/settings.py), so a ratio compares the service's own work with the least the
same job costs on this stack:

- :func:`page` returns the bytes of the respondent page, captured once from the
  service by the suite (``BENCH_PAGE_FILE``): what serving the page costs when
  nothing is rendered or looked up.
- :func:`insert` parses the public API's JSON body and writes one Response and its
  Answer rows with ``bulk_create`` in one transaction: what storing a submission
  costs when nothing is validated, sealed, pooled or rate-limited.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from questionnaires.models import Answer, CollectionPoint, Question, Response

_page: tuple[bytes, str] | None = None


def _captured_page() -> tuple[bytes, str]:
    """The captured body and its content type, read once per worker process."""
    global _page
    if _page is None:
        path = Path(os.environ["BENCH_PAGE_FILE"])
        content_type = Path(f"{path}.type").read_text().strip()
        _page = (path.read_bytes(), content_type)
    return _page


@require_GET
def page(request: HttpRequest, token: str) -> HttpResponse:
    body, content_type = _captured_page()
    return HttpResponse(body, content_type=content_type)


@csrf_exempt
@require_POST
def insert(request: HttpRequest, token: str) -> HttpResponse:
    body = json.loads(request.body)
    point = CollectionPoint.objects.only("pk", "questionnaire_id").get(token=token)
    chosen = {item["question"]: item["level"] for item in body["answers"]}
    # The level ids of the chosen codes, for the questions of the point's version.
    levels = {
        question: level
        for question, code, level in Question.objects.filter(
            questionnaire_id=point.questionnaire_id, pk__in=list(chosen)
        ).values_list("pk", "scale__levels__code", "scale__levels__pk")
        if chosen[question] == code
    }
    today = timezone.localdate()
    with transaction.atomic():
        response = Response.objects.create(
            point_id=point.pk,
            questionnaire_id=point.questionnaire_id,
            submitted_on=today,
        )
        Answer.objects.bulk_create(
            Answer(
                response=response,
                point_id=point.pk,
                question_id=question,
                level_id=level,
            )
            for question, level in levels.items()
        )
    return JsonResponse({"stored": True}, status=201)
