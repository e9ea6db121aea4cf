"""Workflows of collection: questionnaire versions, rounds, points, ballots, submissions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Unit

from . import ballots, bursts, counters, pool
from .forms_spec import (
    NONCE_PATTERN,
    AnswerErrors,
    FormSpec,
    form_spec,
    validate_answers,
)
from .models import (
    BallotCode,
    Campaign,
    CollectionPoint,
    Dimension,
    Option,
    Question,
    Questionnaire,
    Scale,
    SubmissionNonce,
)
from .ratelimit import allow_submission, release_submission, take_submission


class ServiceError(Exception):
    """A refusal with a message for people and a stable code for programs."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class StateError(ServiceError):
    code = "state"


# --- Questionnaires -------------------------------------------------------------


def questionnaire_create(*, spec: dict[str, Any]) -> Questionnaire:
    """Create a draft version from a nested spec (the templates' and the API's shape).

    ``spec``: key, title, description, target_kind, dimensions: [{code, title,
    questions: [...]}], questions: [...] (without a dimension). A question: code,
    kind, text, help_text, required, headline, scale (key), options: [label, …].
    """
    with transaction.atomic():
        version = (
            Questionnaire.objects.filter(key=spec["key"]).aggregate(v=Max("version"))[
                "v"
            ]
            or 0
        ) + 1
        questionnaire = Questionnaire.objects.create(
            key=spec["key"],
            version=version,
            title=spec["title"],
            description=spec.get("description", ""),
            target_kind=spec["target_kind"],
        )
        order = 0
        groups = []
        for d_order, dim in enumerate(spec.get("dimensions", [])):
            dimension = Dimension.objects.create(
                questionnaire=questionnaire,
                code=dim["code"],
                title=dim["title"],
                order=d_order,
            )
            groups.append((dimension, dim.get("questions", [])))
        # Questions outside the dimensions (总体评价, 意见和建议) come last.
        groups.append((None, spec.get("questions", [])))
        scales = {scale.key: scale for scale in Scale.objects.all()}
        for dimension, questions in groups:
            for item in questions:
                order += 1
                scale_key = item.get("scale")
                if item["kind"] == Question.Kind.SCALE and scale_key not in scales:
                    raise ServiceError(_("未知的量表：%(key)s。") % {"key": scale_key})
                question = Question.objects.create(
                    questionnaire=questionnaire,
                    dimension=dimension,
                    code=item["code"],
                    kind=item["kind"],
                    text=item["text"],
                    help_text=item.get("help_text", ""),
                    required=item.get("required", False),
                    headline=item.get("headline", False),
                    scale=scales[scale_key]
                    if item["kind"] == Question.Kind.SCALE
                    else None,
                    order=order,
                )
                Option.objects.bulk_create(
                    Option(question=question, label=label, order=i)
                    for i, label in enumerate(item.get("options", []))
                )
    return questionnaire


def questionnaire_publish(*, questionnaire: Questionnaire) -> Questionnaire:
    """Freeze a draft. From here on the database refuses any change to it."""
    if questionnaire.is_published:
        raise StateError(_("该版本已发布。"), code="already_published")
    questions = list(questionnaire.questions.prefetch_related("options"))
    if not questions:
        raise ServiceError(_("问卷没有题目，不能发布。"))
    for question in questions:
        if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            if len(question.options.all()) < 2:
                raise ServiceError(
                    _("选择题“%(text)s”至少需要两个选项。") % {"text": question.text}
                )
    questionnaire.published_at = timezone.now()
    questionnaire.save(update_fields=["published_at"])
    return questionnaire


def questionnaire_spec(questionnaire: Questionnaire) -> dict[str, Any]:
    """The nested spec of a version, as :func:`questionnaire_create` takes it."""

    def question_spec(question: Question) -> dict[str, Any]:
        return {
            "code": question.code,
            "kind": question.kind,
            "text": question.text,
            "help_text": question.help_text,
            "required": question.required,
            "headline": question.headline,
            "scale": question.scale.key if question.scale else None,
            "options": [option.label for option in question.options.all()],
        }

    questions = questionnaire.questions.select_related("scale").prefetch_related(
        "options"
    )
    return {
        "key": questionnaire.key,
        "title": questionnaire.title,
        "description": questionnaire.description,
        "target_kind": questionnaire.target_kind,
        "questions": [question_spec(q) for q in questions if q.dimension_id is None],
        "dimensions": [
            {
                "code": dimension.code,
                "title": dimension.title,
                "questions": [
                    question_spec(q)
                    for q in questions
                    if q.dimension_id == dimension.id
                ],
            }
            for dimension in questionnaire.dimensions.all()
        ],
    }


