"""The respondent's blank form, rendered once per content and filled in per request.

Opening ``/s/<token>/`` reads one row set (the point, its round, unit,
organiser, questionnaire version and the unit's commitments: one indexed query,
:func:`read_point_facts`, kept up to RESPONDENT_FACTS_SECONDS by
:func:`point_facts`) and decides from it whether the round is open at this
moment. Everything the page shows is either in that row set or immutable (a
published questionnaire version never changes), so the rendered page is cached
under a key made of that content itself (:func:`page_key`), plus the language,
the time zone, the address's name and a stamp of the templates, translations,
static manifest and the code that renders them (:func:`deploy_stamp`). A change
to the round, the unit, the point's questionnaire or the commitments therefore
gives a new key as soon as the facts are read again, with nothing else to
invalidate; a closed or not yet open round is refused before the cache is
looked at.

What differs per request is left as slots and filled in on the way out
(:meth:`Page.fill`): the CSRF token (masked anew each time), the nonce, the
form's address and a ballot code. A ballot code thus never enters the cache.

The cache is this process's own (a bounded LRU): a miss costs one render
(a few milliseconds) per worker and page, and keeping pages out of the shared
cache keeps the shared cache small and the page independent of Redis.
Drafts and previews are never cached (the views do not ask).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.translation import get_language

from organizations.models import Unit

from .models import Campaign, CollectionPoint, Commitment, Questionnaire

LOCAL_PAGES = 512  # ~10 KB each: at most ~5 MB per process
LOCAL_FACTS = 4096  # points whose facts a process keeps (point_facts)
SLOTS = ("csrf", "nonce", "action", "ballot")
# Letters and digits only, so that escaping leaves a slot's mark as it is; random
# per process, so no content can contain it by chance or on purpose.
_MARK = "slot" + secrets.token_hex(12)
_SLOT_PATTERN = re.compile(_MARK + "(" + "|".join(SLOTS) + ")")
APP_DIR = Path(__file__).resolve().parent
# The code whose output the page is, besides its templates and translations.
CODE_FILES = ("respond.py", "page_cache.py", "forms_spec.py", "glossary.py")


def slot(name: str) -> str:
    """What to put in a template's context where ``name`` is filled in later."""
    return _MARK + name


@dataclass(frozen=True)
class CampaignFacts:
    status: str
    opens_at: datetime
    closes_at: datetime
    access_mode: str
    title: str
    description: str
    organizer_name: str


@dataclass(frozen=True)
class PointFacts:
    """What the blank form of a point depends on, as read in one query. ``pk`` and
    ``campaign`` are named as on CollectionPoint, so point_state and the
    answered-cookie check read either."""

    pk: int
    token: str
    questionnaire_id: int
    published_at: datetime | None
    unit_name: str
    commitments: tuple[str, ...]
    campaign: CampaignFacts

    @classmethod
    def of(cls, point: CollectionPoint, commitments: list[str]) -> PointFacts:
        """The same facts from a point loaded with the ORM (with campaign, its
        organizer, unit and questionnaire) and the commitments shown with it."""
        campaign = point.campaign
        return cls(
            pk=point.pk,
            token=point.token,
            questionnaire_id=point.questionnaire_id,
            published_at=point.questionnaire.published_at,
            unit_name=point.unit.name,
            commitments=tuple(commitments),
            campaign=CampaignFacts(
                status=campaign.status,
                opens_at=campaign.opens_at,
                closes_at=campaign.closes_at,
                access_mode=campaign.access_mode,
                title=campaign.title,
                description=campaign.description,
                organizer_name=campaign.organizer.name,
            ),
        )


def _aware(value: datetime | str | None) -> datetime | None:
    """A datetime column as the ORM gives it (SQLite returns text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


@cache
def _facts_sql() -> str:
    q = connection.ops.quote_name

    def col(model: Any, field: str) -> str:
        return q(model._meta.get_field(field).column)

    point, campaign = q(CollectionPoint._meta.db_table), q(Campaign._meta.db_table)
    unit, version = q(Unit._meta.db_table), q(Questionnaire._meta.db_table)
    promise = q(Commitment._meta.db_table)
    P, C, U, V = CollectionPoint, Campaign, Unit, Questionnaire

    def lookup(model: Any, table: str, field: str, key: str) -> str:
        return (
            f"(SELECT x.{col(model, field)} FROM {table} x "
            f"WHERE x.{col(model, 'id')} = {key})"
        )

    # One row per commitment (or one with NULLs when there is none), in the order
    # Commitment.Meta gives within one round and unit. The names and the version
    # are scalar subqueries rather than joins: PostgreSQL then plans the query
    # in under half the time (0.16 against 0.38 ms, more than it takes to run).
    return (
        f"SELECT p.{col(P, 'id')}, p.{col(P, 'questionnaire')}, "
        f"{lookup(V, version, 'published_at', 'p.' + col(P, 'questionnaire'))}, "
        f"c.{col(C, 'status')}, c.{col(C, 'opens_at')}, c.{col(C, 'closes_at')}, "
        f"c.{col(C, 'access_mode')}, c.{col(C, 'title')}, "
        f"c.{col(C, 'description')}, "
        f"{lookup(U, unit, 'name', 'c.' + col(C, 'organizer'))}, "
        f"{lookup(U, unit, 'name', 'p.' + col(P, 'unit'))}, "
        f"m.{col(Commitment, 'text')} "
        f"FROM {point} p "
        f"JOIN {campaign} c ON c.{col(C, 'id')} = p.{col(P, 'campaign')} "
        f"LEFT JOIN {promise} m ON m.{col(Commitment, 'campaign')} = "
        f"p.{col(P, 'campaign')} AND m.{col(Commitment, 'unit')} = p.{col(P, 'unit')} "
        f"WHERE p.{col(P, 'token')} = %s "
        f"ORDER BY m.{col(Commitment, 'order')}, m.{col(Commitment, 'id')}"
    )


_facts: OrderedDict[str, tuple[float, PointFacts]] = OrderedDict()
_facts_lock = threading.Lock()


def point_facts(token: str) -> PointFacts | None:
    """The point of ``token`` with what its form shows, at most
    RESPONDENT_FACTS_SECONDS old.

    Under load a worker serves a point's page hundreds of times a second; reading
    the row once a second instead leaves the page without any database round
    trip. What this can delay, in another worker, is a change made outside the
    clock: a round closed early, a commitment edited, a unit renamed shows there
    up to that many seconds late (in this process at once: :func:`facts_saved`
    runs on every save). The opening and closing times themselves are compared
    with the clock on every request, and a submission always reads the round
    fresh and is refused once it has closed, so nothing is stored late.
    Unknown tokens are never kept.
    """
    seconds = settings.RESPONDENT_FACTS_SECONDS
    now = time.monotonic()
    with _facts_lock:
        kept = _facts.get(token)
    if kept is not None and kept[0] > now:
        return kept[1]
    facts = read_point_facts(token)
    if facts is not None and seconds > 0:
        with _facts_lock:
            _facts[token] = (now + seconds, facts)
            _facts.move_to_end(token)
            while len(_facts) > LOCAL_FACTS:
                _facts.popitem(last=False)
    return facts


def facts_clear() -> None:
    """Forget every point's facts in this process."""
    with _facts_lock:
        _facts.clear()


