"""The submission side: ballots, responses, answers, nonces and the anonymity pool.

Anonymity is a property of these tables (DESIGN.md): a Response has a random UUID,
its point, its questionnaire version and the day (or hour) — no user, address,
user agent, cookie, session or ballot reference. Answers have random UUIDs too, so
their order does not reveal the order of responses. A consumed BallotCode keeps only
its keyed hash and the day it was used, with nothing that joins it to a response.

Nor may the database's own bookkeeping join them (PostgreSQL's ``xmin`` and
``ctid``, SQLite's ``rowid``): an accepted submission waits sealed in
:class:`PendingSubmission`, written in the transaction that consumes its ballot, and
reaches Response and Answer only in a shuffled batch of at least ``ANONYMITY_BATCH``
responses of its point (questionnaires.pool).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .questionnaires import Option, Question, Questionnaire, ScaleLevel
from .rounds import CollectionPoint


class BallotCode(models.Model):
    """One single-use ballot. Only a keyed hash of the code is stored.

    ``used_on`` keeps the day only, and nothing here refers to the response the
    ballot was used for.
    """

    point = models.ForeignKey(
        CollectionPoint, on_delete=models.CASCADE, related_name="ballots"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    issued_on = models.DateField()
    used_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("选票码")
        verbose_name_plural = _("选票码")

    def __str__(self) -> str:
        return f"{self.point} · {'used' if self.used_on else 'unused'}"


class Response(models.Model):
    """One anonymous submission. See the module docstring for what it must not hold."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by response_pattern_idx, which leads with the point: no index of
    # its own, so a batch write maintains as many indexes as before the pattern.
    point = models.ForeignKey(
        CollectionPoint,
        on_delete=models.PROTECT,
        related_name="responses",
        db_index=False,
    )
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT)
    submitted_on = models.DateField()
    submitted_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    # The scale answers packed as questionnaires.patterns lays them out, written
    # with the answers (questionnaires.pool); NULL when not packed, and then the
    # analysis reads the point's answers. Derived from the answers, nothing more.
    answer_pattern = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("答卷")
        verbose_name_plural = _("答卷")
        indexes = [
            # Counting a round is a GROUP BY (point, pattern): read index-only.
            models.Index(
                fields=["point", "answer_pattern"], name="response_pattern_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(submitted_hour__isnull=True) | Q(submitted_hour__lte=23),
                name="response_hour_valid",
            )
        ]

    def __str__(self) -> str:
        return str(self.id)


class Answer(models.Model):
    """One answer of a response: a scale level, one chosen option, or a text.

    A multiple-choice answer is one row per chosen option. ``point`` is copied from
    the response so counting by (unit, question, level) needs no join to responses.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by answer_response_idx, which leads with the response.
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    point = models.ForeignKey(
        CollectionPoint, on_delete=models.PROTECT, related_name="+"
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers"
    )
    level = models.ForeignKey(
        ScaleLevel, on_delete=models.PROTECT, null=True, blank=True
    )
    option = models.ForeignKey(Option, on_delete=models.PROTECT, null=True, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("答案")
        verbose_name_plural = _("答案")
        indexes = [
            models.Index(
                fields=["point", "question", "level"], name="answer_count_idx"
            ),
            # A response's answers, read index-only (a comment's 总体评价 level):
            # in place of the foreign key's own index, not beside it.
            models.Index(
                fields=["response", "question", "level"], name="answer_response_idx"
            ),
            # The chosen options and the comments alone (a few in a hundred
            # answers each), which the analysis and the comment pages read
            # without scanning every answer; options index-only.
            models.Index(
                fields=["point", "question", "option"],
                condition=Q(option__isnull=False),
                name="answer_option_idx",
            ),
            models.Index(
                fields=["point", "question"],
                condition=~Q(text=""),
                name="answer_comment_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(level__isnull=False) & Q(option__isnull=True) & Q(text=""))
                | (Q(level__isnull=True) & Q(option__isnull=False) & Q(text=""))
                | (Q(level__isnull=True) & Q(option__isnull=True) & ~Q(text="")),
                name="answer_exactly_one_value",
            )
        ]

    def __str__(self) -> str:
        return str(self.id)


class SubmissionNonce(models.Model):
    """Nonces of stored submissions, so a double tap stores one response.

    Deliberately unlinked from the response; kept to the day and purged later.
    """

    nonce = models.CharField(max_length=64, primary_key=True)
    seen_on = models.DateField()

    class Meta:
        verbose_name = _("提交标识")
        verbose_name_plural = _("提交标识")

    def __str__(self) -> str:
        return self.nonce


class PendingSubmission(models.Model):
    """An accepted submission waiting in its point's anonymity pool.

    ``sealed`` is the clean answers, encrypted with a key derived from SECRET_KEY and
    padded to one length per questionnaire, so someone reading the database sees
    neither the answers nor how long a comment is. The row is written in the same
    transaction as the nonce and the ballot; it carries no time, and its id is
    random. questionnaires.pool writes it out in a shuffled batch and deletes it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    point = models.ForeignKey(
        CollectionPoint, on_delete=models.PROTECT, related_name="pending"
    )
    sealed = models.BinaryField()

    class Meta:
        verbose_name = _("待入库答卷")
        verbose_name_plural = _("待入库答卷")

    def __str__(self) -> str:
        return str(self.id)