def questionnaire_new_version(*, questionnaire: Questionnaire) -> Questionnaire:
    """A new draft copied from a published version; answers keep the old one."""
    if not questionnaire.is_published:
        raise StateError(_("草稿可以直接修改，无需新建版本。"), code="is_draft")
    if Questionnaire.objects.drafts().filter(key=questionnaire.key).exists():
        raise StateError(_("该问卷已有一个未发布的草稿版本。"), code="draft_exists")
    return questionnaire_create(spec=questionnaire_spec(questionnaire))


def questionnaire_replace_draft(
    *, questionnaire: Questionnaire, spec: dict[str, Any]
) -> Questionnaire:
    """Replace a draft's content with ``spec`` (same key and version)."""
    if questionnaire.is_published:
        raise StateError(_("已发布的问卷不能修改；请新建版本。"), code="frozen")
    with transaction.atomic():
        key, version = questionnaire.key, questionnaire.version
        questionnaire.delete()
        created = questionnaire_create(spec={**spec, "key": key})
        if created.version != version:
            Questionnaire.objects.filter(pk=created.pk).update(version=version)
            created.version = version
    return created


# --- Rounds ---------------------------------------------------------------------


def _token() -> str:
    # 9 random bytes: 72 bits in 12 URL-safe characters, short enough for a small QR.
    return secrets.token_urlsafe(9)


