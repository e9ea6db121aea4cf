"""The sealed pool's format: one padded length per questionnaire, no wider than the
widest valid submission, and rows sealed by the earlier format still unseal.

The seals are opened here with the cryptography package directly (AES-GCM under
SHA-256("questionnaires.pool" NUL SECRET_KEY), the point's id as associated data,
the 12-byte nonce first), not with the pool's own code.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from datetime import date, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from questionnaires.forms_spec import form_spec
from questionnaires.models import Answer, PendingSubmission, Question, Response
from questionnaires.pool import padded_length, pool_flush
from questionnaires.services import response_submit
from tests.base import PersonaTestCase

from .helpers import make_round, point_of

NONCE, TAG = 12, 16


def _key() -> bytes:
    return hashlib.sha256(
        b"questionnaires.pool\x00" + settings.SECRET_KEY.encode()
    ).digest()


def opened(point_id: int, blob: bytes) -> bytes:
    blob = bytes(blob)
    return AESGCM(_key()).decrypt(blob[:NONCE], blob[NONCE:], str(point_id).encode())


def sealed_the_old_way(point_id: int, spec, answers: list, day: date) -> bytes:
    """Version 1: the JSON object itself (no version byte), padded with spaces to
    96 + 48 a question + 12 an option + 6 a text question's character."""
    plain = json.dumps(
        {"q": spec.questionnaire_id, "d": day.isoformat(), "h": None, "a": answers},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    length = 96 + sum(
        48
        + 12 * len(q.options)
        + (6 * Question.TEXT_MAX_LENGTH if q.kind == "text" else 0)
        for q in spec.questions
    )
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(_key()).encrypt(
        nonce, plain.ljust(length, b" "), str(point_id).encode()
    )


@override_settings(
    SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=10, RESPONSE_TIME_RESOLUTION="day"
)
class SealedFormatTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_round(
            cls.school, opens_at=timezone.now() - timedelta(days=5)
        )
        cls.point = point_of(cls.campaign, cls.window_a)
        cls.spec = form_spec(cls.point.questionnaire)

    def widest(self, text: str) -> list[dict]:
        """Every question answered at its widest: the longest level and option
        ids, every option of the multiple choice, ``text`` as the comment."""
        answers = []
        for q in self.spec.questions:
            if q.kind == "scale":
                level = max(q.levels, key=lambda lv: len(str(lv.id)))
                answers.append({"question": q.id, "level": level.code})
            elif q.kind == "single":
                option = max(q.options, key=lambda o: len(str(o.id)))
                answers.append({"question": q.id, "options": [option.id]})
            elif q.kind == "multiple":
                answers.append({"question": q.id, "options": [o.id for o in q.options]})
            else:
                answers.append({"question": q.id, "text": text})
        return answers

    def submit(self, answers: list[dict], n: int) -> None:
        response_submit(
            point=self.point,
            answers=answers,
            nonce=f"pool-format-{n:08d}",
            client_address="10.1.2.3",
        )

    def seals(self) -> list[bytes]:
        return [
            bytes(s) for s in PendingSubmission.objects.values_list("sealed", flat=True)
        ]

    def test_every_seal_of_a_point_has_one_length_whatever_its_answers(self):
        longest = Question.TEXT_MAX_LENGTH
        bodies = [
            self.widest("😀" * longest),  # four bytes a character in UTF-8
            self.widest('"' * longest),  # two in JSON
            self.widest("好" * longest),
            self.widest("\n" * (longest - 1) + "好"),
            self.widest("好"),
            [a for a in self.widest("") if "text" not in a],
            # The least a valid submission holds: the required answers only.
            [a for a in self.widest("") if self.spec.by_id[a["question"]].required],
        ]
        for n, answers in enumerate(bodies):
            self.submit(answers, n)
        lengths = Counter(len(s) for s in self.seals())
        self.assertEqual(
            lengths, {NONCE + padded_length(self.spec) + TAG: len(bodies)}, lengths
        )

    def test_the_pad_is_the_widest_submission_and_no_more(self):
        # Only a scale level's id is given room beyond what it has today, up to a
        # signed 64-bit integer's 20 characters (levels can be added to a scale).
        self.submit(self.widest("😀" * Question.TEXT_MAX_LENGTH), 1)
        (seal,) = self.seals()
        plain = opened(self.point.pk, seal)
        self.assertEqual(plain[:1], b"\x02", "the format's version comes first")
        body = plain[1:].rstrip(b" ")
        spare = len(plain) - 1 - len(body)
        room = sum(
            20 - len(str(answer[1]))
            for answer in json.loads(body)["a"]
            if answer[1] is not None
        )
        self.assertEqual(spare, room)
        # And a third less than the six bytes a character the pad once allowed.
        self.assertLess(len(seal), 9_500)

    def test_a_row_sealed_the_old_way_is_written_out_with_the_new_ones(self):
        scale = next(q for q in self.spec.questions if q.kind == "scale")
        comment = next(q for q in self.spec.questions if q.kind == "text")
        old = [
            [scale.id, scale.levels[0].id, [], ""],
            [comment.id, None, [], "旧格式的意见"],
        ]
        day = timezone.localdate() - timedelta(days=2)
        PendingSubmission.objects.create(
            point=self.point,
            sealed=sealed_the_old_way(self.point.pk, self.spec, old, day),
        )
        self.submit(self.widest("新格式的意见"), 1)
        self.assertEqual(len({len(s) for s in self.seals()}), 2)
        self.assertEqual(pool_flush(point_id=self.point.pk, everything=True), 2)
        self.assertFalse(PendingSubmission.objects.exists())
        self.assertEqual(Response.objects.filter(point=self.point).count(), 2)
        texts = set(
            Answer.objects.filter(point=self.point, question=comment.id).values_list(
                "text", flat=True
            )
        )
        self.assertEqual(texts, {"旧格式的意见", "新格式的意见"})
        self.assertTrue(
            Answer.objects.filter(
                point=self.point, question=scale.id, level=scale.levels[0].id
            ).exists()
        )

    def test_a_row_of_an_unknown_format_stays_in_the_pool(self):
        nonce = os.urandom(NONCE)
        plain = b"\x09" + b" " * 200
        PendingSubmission.objects.create(
            point=self.point,
            sealed=nonce
            + AESGCM(_key()).encrypt(nonce, plain, str(self.point.pk).encode()),
        )
        with self.assertRaises(ValueError):
            pool_flush(point_id=self.point.pk, everything=True)
        self.assertEqual(PendingSubmission.objects.count(), 1)
        self.assertFalse(Response.objects.exists())
