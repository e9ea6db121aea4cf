"""The respondent pages: server-rendered, mobile first, no login, no JavaScript needed.

``/s/<token>/`` answers a collection point; ``/b/`` answers with a ballot slip;
``/s/<token>/done/`` thanks. Every refusal has its own page and stores nothing.

A ballot code travels only in bodies, never in a path: a slip's QR code opens
``/b/#<code>``, whose fragment no browser sends; the page's script (static/js/
respond.js) posts it, or the respondent types it. Slips printed before still open
``/b/<code>/``, which answers as ``/b/`` does and posts to ``/b/``; the logs
redact its path (survey_service/log_redaction.py).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from organizations.models import Unit

from . import ballots, page_cache
from .forms_spec import NONCE_PATTERN, FormSpec, form_spec
from .glossary import notes_for
from .models import Campaign, CollectionPoint, Question, Questionnaire
from .page_cache import PointFacts
from .point_lookup import point_by_token
from .ratelimit import client_address
from .services import (
    SubmissionInvalid,
    SubmissionRefused,
    ballot_is_used,
    ballot_point,
    point_state,
    response_submit,
)

MAX_BODY_BYTES = 64 * 1024
_COOKIE_SALT = "answered-point"
FORM_TEMPLATE = "questionnaires/respond/form.html"
# What a POST that opens a ballot's form carries (the code, alone): such a form
# is as blank as a GET's, so it comes from the page cache too.
_BLANK_POST_FIELDS = {"csrfmiddlewaretoken", "ballot"}

# Which page and status each refusal gets.
REFUSAL_PAGES = {
    "not_open": ("questionnaires/respond/not_open.html", 403),
    "closed": ("questionnaires/respond/closed.html", 410),
    "rate_limited": ("questionnaires/respond/rate_limited.html", 429),
    "ballot_unknown": ("questionnaires/respond/ballot_unknown.html", 404),
    "ballot_used": ("questionnaires/respond/ballot_used.html", 410),
}
# A code typed into the point's form: shown next to the field, answers kept.
TYPED_BALLOT_REFUSALS = ("ballot_required", "ballot_unknown")


def body_too_large(request: HttpRequest) -> bool:
    """Judged on the declared length, so nothing reads an oversized body."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:  # Django reads a malformed length as no body at all
        return False