def campaign_open(
    *, campaign: Campaign, now: datetime | None = None
) -> list[CollectionPoint]:
    """draft → open: create one collection point per participating unit."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != Campaign.Status.DRAFT:
            raise StateError(
                _("只有草稿状态的轮次可以开启（当前：%(s)s）。")
                % {"s": campaign.get_status_display()}
            )
        choices = {
            choice.unit_kind: choice.questionnaire
            for choice in campaign.questionnaire_choices.select_related("questionnaire")
        }
        if not choices:
            raise ServiceError(_("请先为至少一类单位指定问卷。"))
        unpublished = [q.title for q in choices.values() if not q.is_published]
        if unpublished:
            raise ServiceError(
                _("问卷尚未发布：%(t)s。") % {"t": "、".join(unpublished)}
            )
        # Every active unit of a kind it evaluates, but those the office excluded.
        units = campaign.participating_units(kinds=list(choices))
        points = CollectionPoint.objects.bulk_create(
            CollectionPoint(
                campaign=campaign,
                unit=unit,
                questionnaire=choices[unit.kind],
                token=_token(),
            )
            for unit in units
        )
        if not points:
            raise ServiceError(_("没有可评议的单位。"))
        campaign.status = Campaign.Status.OPEN
        campaign.opened_at = now or timezone.now()
        campaign.save(update_fields=["status", "opened_at"])
    return points


def _move(campaign: Campaign, *, source: str, target: str, stamp: str) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != source:
            raise StateError(
                _("当前状态“%(s)s”不能执行此操作。")
                % {"s": locked.get_status_display()}
            )
        locked.status = target
        setattr(locked, stamp, timezone.now())
        locked.save(update_fields=["status", stamp])
    return locked


def campaign_close(*, campaign: Campaign) -> Campaign:
    """open → closed, writing out every point's anonymity pool whole.

    The pools are written after the status has moved, so no submission can join a
    pool that has already been written out (a submission checks the status).
    """
    closed = _move(
        campaign,
        source=Campaign.Status.OPEN,
        target=Campaign.Status.CLOSED,
        stamp="closed_at",
    )
    pool.pool_flush_points(closed.points.values_list("pk", flat=True))
    return closed


def campaign_publish(*, campaign: Campaign) -> Campaign:
    """closed → published: units may now read their results."""
    return _move(
        campaign,
        source=Campaign.Status.CLOSED,
        target=Campaign.Status.PUBLISHED,
        stamp="published_at",
    )


# --- Ballots --------------------------------------------------------------------


def ballots_issue(
    *, point: CollectionPoint, count: int, limit: int = ballots.MAX_PER_REQUEST
) -> list[str]:
    """Create ``count`` (1 to ``limit``) single-use codes for a point; returns
    the plain codes.

    Only keyed hashes are stored: the returned codes exist nowhere else, so the
    caller prints them (questionnaires.ballot_sheets) and drops them, in the
    same transaction, so that codes exist only if their PDF was written.
    ``limit``: ``ballots.MAX_PER_COMMAND`` for the issue_ballots command.
    """
    if point.campaign.access_mode != Campaign.AccessMode.BALLOT:
        raise ServiceError(_("该轮次不是一人一票方式，无需选票码。"))
    if point.campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.OPEN):
        raise StateError(_("轮次已结束，不能再发放选票。"))
    if not 1 <= count <= limit:
        raise ServiceError(_("一次发放 1 到 %(max)s 张。") % {"max": limit})
    codes = [ballots.new_code() for _ in range(count)]
    today = timezone.localdate()
    with transaction.atomic():
        # In batches: bulk_create makes a list of all the rows it is given.
        for start in range(0, count, 5000):
            batch = codes[start : start + 5000]
            BallotCode.objects.bulk_create(
                BallotCode(point=point, code_hash=digest, issued_on=today)
                for digest in ballots.code_hashes(batch)
            )
    return codes


def ballot_point(raw_code: object) -> CollectionPoint | None:
    """The point a ballot code belongs to, used or not; None for a malformed or unknown code."""
    code = ballots.normalise(raw_code)
    if code is None:
        return None
    ballot = (
        BallotCode.objects.filter(code_hash=ballots.code_hash(code))
        .select_related("point__campaign__organizer", "point__unit")
        .first()
    )
    return ballot.point if ballot else None


def ballot_is_used(raw_code: object) -> bool:
    code = ballots.normalise(raw_code)
    return bool(
        code
        and BallotCode.objects.filter(
            code_hash=ballots.code_hash(code), used_on__isnull=False
        ).exists()
    )


# --- Submissions ----------------------------------------------------------------


class SubmissionRefused(ServiceError):
    """Nothing was stored. ``code``: not_open, closed, ballot_required, ballot_unknown,
    ballot_used, rate_limited."""


class SubmissionInvalid(ServiceError):
    code = "invalid"

    def __init__(self, errors: AnswerErrors) -> None:
        super().__init__(_("答卷有误，请检查标出的题目。"))
        self.errors = errors


@dataclass(frozen=True)
class SubmitOutcome:
    stored: bool  # False: this nonce was already stored (a double tap); nothing new


def point_state(point: CollectionPoint, now: datetime | None = None) -> str:
    """open, not_open or closed, for the respondent pages."""
    campaign = point.campaign
    now = now or timezone.now()
    if (
        campaign.status == Campaign.Status.OPEN
        and campaign.opens_at <= now < campaign.closes_at
    ):
        return "open"
    if campaign.status in (Campaign.Status.DRAFT,) or (
        campaign.status == Campaign.Status.OPEN and now < campaign.opens_at
    ):
        return "not_open"
    return "closed"


ACCEPT_ATTEMPTS = 3
_TRANSIENT_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def _transient(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) in _TRANSIENT_SQLSTATES


def _nonce_recorded(nonce: str, day: date) -> bool:
    """Record a submission's nonce; False when it was there already (a double tap).

    ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike) answers in one statement
    what a savepoint around an IntegrityError answers in three.
    """
    meta = SubmissionNonce._meta
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}, {}) VALUES (%s, %s) ON CONFLICT ({}) DO NOTHING".format(
        quote(meta.db_table),
        quote(meta.get_field("nonce").column),
        quote(meta.get_field("seen_on").column),
        quote(meta.get_field("nonce").column),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [nonce, connection.ops.adapt_datefield_value(day)])
        return cursor.rowcount == 1


@cache
def _point_key_lock_sql() -> str:
    """The lock a child row's foreign key takes on its parent (PostgreSQL)."""
    quote = connection.ops.quote_name
    meta = CollectionPoint._meta
    return (
        f"SELECT 1 FROM {quote(meta.db_table)} "
        f"WHERE {quote(meta.pk.column)} = %s FOR KEY SHARE"
    )


@cache
def _round_status_sql() -> str:
    quote, campaign = connection.ops.quote_name, Campaign._meta
    return (
        f"SELECT {quote(campaign.get_field('status').column)} "
        f"FROM {quote(campaign.db_table)} WHERE {quote(campaign.pk.column)} = %s"
    )


