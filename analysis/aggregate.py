"""Counting answers in the database: one pass over a round's answers, never row by row.

The scale answers of a round are read once, grouped by response into its *answer
pattern*, and the responses grouped by (point, pattern):

1. Within its questionnaire version each scale question owns a few bits of a
   63-bit word; an answer puts there the rank of its level on the scale plus one
   (0 = not answered). OR-ing a response's answers packs its whole sheet of scale
   answers into one integer (more only for a version of over 21 scale questions).
2. The database returns one row per distinct (point, pattern) with the number of
   responses that gave it: at most one per response, and far fewer in practice
   (most people give most items the same few levels).
3. numpy unpacks the patterns into the counts per (unit, question, level) that the
   statistics start from, and :mod:`analysis.quality` into Cronbach's α and
   straight-lining — the same pass, so the round's answers are scanned once.

Options, responses and ballots per unit are three small grouped queries. Memory
is bounded by the number of distinct patterns (read in chunks), never by answers.
Everything after the counts is numpy arrays (analysis/stats).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.db.models import Count

from questionnaires.models import (
    Answer,
    BallotCode,
    CollectionPoint,
    Question,
    Response,
    ScaleLevel,
)

WORD_BITS = 63  # a signed 64-bit integer on every backend
CHUNK_ROWS = 20_000
WORK_MEM = "64MB"


@dataclass
class PatternItem:
    """One scale question of a version: where its answer sits in a pattern."""

    question_id: int
    questionnaire_id: int
    dimension: tuple[str, str] | None  # (code, title)
    word: int
    shift: int
    level_ids: list[int]  # by rank: field value r means level_ids[r - 1]
    # score by field value (index 0 = no answer); NaN for an unscored level (不了解)
    scores: np.ndarray = field(repr=False)


@dataclass
class AnswerPatterns:
    """The round's responses by (point, answer pattern); see the module docstring.

    ``rows``: one per distinct (point, pattern): the point's index in
    ``point_ids``, the pattern's words, the number of responses. ``versions``:
    questionnaire id -> its items. ``exact`` is False when some response holds
    two answers to one scale question (which the service never stores): such
    patterns are left out of ``rows``, and the level counts come from a plain
    GROUP BY instead.
    """

    bits: int
    words: int
    point_ids: list[int]
    point_version: np.ndarray  # questionnaire id per point index
    rows: np.ndarray  # (patterns × (1 + words + 1)) int64
    versions: dict[int, list[PatternItem]]
    version_keys: dict[int, tuple[str, int]]  # questionnaire id -> (key, version)
    exact: bool = True

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    @property
    def weights(self) -> np.ndarray:
        return self.rows[:, -1]

    def of_version(self, questionnaire_id: int) -> np.ndarray:
        """Rows of the points that answer this version."""
        return self.point_version[self.rows[:, 0]] == questionnaire_id

    def field(self, item: PatternItem, rows: np.ndarray) -> np.ndarray:
        return (rows[:, 1 + item.word] >> item.shift) & self.mask


@dataclass
class CampaignCounts:
    """Counts of one round, keyed by ids; built by :func:`campaign_counts`."""

    # (unit_id, question_id) -> {level_id: n}
    levels: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    # unit_id -> responses
    responses: dict[int, int] = field(default_factory=dict)
    # (unit_id, question_id) -> {option_id: n}
    options: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    # unit_id -> (ballots issued, ballots used), ballot mode only
    ballots: dict[int, tuple[int, int]] = field(default_factory=dict)
    # the scale answers by response pattern, for α and straight-lining
    patterns: AnswerPatterns | None = None


def _layout(campaign_id: int) -> AnswerPatterns:
    points = list(
        CollectionPoint.objects.filter(campaign_id=campaign_id)
        .order_by("pk")
        .values_list(
            "pk", "questionnaire_id", "questionnaire__key", "questionnaire__version"
        )
    )
    version_keys = {qid: (key, version) for _pk, qid, key, version in points}
    questions = list(
        Question.objects.filter(
            questionnaire_id__in=list(version_keys), kind=Question.Kind.SCALE
        )
        .select_related("dimension")
        .order_by("questionnaire_id", "order", "id")
    )
    levels: dict[int, list[ScaleLevel]] = defaultdict(list)
    for level in ScaleLevel.objects.filter(
        scale_id__in={q.scale_id for q in questions}
    ).order_by("scale_id", "order", "id"):
        levels[level.scale_id].append(level)
    widest = max((len(found) for found in levels.values()), default=1)
    bits = widest.bit_length()  # rank + 1 in 1..widest, 0 for no answer
    per_word = WORD_BITS // bits
    versions: dict[int, list[PatternItem]] = defaultdict(list)
    for question in questions:
        position = len(versions[question.questionnaire_id])
        word, slot = divmod(position, per_word)
        scale = levels[question.scale_id]
        scores = np.full(1 << bits, np.nan)
        for rank, level in enumerate(scale, start=1):
            if level.score is not None:
                scores[rank] = float(level.score)
        versions[question.questionnaire_id].append(
            PatternItem(
                question_id=question.pk,
                questionnaire_id=question.questionnaire_id,
                dimension=(question.dimension.code, question.dimension.title)
                if question.dimension
                else None,
                word=word,
                shift=slot * bits,
                level_ids=[level.pk for level in scale],
                scores=scores,
            )
        )
    words = max((-(-len(items) // per_word) for items in versions.values()), default=1)
    return AnswerPatterns(
        bits=bits,
        words=max(words, 1),
        point_ids=[pk for pk, *_ in points],
        point_version=np.array([qid for _pk, qid, *_ in points], dtype=np.int64),
        rows=np.empty((0, words + 2), dtype=np.int64),
        versions=dict(versions),
        version_keys=version_keys,
    )


def _lookup(column: str, mapping: dict[int, int]) -> str:
    """SQL for ``mapping[column]`` (NULL for a key not in it): a constant array
    subscript on PostgreSQL (one step per row), a CASE elsewhere. Keys and values
    are integers of our own making, never input."""
    if connection.vendor == "postgresql":
        base = min(mapping)
        table = [0] * (max(mapping) - base + 1)
        for key, value in mapping.items():
            table[key - base] = int(value)
        values = ",".join(map(str, table))
        return f"('{{{values}}}'::int[])[{column} - {base - 1}]"
    whens = " ".join(f"WHEN {int(k)} THEN {int(v)}" for k, v in mapping.items())
    return f"(CASE {column} {whens} END)"


def answer_patterns(campaign_id: int) -> AnswerPatterns:
    """The round's responses by (point, answer pattern), in one grouped query."""
    patterns = _layout(campaign_id)
    items = [item for found in patterns.versions.values() for item in found]
    if not items:
        return patterns
    words = patterns.words
    word = _lookup("a.question_id", {i.question_id: i.word for i in items})
    shift = _lookup("a.question_id", {i.question_id: i.shift for i in items})
    rank = _lookup(
        "a.level_id",
        {
            level_id: rank
            for i in items
            for rank, level_id in enumerate(i.level_ids, start=1)
        },
    )
    # A response answers a question once, so OR and SUM agree (and SUM(n) below
    # checks it); BIT_OR where the database has it: PostgreSQL's SUM of bigint
    # goes through numeric.
    pack = "BIT_OR" if connection.vendor == "postgresql" else "SUM"
    code = f"(CAST({rank} AS BIGINT) << {shift})"
    packed = ", ".join(
        f"{pack}(CASE WHEN {word} = {w} THEN {code} ELSE 0 END) AS c{w}"
        if words > 1
        else f"{pack}({code}) AS c{w}"
        for w in range(words)
    )
    columns = ", ".join(f"c{w}" for w in range(words))
    # The points' ids in the text: the planner then estimates the rows from the
    # answers' own statistics, whatever it knows of the points table.
    points = ", ".join(str(int(pk)) for pk in patterns.point_ids)
    sql = f"""
        SELECT point_id, {", ".join(f"COALESCE(c{w}, -1)" for w in range(words))},
               COUNT(*), SUM(n)
        FROM (
            SELECT a.point_id AS point_id, COUNT(*) AS n, {packed}
            FROM {Answer._meta.db_table} a
            WHERE a.level_id IS NOT NULL AND a.point_id IN ({points})
            GROUP BY a.response_id, a.point_id
        ) r
        GROUP BY point_id, {columns}
    """
    point_ids = np.array(patterns.point_ids, dtype=np.int64)  # ascending
    chunks = []
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        if connection.vendor == "postgresql":
            # One hash entry per response (~70 bytes): 64 MB holds a million
            # responses in memory instead of spilling batches to disk. For this
            # transaction only.
            with connection.cursor() as setting:
                setting.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute(sql)
        while found := cursor.fetchmany(CHUNK_ROWS):
            block = np.array(found, dtype=np.int64).reshape(len(found), words + 3)
            # The point's index in point_ids, in place of its id.
            block[:, 0] = np.searchsorted(point_ids, block[:, 0])
            chunks.append(block)
    if not chunks:
        return patterns
    rows = np.concatenate(chunks)
    # A pattern is exact when its responses' answers are as many as its fields
    # (a NULL word, -1, comes from an answer outside the layout: never exact).
    fields = np.zeros(len(rows), dtype=np.int64)
    for questionnaire_id, version_items in patterns.versions.items():
        mine = patterns.point_version[rows[:, 0]] == questionnaire_id
        for item in version_items:
            value = (rows[mine, 1 + item.word] >> item.shift) & patterns.mask
            fields[mine] += (value > 0) & (value <= len(item.level_ids))
    exact = (rows[:, 1 : 1 + words] >= 0).all(axis=1) & (
        fields * rows[:, -2] == rows[:, -1]
    )
    patterns.exact = bool(exact.all())
    patterns.rows = rows[exact][:, :-1]  # point, words, responses
    return patterns