def _limit_body(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a body over 64 KB before the CSRF check parses it.

    The middleware's check would read and parse the whole form first (file parts
    too, to disk), so the view is exempt from it and checks CSRF itself afterwards.
    """

    @functools.wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" and body_too_large(request):
            return render(request, "questionnaires/respond/too_large.html", status=413)
        return view(request, *args, **kwargs)

    return csrf_exempt(limited)


def _point(token: str) -> CollectionPoint | None:
    # With its round, unit and version in one plain query (point_lookup); the
    # organiser's name is read only when a page shows it.
    return point_by_token(token)


def _cookie_name(point: CollectionPoint | PointFacts) -> str:
    return f"answered_{point.pk}"


def _already_answered(
    request: HttpRequest, point: CollectionPoint | PointFacts
) -> bool:
    if point.campaign.access_mode != Campaign.AccessMode.OPEN:
        return False
    try:
        request.get_signed_cookie(_cookie_name(point), salt=_COOKIE_SALT)
    except (KeyError, signing.BadSignature):
        return False
    return True


def _board_url(point: CollectionPoint | None) -> str:
    """The public rectification board of the organiser's latest published round
    (this one once published, else the one before), where respondents see what
    was done; empty when none is published yet."""
    if point is None:
        return ""
    latest = (
        Campaign.objects.filter(
            organizer_id=point.campaign.organizer_id,
            status=Campaign.Status.PUBLISHED,
        )
        .order_by("-published_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is None:
        return ""
    try:
        # The rectification app publishes the board; reversing by name keeps this
        # app free of imports from it.
        return reverse("public-board", args=[latest])
    except NoReverseMatch:
        return ""


def _refusal(
    request: HttpRequest, code: str, point: CollectionPoint | None
) -> HttpResponse:
    template, status = REFUSAL_PAGES[code]
    context = {"point": point, "board_url": _board_url(point)}
    return render(request, template, context, status=status)


def _answers_from_form(spec: FormSpec, data) -> list[dict[str, Any]]:
    """The form's fields in the API's answer shape, so one validator serves both."""

    def number(value: str) -> int | str:
        # Plain digits only: int() refuses "²" and strings of thousands of digits.
        if value.isascii() and value.isdigit() and len(value) <= 18:
            return int(value)
        return value

    answers = []
    for question in spec.questions:
        name = f"q{question.id}"
        if question.kind == Question.Kind.SCALE:
            value = data.get(name, "")
            if value:
                answers.append({"question": question.id, "level": value})
        elif question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            values = [number(v) for v in data.getlist(name) if v]
            if values:
                answers.append({"question": question.id, "options": values})
        else:
            # Browsers count a line break once against maxlength but send CR LF.
            value = data.get(name, "").replace("\r\n", "\n")
            if value.strip():
                answers.append({"question": question.id, "text": value})
    return answers


def _commitments(unit: Unit, campaign: Campaign) -> list[str]:
    return list(
        unit.commitments.filter(campaign=campaign).values_list("text", flat=True)
    )


def _form_context(
    request: HttpRequest,
    *,
    questionnaire: Questionnaire,
    unit: Unit | None,
    campaign: Campaign | None,
    errors: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    """What form.html needs to show ``questionnaire`` to a respondent of ``unit``
    in ``campaign`` (either may be None in a preview), with the posted answers."""
    spec = form_spec(questionnaire)
    data = request.POST if request.method == "POST" else None
    questions = []
    # Consecutive questions of one dimension form a section under its heading.
    sections: list[dict[str, Any]] = []
    for number, question in enumerate(spec.questions, start=1):
        name = f"q{question.id}"
        chosen = set(data.getlist(name)) if data is not None else set()
        item = {
            "spec": question,
            "name": name,
            "number": number,
            "chosen": chosen,
            "text": data.get(name, "") if data is not None else "",
            "errors": (errors or {}).get(question.id, []),
            "notes": notes_for(question.text),
        }
        questions.append(item)
        if not sections or sections[-1]["title"] != question.dimension:
            sections.append({"title": question.dimension, "questions": []})
        sections[-1]["questions"].append(item)
    commitments = (
        _commitments(unit, campaign)
        if unit is not None and campaign is not None
        else []
    )
    return {
        "unit": unit,
        "spec": spec,
        "questions": questions,
        "sections": sections,
        "campaign": campaign,
        "purpose": (campaign.description if campaign else "") or spec.description,
        "commitments": commitments,
        "ballot_mode": campaign is not None
        and campaign.access_mode == Campaign.AccessMode.BALLOT,
        "text_max": Question.TEXT_MAX_LENGTH,
        "preview": False,
    }


def render_preview(
    request: HttpRequest,
    questionnaire: Questionnaire,
    unit: Unit | None,
    campaign: Campaign | None,
    *,
    back_url: str = "",
) -> HttpResponse:
    """The respondent page of ``questionnaire`` as ``unit``'s respondents would see
    it in ``campaign`` (with its commitments), marked 预览; its form posts nowhere
    and its button is disabled, so nothing is ever stored. ``unit`` and
    ``campaign`` may be None (a questionnaire previewed outside any round);
    ``back_url``, when given, is linked from the preview's banner."""
    context = _form_context(
        request, questionnaire=questionnaire, unit=unit, campaign=campaign
    )
    context["preview"] = True
    context["back_url"] = back_url
    return render(request, FORM_TEMPLATE, context)


