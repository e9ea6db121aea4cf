"""Counting a round's scale answers in the database, never row by row.

Each response carries its *answer pattern* (questionnaires.patterns): its scale
answers packed into one integer when it was written. Counting a round is then

1. a GROUP BY (point, pattern) over the round's responses, read from the index
   ``response_pattern_idx``: one row per distinct (point, pattern) with the
   number of responses that gave it, far fewer than responses (most people give
   most items the same few levels);
2. numpy unpacking those patterns into the counts per (unit, question, level)
   that the statistics start from, and :mod:`analysis.quality` into Cronbach's α
   and straight-lining.

A point where some response has no pattern, or one packed with another layout
than its version's current one (a scale's levels edited since), is counted from
its answers instead, all of its responses: the answers grouped by response into
the same patterns, in one query (the pass every point took before patterns were
stored). So are the responses written before them. Options, responses and
ballots per unit are three small grouped queries. Memory is bounded by the
number of distinct patterns (read in chunks), never by answers or responses.
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
    Response,
)
from questionnaires.patterns import Layout, layouts

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
    bits: int
    level_ids: list[int]  # by rank: field value r means level_ids[r - 1]
    # score by field value (index 0 = no answer); NaN for an unscored level (不了解)
    scores: np.ndarray = field(repr=False)

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1


@dataclass
class AnswerPatterns:
    """The round's responses by (point, answer pattern); see the module docstring.

    ``rows``: one per distinct (point, pattern) of the responses with at least
    one scale answer: the point's index in ``point_ids``, the pattern's fields
    (``words`` columns; the check bits removed), the number of responses.
    ``versions``: questionnire id -> its items. ``exact`` is False when some
    response read from its answers holds two answers to one scale question
    (which the service never stores): such patterns are left out of ``rows``,
    and the level counts come from a plain GROUP BY instead. ``from_answers``:
    the points counted from their answers.
    """

    words: int
    point_ids: list[int]
    point_version: np.ndarray  # questionnaire id per point index
    rows: np.ndarray  # (patterns × (1 + words + 1)) int64
    versions: dict[int, list[PatternItem]]
    version_keys: dict[int, tuple[str, int]]  # questionnaire id -> (key, version)
    exact: bool = True
    from_answers: list[int] = field(default_factory=list)
    point_units: list[int] = field(default_factory=list)  # unit id per point index
    # Responses per point index, every one of the round's (None: not counted,
    # when no version has a scale question).
    responses: np.ndarray | None = None

    @property
    def weights(self) -> np.ndarray:
        return self.rows[:, -1]

    def of_version(self, questionnaire_id: int) -> np.ndarray:
        """Rows of the points that answer this version."""
        return self.point_version[self.rows[:, 0]] == questionnaire_id

    def field(self, item: PatternItem, rows: np.ndarray) -> np.ndarray:
        return (rows[:, 1 + item.word] >> item.shift) & item.mask


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


def _items(layout: Layout) -> list[PatternItem]:
    items = []
    for slot in layout.slots:
        scores = np.full(1 << slot.bits, np.nan)
        for rank, score in enumerate(slot.scores, start=1):
            if score is not None:
                scores[rank] = score
        items.append(
            PatternItem(
                question_id=slot.question_id,
                questionnaire_id=layout.questionnaire_id,
                dimension=slot.dimension,
                word=slot.word,
                shift=slot.shift,
                bits=slot.bits,
                level_ids=list(slot.level_ids),
                scores=scores,
            )
        )
    return items


def _layout(campaign_id: int) -> tuple[AnswerPatterns, dict[int, Layout]]:
    points = list(
        CollectionPoint.objects.filter(campaign_id=campaign_id)
        .order_by("pk")
        .values_list(
            "pk",
            "questionnaire_id",
            "questionnaire__key",
            "questionnaire__version",
            "unit_id",
        )
    )
    version_keys = {qid: (key, version) for _pk, qid, key, version, _u in points}
    found = layouts(version_keys)
    versions = {qid: _items(layout) for qid, layout in found.items() if layout.slots}
    words = max((layout.words for layout in found.values()), default=1)
    patterns = AnswerPatterns(
        words=words,
        point_ids=[pk for pk, *_ in points],
        point_version=np.array([qid for _pk, qid, *_ in points], dtype=np.int64),
        rows=np.empty((0, words + 2), dtype=np.int64),
        versions=versions,
        version_keys=version_keys,
        point_units=[unit_id for *_, unit_id in points],
    )
    return patterns, found


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


# PostgreSQL's binary COPY: a 19-byte header (signature, flags, no extension),
# then per row a 16-bit field count and each field as a 32-bit length and its
# bytes, big-endian; a 16-bit -1 ends it.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)


def _copy_rows(cursor, sql: str, columns: int) -> np.ndarray:
    """The rows of ``sql`` (``columns`` bigint columns, none NULL) read as one
    binary COPY straight into numpy: a Python object per value would cost more
    than the query at a million responses."""
    data = bytearray()
    with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)") as copy:
        for chunk in copy:
            data += chunk
    row = np.dtype(
        [("fields", ">i2")]
        + [
            item
            for c in range(columns)
            for item in ((f"l{c}", ">i4"), (f"v{c}", ">i8"))
        ]
    )
    body = len(data) - len(_COPY_HEADER) - 2
    if not data.startswith(_COPY_HEADER) or body % row.itemsize:
        raise ValueError("unexpected COPY output")
    found = np.frombuffer(
        data, dtype=row, offset=len(_COPY_HEADER), count=body // row.itemsize
    )
    if (found["fields"] != columns).any() or any(
        (found[f"l{c}"] != 8).any() for c in range(columns)
    ):
        raise ValueError("COPY output is not bigint columns without NULLs")
    rows = np.empty((len(found), columns), dtype=np.int64)
    for c in range(columns):
        rows[:, c] = found[f"v{c}"]
    return rows


def _fetch(sql: str, columns: int) -> list[np.ndarray]:
    """The query's rows (bigint columns, none NULL) as int64 blocks, in a
    transaction whose hash tables may take ``WORK_MEM``."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # One hash entry per response (~70 bytes) when grouping answers:
            # 64 MB holds a million responses in memory instead of spilling
            # batches to disk. For this transaction only.
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            rows = _copy_rows(cursor, sql, columns)
        return [rows] if len(rows) else []
    chunks = []
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while found := cursor.fetchmany(CHUNK_ROWS):
            chunks.append(np.array(found, dtype=np.int64).reshape(len(found), columns))
    return chunks