def _accept(
    *,
    point: CollectionPoint,
    spec: FormSpec,
    clean: Any,
    nonce: str,
    ballot_code: str | None,
    client_address: str,
    now: datetime,
) -> SubmitOutcome | None:
    """response_submit's one transaction: the nonce, the ballot, the pool.

    Returns None when it stored the submission, an outcome when it stored nothing.
    """
    local = timezone.localtime(now)
    ballot_mode = ballot_code is not None
    with transaction.atomic():
        if not _nonce_recorded(nonce, local.date()):
            release_submission(point.pk, client_address)  # a double tap: nothing new
            return SubmitOutcome(stored=False)
        if ballot_mode:
            used = BallotCode.objects.filter(
                point=point,
                code_hash=ballots.code_hash(ballot_code),
                used_on__isnull=True,
            ).update(used_on=local.date())
            if used != 1:
                known = BallotCode.objects.filter(
                    point=point, code_hash=ballots.code_hash(ballot_code)
                ).exists()
                # Raising inside the atomic block rolls the nonce back as well.
                release_submission(point.pk, client_address)
                raise SubmissionRefused(
                    _("该选票码已使用。") if known else _("选票码无效。"),
                    code="ballot_used" if known else "ballot_unknown",
                )
        # Sealed in the pool, not yet a Response: see questionnaires.pool.
        pool.pool_add(
            point=point, spec=spec, submission=pool.submission_of(spec, clean, now)
        )
        # Asked again once this transaction holds its point's key: a close that
        # committed meanwhile has written out (or is waiting to write out) the pool,
        # and a submission joining it afterwards would wait there alone. The
        # pending row's foreign key would take that lock only at COMMIT (Django
        # makes foreign keys DEFERRABLE INITIALLY DEFERRED), too late for the
        # close's flush to wait for it, so it is taken here, in a statement of
        # its own: a re-check in the same statement would read the round from a
        # snapshot older than the wait.
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(_point_key_lock_sql(), [point.pk])
            cursor.execute(_round_status_sql(), [point.campaign_id])
            row = cursor.fetchone()
        if row is None or row[0] != Campaign.Status.OPEN:  # closed, or deleted
            release_submission(point.pk, client_address)
            raise SubmissionRefused(_("本轮评议已结束。"), code="closed")
    return None


def response_submit(
    *,
    point: CollectionPoint,
    answers: Any,
    nonce: Any,
    ballot: Any = None,
    client_address: str = "",
    now: datetime | None = None,
) -> SubmitOutcome:
    """Accept one anonymous response with its answers, atomically, or refuse.

    Order: the round is open; the address has flood budget left; the nonce and the
    answers are valid; the submission takes one from the budget; then in one
    transaction the nonce is recorded (a repeat means a double tap: nothing more is
    stored), the ballot is consumed with a conditional UPDATE, and the answers are
    sealed into the point's anonymity pool, from which they reach Response and
    Answer in a shuffled batch (questionnaires.pool). Any refusal stores nothing,
    and only an accepted response keeps what it took from the budget: invalid or
    refused posts cost CPU only.
    """
    now = now or timezone.now()
    state = point_state(point, now)
    if state != "open":
        message = (
            _("本轮评议尚未开始。") if state == "not_open" else _("本轮评议已结束。")
        )
        raise SubmissionRefused(message, code=state)
    if not allow_submission(point.pk, client_address):
        raise SubmissionRefused(_("提交过于频繁，请稍后再试。"), code="rate_limited")
    ballot_mode = point.campaign.access_mode == Campaign.AccessMode.BALLOT
    ballot_code = ballots.normalise(ballot) if ballot_mode else None
    if ballot_mode and ballot_code is None:
        if ballot in (None, ""):
            raise SubmissionRefused(
                _("本轮评议需凭选票码作答。"), code="ballot_required"
            )
        raise SubmissionRefused(_("选票码无效。"), code="ballot_unknown")

    errors = AnswerErrors()
    if not isinstance(nonce, str) or not NONCE_PATTERN.fullmatch(nonce):
        errors.add("nonce", _("缺少或无效的提交标识（nonce）。"))
    spec = form_spec(point.questionnaire)
    clean, answer_errors = validate_answers(spec, answers)
    for path, messages in answer_errors.by_path.items():
        for message in messages:
            errors.add(path, message)
    errors.by_question.update(answer_errors.by_question)
    if errors:
        raise SubmissionInvalid(errors)
    if not clean:
        errors.add("answers", _("请至少回答一道题。"))
        raise SubmissionInvalid(errors)

    local = timezone.localtime(now)
    if not take_submission(point.pk, client_address):
        raise SubmissionRefused(_("提交过于频繁，请稍后再试。"), code="rate_limited")
    # Submissions and a close's flush can take the point's row locks in opposite
    # orders (the submission's KEY SHARE, at once and again by the foreign key at
    # COMMIT, the flush's FOR UPDATE); the database then aborts one transaction,
    # which stored nothing: try it again.
    for attempt in range(ACCEPT_ATTEMPTS):
        try:
            refused = _accept(
                point=point,
                spec=spec,
                clean=clean,
                nonce=nonce,
                ballot_code=ballot_code,
                client_address=client_address,
                now=now,
            )
            break
        except OperationalError as exc:
            if attempt + 1 == ACCEPT_ATTEMPTS or not _transient(exc):
                release_submission(point.pk, client_address)
                raise
    if refused is not None:
        return refused
    # The minute's count for bursts and the pool's size, in one round trip.
    minute, waiting = counters.count_many(
        {
            bursts.minute_key(point.pk, now): bursts.KEEP_SECONDS,
            pool.waiting_key(point.pk): pool.WAITING_SECONDS,
        }
    )
    pool.pool_flush_due(point_id=point.pk, waiting_now=waiting)
    if bursts.is_burst(point.pk, now, minute):
        # Once a day: a burst goes on for minutes, and every UPDATE of the point's
        # row waits for a batch being written.
        CollectionPoint.objects.filter(pk=point.pk).exclude(
            burst_on=local.date()
        ).update(burst_on=local.date())
    return SubmitOutcome(stored=True)