def _render_form(
    request: HttpRequest,
    point: CollectionPoint,
    *,
    ballot: str | None,
    errors: dict[int, list[str]] | None = None,
    general_errors: list[str] | None = None,
    ballot_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _form_context(
        request,
        questionnaire=point.questionnaire,
        unit=point.unit,
        campaign=point.campaign,
        errors=errors,
    )
    data = request.POST if request.method == "POST" else None
    # Resending the same nonce is right (nothing was stored under it) unless the
    # posted one is malformed: then the form could never be sent.
    nonce = data.get("nonce", "") if data is not None else ""
    if not NONCE_PATTERN.fullmatch(nonce):
        nonce = secrets.token_urlsafe(18)
    context.update(
        {
            # A ballot's answers go to /b/ with the code in the body, whatever the
            # address the form was opened at.
            "action": reverse("respond-ballot") if ballot else request.path,
            "point": point,
            "ballot": ballot,
            "nonce": nonce,
            "general_errors": general_errors or [],
            "ballot_errors": ballot_errors or [],
        }
    )
    return render(request, FORM_TEMPLATE, context, status=status)


def _blank_form(
    request: HttpRequest,
    facts: PointFacts,
    *,
    point: CollectionPoint | None = None,
    ballot: str | None,
) -> HttpResponse:
    """The form as _render_form shows it before any answer, from the page cache
    (see page_cache): rendered once per content with slots where the CSRF token,
    the nonce, the form's address and the ballot code go, which are filled in
    here. ``point``: the ORM point behind ``facts`` if the caller has it."""
    page = page_cache.page_get(page_cache.page_key(request, facts, ballot=bool(ballot)))
    if page is None:
        point = point or _point(facts.token)
        if point is None:  # deleted since facts were read
            return render(
                request, "questionnaires/respond/unknown_point.html", status=404
            )
        context = _form_context(
            request,
            questionnaire=point.questionnaire,
            unit=point.unit,
            campaign=point.campaign,
        )
        context.update(
            {
                "action": page_cache.slot("action"),
                "point": point,
                "ballot": page_cache.slot("ballot") if ballot else None,
                "nonce": page_cache.slot("nonce"),
                "general_errors": [],
                "ballot_errors": [],
                "csrf_token": page_cache.slot("csrf"),
            }
        )
        page = page_cache.page_render(FORM_TEMPLATE, context, request)
        # Keyed by what was rendered, which may be newer than ``facts``.
        rendered = PointFacts.of(point, context["commitments"])
        page_cache.page_put(
            page_cache.page_key(request, rendered, ballot=bool(ballot)), page
        )
    html = page.fill(
        csrf=get_token(request),
        nonce=secrets.token_urlsafe(18),
        action=reverse("respond-ballot") if ballot else request.path,
        ballot=ballot or "",
    )
    return HttpResponse(html)


def _is_blank(request: HttpRequest) -> bool:
    """Whether the form opens with nothing posted into it."""
    return request.method != "POST" or set(request.POST) <= _BLANK_POST_FIELDS


def _answer(
    request: HttpRequest,
    point: CollectionPoint,
    *,
    ballot: str | None,
    submitting: bool,
) -> HttpResponse:
    """The point's form, or with ``submitting`` the answers posted to it."""
    state = point_state(point)
    if state != "open":
        return _refusal(request, state, point)
    if _already_answered(request, point):
        return render(
            request, "questionnaires/respond/already_answered.html", {"point": point}
        )
    if not submitting:
        if point.questionnaire.is_published and _is_blank(request):
            facts = PointFacts.of(point, _commitments(point.unit, point.campaign))
            return _blank_form(request, facts, point=point, ballot=ballot)
        return _render_form(request, point, ballot=ballot)
    spec = form_spec(point.questionnaire)
    submitted_ballot = ballot or request.POST.get("ballot", "")
    try:
        response_submit(
            point=point,
            answers=_answers_from_form(spec, request.POST),
            nonce=request.POST.get("nonce"),
            ballot=submitted_ballot,
            client_address=client_address(request),
        )
    except SubmissionInvalid as invalid:
        general = [
            message
            for path, messages in invalid.errors.by_path.items()
            if not path.startswith(("answers.", "questions."))
            for message in messages
        ]
        return _render_form(
            request,
            point,
            ballot=ballot,
            errors=invalid.errors.by_question,
            general_errors=general or [_("请检查标出的题目。")],
            status=400,
        )
    except SubmissionRefused as refused:
        if ballot is None and refused.code in TYPED_BALLOT_REFUSALS:
            return _render_form(
                request,
                point,
                ballot=None,
                ballot_errors=[refused.message],
                status=400,
            )
        return _refusal(request, refused.code, point)
    done = redirect("respond-done", token=point.token)
    if point.campaign.access_mode == Campaign.AccessMode.OPEN:
        lifetime = max(
            int((point.campaign.closes_at - point.campaign.opens_at).total_seconds()),
            60,
        )
        done.set_signed_cookie(
            _cookie_name(point),
            "1",
            salt=_COOKIE_SALT,
            max_age=lifetime,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return done


@_limit_body
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def point_form(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        # The common case in one query: an open round's published form, not yet
        # answered from this browser. Anything else takes the full path below.
        facts = page_cache.point_facts(token)
        if (
            facts is not None
            and facts.published_at is not None
            and point_state(facts) == "open"
            and not _already_answered(request, facts)
        ):
            return _blank_form(request, facts, ballot=None)
    point = _point(token)
    if point is None:
        return render(request, "questionnaires/respond/unknown_point.html", status=404)
    return _answer(request, point, ballot=None, submitting=request.method == "POST")


def _ballot(request: HttpRequest, raw_code: str, *, submitting: bool) -> HttpResponse:
    """The questionnaire of a ballot's point, or with ``submitting`` its answers."""
    point = ballot_point(raw_code)
    code = ballots.normalise(raw_code)
    if point is None or code is None:
        return _refusal(request, "ballot_unknown", None)
    # On a submission the service decides, checking the nonce first: a double tap
    # of a just-used ballot then lands on the thanks page, not on "already used".
    if not submitting and ballot_is_used(code):
        return _refusal(request, "ballot_used", point)
    return _answer(request, point, ballot=code, submitting=submitting)


@_limit_body
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def ballot_form(request: HttpRequest) -> HttpResponse:
    """``/b/``: the ballot entry page, and where every ballot is posted.

    GET: a field for the code printed on the slip, which the page's script fills
    from the address's fragment and sends. A POST of the code alone shows its
    point's questionnaire, carrying the code on as a hidden field; a POST with the
    questionnaire's nonce is the answer.
    """
    if request.method != "POST":
        return render(request, "questionnaires/respond/ballot_entry.html")
    return _ballot(
        request, request.POST.get("ballot", ""), submitting="nonce" in request.POST
    )


@_limit_body
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def ballot_slip(request: HttpRequest, code: str) -> HttpResponse:
    """``/b/<code>/``: what slips printed with the code in the path still open.

    It answers as ``/b/`` does with that code, and its form posts to ``/b/``. The
    page declares the referrer policy strict-origin (base.html), so neither its
    stylesheet nor its form carries the address as the referrer, and its script
    replaces the address in the bar and the history with ``/b/``. A POST here
    (a form opened before the change) still counts.
    """
    response = _ballot(request, code, submitting=request.method == "POST")
    response.headers["Referrer-Policy"] = "strict-origin"
    return response


@require_safe
def done(request: HttpRequest, token: str) -> HttpResponse:
    point = _point(token)
    if point is None:
        return render(request, "questionnaires/respond/unknown_point.html", status=404)
    context = {"point": point, "board_url": _board_url(point)}
    return render(request, "questionnaires/respond/done.html", context)