def _stored(
    patterns: AnswerPatterns, found: dict[int, Layout], point_ids: np.ndarray
) -> tuple[np.ndarray, set[int]]:
    """The stored patterns of the round's responses, grouped by (point, pattern):
    rows as in :class:`AnswerPatterns`, and the point indexes to count from their
    answers (some response with no pattern, or one of another layout)."""
    points = ", ".join(str(int(pk)) for pk in patterns.point_ids)
    table = Response._meta.db_table
    sql = f"""
        SELECT CAST(point_id AS BIGINT), COALESCE(answer_pattern, -1), COUNT(*)
        FROM {table} WHERE point_id IN ({points})
        GROUP BY point_id, answer_pattern
    """
    chunks = _fetch(sql, 3)
    words = patterns.words
    patterns.responses = np.zeros(len(point_ids), dtype=np.int64)
    if not chunks:
        return np.empty((0, words + 2), dtype=np.int64), set()
    block = np.concatenate(chunks)
    block[:, 0] = np.searchsorted(point_ids, block[:, 0])
    # Every response of the round is in some row: the responses per point.
    patterns.responses = np.bincount(
        block[:, 0], weights=block[:, 2], minlength=len(point_ids)
    ).astype(np.int64)
    # Per point index: its version's field bits and check (-1: not packed).
    field_bits = np.zeros(len(point_ids), dtype=np.int64)
    check = np.full(len(point_ids), -1, dtype=np.int64)
    for index, questionnaire_id in enumerate(patterns.point_version):
        layout = found[int(questionnaire_id)]
        field_bits[index] = layout.field_bits
        if layout.check is not None:
            check[index] = layout.check
    point, pattern = block[:, 0], block[:, 1]
    valid = (pattern >= 0) & (pattern >> field_bits[point] == check[point])
    unpacked = set(np.unique(point[~valid]).tolist())
    fields = pattern & ((np.int64(1) << field_bits[point]) - 1)
    keep = valid & (fields != 0) & ~np.isin(point, list(unpacked))
    rows = np.zeros((int(keep.sum()), words + 2), dtype=np.int64)
    rows[:, 0] = point[keep]
    rows[:, 1] = fields[keep]
    rows[:, -1] = block[keep, 2]
    return rows, unpacked