def nonces_purge(*, today: date | None = None) -> int:
    """Delete submission nonces older than NONCE_RETENTION_DAYS; returns how many.

    A nonce only has to outlive a double tap or a retry of the same page, and each
    one kept is a row written at its submission's moment.
    """
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=settings.NONCE_RETENTION_DAYS)
    deleted, _ = SubmissionNonce.objects.filter(seen_on__lt=cutoff).delete()
    return deleted


# --- Commitments ----------------------------------------------------------------


def commitments_replace(*, campaign: Campaign, unit: Unit, texts: list[str]) -> None:
    """Replace a unit's commitments (承诺) for a round with ``texts``, in order."""
    from .models import Commitment

    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.OPEN):
        raise StateError(_("轮次已结束，承诺不能再修改。"), code="closed")
    with transaction.atomic():
        Commitment.objects.filter(campaign=campaign, unit=unit).delete()
        Commitment.objects.bulk_create(
            Commitment(campaign=campaign, unit=unit, text=text, order=i)
            for i, text in enumerate(texts)
        )


# --- Scales ---------------------------------------------------------------------


def scale_create(
    *, key: str, name: str, description: str, levels: list[dict[str, Any]]
) -> Scale:
    from .models import ScaleLevel

    with transaction.atomic():
        scale = Scale.objects.create(key=key, name=name, description=description)
        ScaleLevel.objects.bulk_create(
            ScaleLevel(scale=scale, **{**level, "order": level.get("order", i)})
            for i, level in enumerate(levels)
        )
    return scale


def scale_update(
    *, scale: Scale, name: str, description: str, levels: list[dict[str, Any]]
) -> Scale:
    """Rename a scale or change its scores; codes, labels and classes stay fixed,
    since published questionnaires and their answers refer to them."""
    current = {level.code: level for level in scale.levels.all()}
    if sorted(current) != sorted(level["code"] for level in levels):
        raise ServiceError(_("不能增删量表选项；请新建量表。"), code="levels_fixed")
    for level in levels:
        existing = current[level["code"]]
        if level["label"] != existing.label or level["polarity"] != existing.polarity:
            raise ServiceError(
                _("选项文字和类别不能修改，只能修改分值。"), code="levels_fixed"
            )
    with transaction.atomic():
        scale.name, scale.description = name, description
        scale.save(update_fields=["name", "description"])
        for level in levels:
            existing = current[level["code"]]
            if existing.score != level.get("score"):
                existing.score = level.get("score")
                existing.save(update_fields=["score"])
    return scale
