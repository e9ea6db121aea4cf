"""A response's scale answers packed into one integer: its *answer pattern*.

The batch write (:mod:`questionnaires.pool`) stores each response's pattern on
the Response row, so that counting a round's scale answers is a GROUP BY (point,
pattern) over responses instead of a pass over every answer
(:mod:`analysis.aggregate`). The pattern holds nothing the answers do not: it is
computed from them, and they stay the record.

The layout of a questionnaire version (:func:`layouts`):

- its scale questions in (order, id) order; a published version is frozen, so
  this never changes;
- each question owns ``bits`` bits, enough for the rank of its scale's levels
  plus one: 0 = not answered, r = the r-th level in (order, id) order. A
  4- or 5-level scale takes 3 bits, a 3-level one 2;
- the questions' fields from bit 0 up; a field never straddles a 63-bit word
  (a signed 64-bit integer on every backend);
- above the fields, in the same word, a *check*: a hash of the layout (question
  ids and each one's level ids, in order), cut to the bits left.

Scale levels are not frozen with the questionnaire (an administrator can add,
reorder or delete an unused level). A pattern is therefore read only against the
layout whose check it carries; the analysis counts a point whose patterns do not
all carry the current check from its answers instead (see :meth:`Layout.valid`).

A version is *packed* when its fields fit in one word with at least
``MIN_CHECK_BITS`` bits to spare (15 questions of a 4- or 5-level scale, 23 of a
3-level one; the built-in questionnaires have at most 11). Otherwise, and for a
submission with two answers to one question or a level outside its question's
scale (which the service never stores), the pattern is NULL and the analysis
reads that point's answers.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

WORD_BITS = 63
MIN_CHECK_BITS = 16


@dataclass(frozen=True)
class Slot:
    """One scale question of a version and where its answer sits in a pattern.

    ``dimension`` (code, title) and ``scores`` (by rank, None for an unscored
    level such as 不了解) are not part of the layout; they are read with it for
    the analysis, which needs them and would otherwise query again.
    """

    question_id: int
    word: int
    shift: int
    bits: int
    level_ids: tuple[int, ...]  # by rank: field value r means level_ids[r - 1]
    dimension: tuple[str, str] | None = None
    scores: tuple[float | None, ...] = ()

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1


@dataclass(frozen=True)
class Layout:
    """The scale questions of one questionnaire version, packed (module docstring)."""

    questionnaire_id: int
    slots: tuple[Slot, ...]
    words: int  # 63-bit words the fields take (1 for a packed version)
    field_bits: int  # bits of word 0 the fields take (all of them when packed)
    check: int | None  # None: the version is not packed

    @property
    def packed(self) -> bool:
        return self.check is not None

    @property
    def field_mask(self) -> int:
        return (1 << self.field_bits) - 1

    def pack(self, answers: Iterable[tuple[int, int | None]]) -> int | None:
        """The pattern of a response's (question id, level id) answers; answers
        without a level (options, texts) are ignored. None when the version is
        not packed, or an answer is not one this layout can hold."""
        if self.check is None:
            return None
        where = {slot.question_id: slot for slot in self.slots}
        pattern, seen = 0, set()
        for question_id, level_id in answers:
            if level_id is None:
                continue
            slot = where.get(question_id)
            if slot is None or question_id in seen or level_id not in slot.level_ids:
                return None
            seen.add(question_id)
            pattern |= (slot.level_ids.index(level_id) + 1) << slot.shift
        return pattern | (self.check << self.field_bits)

    def valid(self, pattern: int | None) -> bool:
        """Whether ``pattern`` was packed with this layout (it carries its check)."""
        return (
            pattern is not None
            and self.check is not None
            and pattern >> self.field_bits == self.check
        )

    def unpack(self, pattern: int) -> dict[int, int]:
        """question id -> level id of a valid pattern's answers."""
        if not self.valid(pattern):
            raise ValueError("the pattern was not packed with this layout")
        found = {}
        for slot in self.slots:
            value = (pattern >> slot.shift) & slot.mask
            if value:
                found[slot.question_id] = slot.level_ids[value - 1]
        return found


def _check(slots: list[Slot], bits: int) -> int:
    described = ";".join(
        f"{slot.question_id}:{','.join(map(str, slot.level_ids))}" for slot in slots
    )
    digest = hashlib.blake2b(described.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << bits) - 1)


def layout_of(questionnaire_id: int, questions: list[tuple]) -> Layout:
    """The layout from ``(question id, dimension, [(level id, score)])`` in
    question order, each question's levels in rank order."""
    slots: list[Slot] = []
    word, used = 0, 0
    for question_id, dimension, levels in questions:
        bits = max(len(levels).bit_length(), 1)
        if used + bits > WORD_BITS:
            word, used = word + 1, 0
        slots.append(
            Slot(
                question_id=question_id,
                word=word,
                shift=used,
                bits=bits,
                level_ids=tuple(level_id for level_id, _score in levels),
                dimension=dimension,
                scores=tuple(score for _level_id, score in levels),
            )
        )
        used += bits
    words = word + 1
    spare = WORD_BITS - used
    packed = words == 1 and spare >= MIN_CHECK_BITS
    return Layout(
        questionnaire_id=questionnaire_id,
        slots=tuple(slots),
        words=words,
        field_bits=used if words == 1 else WORD_BITS,
        check=_check(slots, spare) if packed else None,
    )


def layouts(questionnaire_ids: Iterable[int]) -> dict[int, Layout]:
    """The layout of each of these questionnaire versions, in one query."""
    from .models import Question

    wanted = sorted(set(questionnaire_ids))
    rows = (
        Question.objects.filter(questionnaire_id__in=wanted, kind=Question.Kind.SCALE)
        .order_by(
            "questionnaire_id",
            "order",
            "id",
            "scale__levels__order",
            "scale__levels__id",
        )
        .values_list(
            "questionnaire_id",
            "id",
            "dimension__code",
            "dimension__title",
            "scale__levels__id",
            "scale__levels__score",
        )
    )
    questions: dict[int, dict[int, tuple]] = defaultdict(dict)
    levels: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for questionnaire_id, question_id, code, title, level_id, score in rows:
        questions[questionnaire_id].setdefault(
            question_id, (code, title) if code is not None else None
        )
        if level_id is not None:
            levels[question_id].append(
                (level_id, None if score is None else float(score))
            )
    return {
        questionnaire_id: layout_of(
            questionnaire_id,
            [
                (question_id, dimension, levels[question_id])
                for question_id, dimension in questions.get(
                    questionnaire_id, {}
                ).items()
            ],
        )
        for questionnaire_id in wanted
    }
