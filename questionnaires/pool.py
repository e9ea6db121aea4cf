"""The anonymity pool: accepted submissions wait sealed and are written in batches.

A submission is accepted by writing, in one transaction, its nonce, its ballot's
consumption and a :class:`~questionnaires.models.PendingSubmission` holding the
answers sealed (AES-GCM under a key derived from SECRET_KEY, padded to one length
per questionnaire). Those rows share a transaction id, but the pending row says
nothing to someone reading the database.

Responses and answers are written only here, in batches: when a point's pool holds
``2 × ANONYMITY_BATCH`` submissions, ``ANONYMITY_BATCH`` of them chosen at random are
unsealed, shuffled and inserted in one transaction, which also deletes them from
the pool. Every response of a batch shares that transaction id (``xmin``), sits in
random physical order (``ctid``, ``rowid``) and carries the day (and hour) of the
batch's latest submission. At least ``ANONYMITY_BATCH`` always stay behind, so the
round's close, which writes out every pool whole, also writes a batch of at least
that size, unless the point received fewer in all.

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

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from .forms_spec import CleanAnswer, FormSpec
from .models import Answer, CollectionPoint, PendingSubmission, Response
from .patterns import layouts

logger = logging.getLogger(__name__)

_shuffler = random.SystemRandom()
_NONCE_BYTES = 12
# Each question's share of the padded length: its code in JSON plus a text's worst
# case (every character escaped as \\uXXXX) or every option chosen.
_PER_QUESTION = 48
_PER_OPTION = 12
_PER_TEXT_CHARACTER = 6


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


def padded_length(spec: FormSpec) -> int:
    """The one plaintext length of every submission of this questionnaire."""
    from .models import Question

    length = 96
    for question in spec.questions:
        length += _PER_QUESTION + _PER_OPTION * len(question.options)
        if question.kind == Question.Kind.TEXT:
            length += _PER_TEXT_CHARACTER * Question.TEXT_MAX_LENGTH
    return length


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
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _decode(plain: bytes) -> Submission:
    body = json.loads(plain.rstrip(b" "))
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
        # Without the model's ordering, whose joins would lock the round's and
        # the unit's rows as well, and so every point's flushes against another.
        locking = CollectionPoint.objects.filter(pk=point_id).order_by()
        if everything:
            locking = locking.select_for_update()
        else:
            locking = locking.select_for_update(no_key=True, skip_locked=True)
        if not list(locking.values_list("pk", flat=True)):
            return 0
        pending = list(
            PendingSubmission.objects.filter(point_id=point_id).values_list(
                "id", flat=True
            )
        )
        if everything or size == 1:
            chosen = pending
        elif len(pending) >= 2 * size:
            chosen = _shuffler.sample(pending, size)
        else:
            return 0
        if not chosen:
            return 0
        rows = PendingSubmission.objects.filter(pk__in=chosen)
        sealed = list(rows.values_list("sealed", flat=True))
        deleted, _ = rows.delete()
        if deleted != len(chosen) or len(sealed) != len(chosen):
            # Another flush took some of them first (SQLite has no row locks): undo.
            raise _Raced
        _write(point_id, [unseal(point_id, blob) for blob in sealed])
    return len(chosen)


class _Raced(DatabaseError):
    pass


def pool_flush_due(*, point_id: int, waiting_now: int | None = None) -> int:
    """After an accepted submission: write a batch if one is due, never raising.

    ``waiting_now``: the pool's size as the accepting transaction counted it
    (its own submission included), which spares counting again.

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