def facts_saved(*args: object, **kwargs: object) -> None:
    """A receiver of save signals: forget every point's facts at once, and again
    when the saving transaction commits, since another thread of this process
    may read and keep the old row before the commit."""
    facts_clear()
    transaction.on_commit(facts_clear)


def read_point_facts(token: str) -> PointFacts | None:
    """The point of ``token`` with what its form shows, read fresh (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), [token])
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    opens_at, closes_at = _aware(first[4]), _aware(first[5])
    assert opens_at is not None and closes_at is not None
    return PointFacts(
        pk=first[0],
        token=token,
        questionnaire_id=first[1],
        published_at=_aware(first[2]),
        unit_name=first[10],
        commitments=tuple(row[11] for row in rows if row[11] is not None),
        campaign=CampaignFacts(
            status=first[3],
            opens_at=opens_at,
            closes_at=closes_at,
            access_mode=first[6],
            title=first[7],
            description=first[8],
            organizer_name=first[9],
        ),
    )


def _stamp_files() -> list[Path]:
    """This project's templates and translations (Django's own come with its
    version in the stamp), the static manifest and CODE_FILES."""
    root = Path(settings.BASE_DIR).resolve()
    ours = [
        Path(config.path)
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(root)
        and "site-packages" not in Path(config.path).parts
    ]
    templates = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    locales = [Path(d) for d in settings.LOCALE_PATHS]
    files = [APP_DIR / name for name in CODE_FILES]
    for directory in [*templates, *(app / "templates" for app in ours)]:
        files += directory.rglob("*.html")
    for directory in [*locales, *(app / "locale" for app in ours)]:
        files += directory.rglob("*.mo")
    if settings.STATIC_ROOT:
        files.append(Path(settings.STATIC_ROOT) / "staticfiles.json")
    return sorted(set(files))


@cache
def deploy_stamp() -> str:
    """A digest of the templates, translations, static manifest and code the page
    is made of, taken once per process: a deploy that changes any of them gives
    every page a new key (should the cache ever outlive the process)."""
    digest = hashlib.sha256(django.get_version().encode())
    for path in _stamp_files():
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()[:16]


def page_key(request: HttpRequest, facts: PointFacts, *, ballot: bool) -> str:
    """Every input of the blank form but its slots."""
    campaign = facts.campaign
    published = facts.published_at.isoformat() if facts.published_at else ""
    material = (
        deploy_stamp(),
        get_language(),
        timezone.get_current_timezone_name(),
        request.resolver_match.url_name if request.resolver_match else "",
        ballot,
        facts.questionnaire_id,
        published,
        campaign.access_mode,
        campaign.title,
        campaign.description,
        campaign.closes_at.astimezone(UTC).isoformat(),
        campaign.organizer_name,
        facts.unit_name,
        facts.commitments,
    )
    return hashlib.sha256(repr(material).encode()).hexdigest()


@dataclass(frozen=True)
class Page:
    """A rendered page cut at its slots: text, slot name, text, …, text."""

    parts: tuple[str, ...]

    @classmethod
    def cut(cls, html: str) -> Page:
        return cls(tuple(_SLOT_PATTERN.split(html)))

    def fill(self, **values: str) -> str:
        parts = list(self.parts)
        for i in range(1, len(parts), 2):
            parts[i] = escape(values[parts[i]])
        return "".join(parts)


def page_render(template: str, context: dict[str, Any], request: HttpRequest) -> Page:
    return Page.cut(render_to_string(template, context, request))


_pages: OrderedDict[str, Page] = OrderedDict()
_lock = threading.Lock()


def page_get(key: str) -> Page | None:
    with _lock:
        page = _pages.get(key)
        if page is not None:
            _pages.move_to_end(key)
        return page


def page_put(key: str, page: Page) -> None:
    with _lock:
        _pages[key] = page
        _pages.move_to_end(key)
        while len(_pages) > LOCAL_PAGES:
            _pages.popitem(last=False)


def pages_clear() -> None:
    with _lock:
        _pages.clear()