def _from_answers(
    patterns: AnswerPatterns, point_indexes: list[int], point_ids: np.ndarray
) -> tuple[np.ndarray, bool]:
    """The patterns of these points' responses computed from their answers, in
    one grouped query; and whether every one is exact (see AnswerPatterns)."""
    items = [item for found in patterns.versions.values() for item in found]
    words = patterns.words
    empty = np.empty((0, words + 2), dtype=np.int64)
    if not items or not point_indexes:
        return empty, True
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
    points = ", ".join(str(int(patterns.point_ids[i])) for i in point_indexes)
    sql = f"""
        SELECT CAST(point_id AS BIGINT),
               {", ".join(f"COALESCE(c{w}, -1)" for w in range(words))},
               COUNT(*), CAST(SUM(n) AS BIGINT)
        FROM (
            SELECT a.point_id AS point_id, COUNT(*) AS n, {packed}
            FROM {Answer._meta.db_table} a
            WHERE a.level_id IS NOT NULL AND a.point_id IN ({points})
            GROUP BY a.response_id, a.point_id
        ) r
        GROUP BY point_id, {columns}
    """
    chunks = _fetch(sql, words + 3)
    if not chunks:
        return empty, True
    rows = np.concatenate(chunks)
    # The point's index in point_ids, in place of its id.
    rows[:, 0] = np.searchsorted(point_ids, rows[:, 0])
    # A pattern is exact when its responses' answers are as many as its fields
    # (a NULL word, -1, comes from an answer outside the layout: never exact).
    fields = np.zeros(len(rows), dtype=np.int64)
    for questionnaire_id, version_items in patterns.versions.items():
        mine = patterns.point_version[rows[:, 0]] == questionnaire_id
        for item in version_items:
            value = (rows[mine, 1 + item.word] >> item.shift) & item.mask
            fields[mine] += (value > 0) & (value <= len(item.level_ids))
    exact = (rows[:, 1 : 1 + words] >= 0).all(axis=1) & (
        fields * rows[:, -2] == rows[:, -1]
    )
    return rows[exact][:, :-1], bool(exact.all())


def answer_patterns(campaign_id: int) -> AnswerPatterns:
    """The round's responses by (point, answer pattern): the stored patterns in
    one grouped query, and the points that need it counted from their answers in
    one more."""
    patterns, found = _layout(campaign_id)
    if not patterns.versions:
        return patterns
    point_ids = np.array(patterns.point_ids, dtype=np.int64)  # ascending
    stored, unpacked = _stored(patterns, found, point_ids)
    computed, patterns.exact = _from_answers(patterns, sorted(unpacked), point_ids)
    patterns.rows = np.concatenate([stored, computed])
    patterns.from_answers = [patterns.point_ids[i] for i in sorted(unpacked)]
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
        unit_of = dict(zip(patterns.point_ids, patterns.point_units, strict=True))
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

    if patterns.responses is not None:
        # Counted with the patterns: every response of the round is in a row.
        by_unit: dict[int, int] = defaultdict(int)
        for unit_id, n in zip(patterns.point_units, patterns.responses, strict=True):
            if n:
                by_unit[unit_id] += int(n)
        counts.responses = dict(by_unit)
    else:
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