def _level_counts(patterns: AnswerPatterns, unit_of: dict[int, int]) -> dict:
    levels: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    rows = patterns.rows
    for questionnaire_id, items in patterns.versions.items():
        mine = rows[patterns.of_version(questionnaire_id)]
        if not len(mine):
            continue
        point_index, weights = mine[:, 0], mine[:, -1]
        for item in items:
            width = len(item.level_ids) + 1
            found = np.bincount(
                point_index * width + patterns.field(item, mine),
                weights=weights,
                minlength=len(patterns.point_ids) * width,
            ).reshape(-1, width)
            for p, r in zip(*np.nonzero(found[:, 1:]), strict=True):
                unit_id = unit_of[patterns.point_ids[p]]
                counts = levels[(unit_id, item.question_id)]
                level_id = item.level_ids[r]
                counts[level_id] = counts.get(level_id, 0) + int(found[p, r + 1])
    return dict(levels)


def campaign_counts(campaign_id: int) -> CampaignCounts:
    """The scale levels from the answer patterns, and three grouped queries:
    chosen options, responses and ballots per unit."""
    counts = CampaignCounts()
    answers = Answer.objects.filter(point__campaign_id=campaign_id).order_by()
    patterns = answer_patterns(campaign_id)
    counts.patterns = patterns
    if patterns.exact:
        unit_of = dict(
            CollectionPoint.objects.filter(campaign_id=campaign_id).values_list(
                "pk", "unit_id"
            )
        )
        counts.levels = _level_counts(patterns, unit_of)
    else:
        level_rows = (
            answers.filter(level__isnull=False)
            .values_list("point__unit_id", "question_id", "level_id")
            .annotate(n=Count("*"))
        )
        levels: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
        for unit_id, question_id, level_id, n in level_rows:
            levels[(unit_id, question_id)][level_id] = n
        counts.levels = dict(levels)

    option_rows = (
        answers.filter(option__isnull=False)
        .values_list("point__unit_id", "question_id", "option_id")
        .annotate(n=Count("*"))
    )
    options: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for unit_id, question_id, option_id, n in option_rows:
        options[(unit_id, question_id)][option_id] = n
    counts.options = dict(options)

    response_rows = (
        Response.objects.filter(point__campaign_id=campaign_id)
        .order_by()
        .values_list("point__unit_id")
        .annotate(n=Count("*"))
    )
    counts.responses = dict(response_rows)

    ballot_rows = (
        BallotCode.objects.filter(point__campaign_id=campaign_id)
        .order_by()
        .values_list("point__unit_id")
        .annotate(issued=Count("*"), used=Count("used_on"))
    )
    counts.ballots = {unit_id: (issued, used) for unit_id, issued, used in ballot_rows}
    return counts


def campaign_points(campaign_id: int) -> list[CollectionPoint]:
    return list(
        # Three levels of parents: Unit.committee_category walks up to the 党委
        # of a window under a branch without a query per unit.
        CollectionPoint.objects.filter(campaign_id=campaign_id).select_related(
            "unit__parent__parent__parent", "questionnaire"
        )
    )
