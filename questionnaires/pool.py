"""The anonymity pool: accepted submissions wait sealed and are written in batches.

A submission is accepted by writing, in one transaction, its nonce, its ballot's
consumption and a :class:`~questionnaires.models.PendingSubmission` holding the
answers sealed (AES-GCM under a key derived from SECRET_KEY, padded to the widest
a valid submission of the questionnaire can encode to, so one length per
questionnaire: :func:`padded_length`). Those rows share a transaction id, but the
pending row says nothing to someone reading the database. The sealed format is
versioned (its plaintext's first byte); rows of the earlier format still unseal.

Responses and answers are written only here, in batches: when a point's pool holds
``2 × ANONYMITY_BATCH`` submissions, ``ANONYMITY_BATCH`` of them chosen at random are
unsealed, shuffled and inserted in one transaction, which also deletes them from
the pool. Every response of a batch shares that transaction id (``xmin``), sits in
random physical order (``ctid``, ``rowid``) and carries the day (and hour) of the
batch's latest submission. At least ``ANONYMITY_BATCH`` always stay behind, so the
round's close, which writes out every pool whole, also writes a batch of at least
that size, unless the point received fewer in all. When to try is told by a count
in the cache (:func:`waiting_key`), not by counting the rows on every submission;
the flush counts them under its lock.

Nothing accepted is lost: the pending row is committed before the respondent is
thanked, and a batch is deleted from the pool in the transaction that writes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from . import counters
from .forms_spec import CleanAnswer, FormSpec, QuestionSpec
from .models import Answer, CollectionPoint, PendingSubmission, Response
from .patterns import layouts

logger = logging.getLogger(__name__)

_shuffler = random.SystemRandom()
_NONCE_BYTES = 12
# The sealed format's version: the plaintext's first byte. Version 1 had none; its
# plaintext is the JSON object itself, so it begins with "{". Rows sealed by it
# still unseal (_decode).
_FORMAT = b"\x02"
# The most bytes a text answer's character takes in the sealed JSON, which is
# UTF-8: four for a code point beyond the BMP. JSON escapes a quote, a backslash,
# a tab or a line break in two; the characters it would escape in six (the other
# control characters, as \\u00XX) and the lone surrogates UTF-8 cannot encode,
# forms_spec refuses.
_TEXT_CHARACTER_BYTES = 4
# A scale level's id at its widest (a signed 64-bit integer, 20 characters): the
# levels of a scale are not frozen with a version, so the pad must not depend on
# which ids they have today.
_WIDEST_ID = -(2**63)


@dataclass(frozen=True)
class Submission:
    """One accepted submission, as sealed in the pool."""

    questionnaire_id: int
    day: date
    hour: int | None
    answers: tuple[CleanAnswer, ...]


# --- Sealing --------------------------------------------------------------------


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"questionnaires.pool\x00" + secret.encode()).digest()


def _keys() -> list[bytes]:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [_key(secret) for secret in secrets]


def _widest(question: QuestionSpec) -> CleanAnswer:
    """The answer to ``question`` with the longest encoding, its text aside."""
    from .models import Question

    if question.kind == Question.Kind.SCALE:
        return CleanAnswer(question.id, level_id=_WIDEST_ID)
    options = [option.id for option in question.options]
    if question.kind == Question.Kind.MULTIPLE:
        return CleanAnswer(question.id, option_ids=tuple(options))
    if question.kind == Question.Kind.SINGLE and options:
        return CleanAnswer(question.id, option_ids=(max(options, key=_digits),))
    return CleanAnswer(question.id)


def _digits(value: int) -> int:
    return len(str(value))


def padded_length(spec: FormSpec) -> int:
    """The one plaintext length of every submission of this questionnaire: the
    longest any valid submission of it can encode to.

    That is every question answered at its widest (the longest level id any
    scale could have, every option of a multiple choice, the longest option id
    of a single choice), no hour, and each text question's full
    ``TEXT_MAX_LENGTH`` characters at ``_TEXT_CHARACTER_BYTES`` each. It depends
    only on what a published version freezes (its questions, their kinds and
    options), so every sealed row of a point has this one length.
    """
    from .models import Question

    widest = Submission(
        questionnaire_id=spec.questionnaire_id,
        day=date(2000, 1, 1),  # every date of years 1000–9999: ten characters
        hour=None,  # "null" is longer than any hour
        answers=tuple(_widest(question) for question in spec.questions),
    )
    texts = sum(question.kind == Question.Kind.TEXT for question in spec.questions)
    text_bytes = _TEXT_CHARACTER_BYTES * Question.TEXT_MAX_LENGTH * texts
    return len(_encode(widest)) + text_bytes


def _encode(submission: Submission) -> bytes:
    body = {
        "q": submission.questionnaire_id,
        "d": submission.day.isoformat(),
        "h": submission.hour,
        "a": [
            [a.question_id, a.level_id, list(a.option_ids), a.text]
            for a in submission.answers
        ],
    }
    return (
        _FORMAT + json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    )


def _decode(plain: bytes) -> Submission:
    if plain[:1] == _FORMAT:
        body = json.loads(plain[1:].rstrip(b" "))
    elif plain[:1] == b"{":  # version 1, sealed before the format had a version
        body = json.loads(plain.rstrip(b" "))
    else:
        raise ValueError(f"unknown sealed format {plain[:1]!r}")
    return Submission(
        questionnaire_id=body["q"],
        day=date.fromisoformat(body["d"]),
        hour=body["h"],
        answers=tuple(
            CleanAnswer(
                question_id=q, level_id=level, option_ids=tuple(options), text=text
            )
            for q, level, options, text in body["a"]
        ),
    )


def seal(point_id: int, submission: Submission, *, length: int) -> bytes:
    plain = _encode(submission)
    if len(plain) > length:
        raise ValueError(f"submission of {len(plain)} bytes exceeds its pad {length}")
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_keys()[0]).encrypt(
        nonce, plain.ljust(length, b" "), str(point_id).encode()
    )
    return nonce + sealed


def unseal(point_id: int, sealed: bytes) -> Submission:
    nonce, body = bytes(sealed[:_NONCE_BYTES]), bytes(sealed[_NONCE_BYTES:])
    for key in _keys():
        try:
            plain = AESGCM(key).decrypt(nonce, body, str(point_id).encode())
        except InvalidTag:
            continue
        return _decode(plain)
    raise InvalidTag(
        "a pending submission cannot be unsealed with SECRET_KEY or its fallbacks"
    )


# --- Writing batches ------------------------------------------------------------


@cache
def _insert_sql() -> str:
    meta, quote = PendingSubmission._meta, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in _PENDING)
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, %s)"


_PENDING = ("id", "point", "sealed")


def pool_add(*, point: CollectionPoint, spec: FormSpec, submission: Submission) -> None:
    """Put an accepted submission in the pool; call inside the accepting transaction.

    One plain INSERT: the ORM's create() costs more than the statement itself on
    every submission, and the row has no defaults or signals to honour but its id.
    """
    values = (
        uuid.uuid4(),
        point.pk,
        seal(point.pk, submission, length=padded_length(spec)),
    )
    meta = PendingSubmission._meta
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(),
            [
                meta.get_field(name).get_db_prep_save(value, connection)
                for name, value in zip(_PENDING, values, strict=True)
            ],
        )


def _write(point_id: int, submissions: Sequence[Submission]) -> None:
    batch = list(submissions)
    _shuffler.shuffle(batch)
    latest = max(batch, key=lambda s: (s.day, -1 if s.hour is None else s.hour))
    # Each response's scale answers packed (questionnaires.patterns), so that the
    # analysis counts responses rather than answers.
    layout = layouts({s.questionnaire_id for s in batch})
    responses = [
        Response(
            point_id=point_id,
            questionnaire_id=submission.questionnaire_id,
            submitted_on=latest.day,
            submitted_hour=latest.hour,
            answer_pattern=layout[submission.questionnaire_id].pack(
                (a.question_id, a.level_id) for a in submission.answers
            ),
        )
        for submission in batch
    ]
    Response.objects.bulk_create(responses)
    rows = []
    for response, submission in zip(responses, batch, strict=True):
        for answer in submission.answers:
            base = {
                "response": response,
                "point_id": point_id,
                "question_id": answer.question_id,
            }
            if answer.level_id is not None:
                rows.append(Answer(**base, level_id=answer.level_id))
            elif answer.option_ids:
                rows.extend(
                    Answer(**base, option_id=option) for option in answer.option_ids
                )
            else:
                rows.append(Answer(**base, text=answer.text))
    Answer.objects.bulk_create(rows)


def waiting_key(point_id: int) -> str:
    """The cache's counter of the point's pool (questionnaires.counters): one more
    for each accepted submission (response_submit), set to the database's count by
    every flush that held the point. It only says when to try a batch, which
    pool_flush then judges from the rows themselves, so a count lost or stale in
    the cache delays or brings forward an attempt, and the attempt corrects it."""
    return f"pool-waiting:{point_id}"


WAITING_SECONDS = 24 * 3600


def _count_again(point_id: int, left: int) -> None:
    try:
        counters.reset(waiting_key(point_id), left, timeout=WAITING_SECONDS)
    except Exception:
        # The batch is written; the next flush that holds the point sets it.
        logger.exception("Setting the count of point %s's pool failed", point_id)


def _lock_sql(everything: bool) -> str:
    """The point's row lock of a flush (none on SQLite, which has no row locks)."""
    quote, features = connection.ops.quote_name, connection.features
    meta = CollectionPoint._meta
    sql = (
        f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    if not features.has_select_for_update:
        return sql
    if everything:
        return f"{sql} FOR UPDATE"
    return f"{sql} FOR NO KEY UPDATE SKIP LOCKED"


def _pending_sql() -> str:
    quote, meta = connection.ops.quote_name, PendingSubmission._meta
    return (
        f"SELECT {quote(meta.pk.column)} FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.get_field('point').column)} = %s"
    )


def _take(
    cursor: CursorWrapper, point_id: int, chosen: list[Any] | None
) -> list[bytes]:
    """Delete ``chosen`` (None: the point's whole pool) from the pool; their seals.

    One DELETE … RETURNING where the backend has it (PostgreSQL, SQLite 3.35+),
    otherwise a SELECT and a DELETE of the same rows."""
    quote, meta = connection.ops.quote_name, PendingSubmission._meta
    table = quote(meta.db_table)
    sealed, key = quote(meta.get_field("sealed").column), quote(meta.pk.column)
    if chosen is None:
        where, params = f"{quote(meta.get_field('point').column)} = %s", [point_id]
    else:
        where = f"{key} IN ({', '.join(['%s'] * len(chosen))})"
        params = list(chosen)
    if connection.features.can_return_columns_from_insert:
        cursor.execute(f"DELETE FROM {table} WHERE {where} RETURNING {sealed}", params)
        return [row[0] for row in cursor.fetchall()]
    cursor.execute(f"SELECT {sealed} FROM {table} WHERE {where}", params)
    rows = [row[0] for row in cursor.fetchall()]
    cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
    if cursor.rowcount != len(rows):
        raise _Raced
    return rows


def pool_flush(*, point_id: int, everything: bool = False) -> int:
    """Write out a batch of the point's pool if it is due; returns how many.

    ``everything``: write the whole pool as one batch (the round's close). Otherwise
    a batch is due when the pool holds twice the batch size, and a flush of the
    point already under way answers 0 at once: it is writing that batch, and the
    next submission finds the next one due.
    """
    size = settings.ANONYMITY_BATCH
    with transaction.atomic():
        # One flush per point at a time. A submission holds its point's key (a
        # KEY SHARE lock, taken by response_submit before it asks whether the
        # round is still open). The close's flush locks FOR UPDATE, which
        # conflicts with that: it waits for the submissions joining the pool, and
        # those arriving later wait for it and then find the round closed
        # (response_submit relies on that to let none wait alone). A batch's
        # flush needs no such wait, since what joins the pool meanwhile simply
        # stays for the next batch: FOR NO KEY UPDATE excludes the other flushes
        # only, and submissions never queue behind a batch being written.
        # Plain SQL, as the lock of the point alone: the ORM's would join the
        # round and the unit (CollectionPoint's ordering) and lock them too, and
        # so every point's flushes against another.
        with connection.cursor() as cursor:
            cursor.execute(_lock_sql(everything), [point_id])
            if cursor.fetchone() is None:
                return 0
            if everything or size == 1:
                # The whole pool; whatever joins it from here waits for this lock.
                sealed, left = _take(cursor, point_id, None), 0
            else:
                cursor.execute(_pending_sql(), [point_id])
                pending = [row[0] for row in cursor.fetchall()]
                sealed, left = [], len(pending)
                if len(pending) >= 2 * size:
                    chosen = _shuffler.sample(pending, size)
                    sealed, left = _take(cursor, point_id, chosen), left - size
                    if len(sealed) != len(chosen):
                        # Another flush took some of them first (SQLite has no
                        # row locks): undo.
                        raise _Raced
        if sealed:
            _write(point_id, [unseal(point_id, blob) for blob in sealed])
    _count_again(point_id, left)
    return len(sealed)


class _Raced(DatabaseError):
    pass


def pool_flush_due(*, point_id: int, waiting_now: int | None = None) -> int:
    """After an accepted submission: write a batch if one is due, never raising.

    ``waiting_now``: the pool's size as the cache counts it (:func:`waiting_key`),
    this submission included; None counts the rows. Counting them on every
    submission would read every row deleted from the pool since the table was
    last vacuumed.

    The submission is already safe in the pool; a failure here only delays its
    batch to the next submission or the round's close, so it is logged, not shown.
    """
    size = settings.ANONYMITY_BATCH
    if waiting_now is None and size > 1:
        waiting_now = waiting([point_id])
    if size > 1 and waiting_now is not None and waiting_now < 2 * size:
        return 0  # the usual case, without a lock
    try:
        return pool_flush(point_id=point_id)
    except _Raced:
        return 0
    except Exception:
        logger.exception("Writing a batch of point %s's pool failed", point_id)
        return 0


def pool_flush_points(point_ids: Iterable[int]) -> int:
    """Write out every pool of these points whole (the round's close)."""
    written = 0
    for pk in point_ids:
        for attempt in range(3):
            try:
                written += pool_flush(point_id=pk, everything=True)
                break
            except _Raced:
                if attempt == 2:
                    raise
    return written


def waiting(point_ids: Iterable[int]) -> int:
    return PendingSubmission.objects.filter(point_id__in=list(point_ids)).count()


def submission_of(
    spec: FormSpec, answers: Iterable[CleanAnswer], now: datetime
) -> Submission:
    local = timezone.localtime(now)
    hourly = settings.RESPONSE_TIME_RESOLUTION == "hour"
    return Submission(
        questionnaire_id=spec.questionnaire_id,
        day=local.date(),
        hour=local.hour if hourly else None,
        answers=tuple(answers),
    )
