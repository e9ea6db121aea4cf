"""Province scale on paper: should the answer table be partitioned by round?

Raw SQL in a database of its own (bench_partitioning, not migrated): two copies of
an answers-shaped table with R rounds of M answers each, the same rows in both —

- ``ans_plain``: questionnaires_answer as it is (UUID primary key, the
  (point, question, level) index answer_count_idx, the response index);
- ``ans_part``: the same columns plus ``campaign_id``, PARTITION BY LIST
  (campaign_id), one partition a round, primary key (id, campaign_id), the same two
  indexes on every partition.

Points live in ``bpoint`` (id, campaign_id, unit_id), as CollectionPoint does. The
lower bound for a round's work is the newest round's partition queried directly: a
table holding just that round. Measured side by side, median of ``ctx.repeats``:
the round's GROUP BY (point, question, level) as analysis/aggregate.py sends it, the
per-response grouping of straight-lining, inserting 10 responses' answers, removing
an old round (DELETE + VACUUM against DETACH + DROP), and the sizes.

Quick mode: 5 rounds of 200,000 answers. Full mode: 10 rounds of 2,000,000
(BENCH_PARTITION_ROUNDS / BENCH_PARTITION_ANSWERS override). ``python -m
bench.partitioning [--full]`` runs it alone and prints the figures and the plans.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid

import psycopg

from .common import PG_SERVER, Context, Figure

SUITE = "partitioning"
QUESTIONS = 10  # answers a response: a batch of 10 responses is 100 rows
LEVELS = 5
POINTS_PER_ROUND = 200  # units evaluated in one round (one university)
INSERT_BATCHES = 40  # batches of 100 rows a repetition, for the p50


def sizes(full: bool) -> tuple[int, int]:
    rounds = int(os.environ.get("BENCH_PARTITION_ROUNDS", 10 if full else 5))
    answers = int(
        os.environ.get("BENCH_PARTITION_ANSWERS", 2_000_000 if full else 200_000)
    )
    return rounds, answers


# -- building the data ------------------------------------------------------------

SCHEMA = """
CREATE TABLE bpoint (
    id bigint PRIMARY KEY,
    campaign_id bigint NOT NULL,
    unit_id bigint NOT NULL
);
CREATE TABLE ans_plain (
    id uuid NOT NULL,
    response_id uuid NOT NULL,
    point_id bigint NOT NULL,
    question_id bigint NOT NULL,
    level_id bigint NULL,
    option_id bigint NULL,
    text text NOT NULL
) WITH (autovacuum_enabled = off);
CREATE TABLE ans_part (
    id uuid NOT NULL,
    campaign_id bigint NOT NULL,
    response_id uuid NOT NULL,
    point_id bigint NOT NULL,
    question_id bigint NOT NULL,
    level_id bigint NULL,
    option_id bigint NULL,
    text text NOT NULL
) PARTITION BY LIST (campaign_id);
"""

# Indexes after the load, alike for both tables. On the partitioned table an index
# of the parent is built on every partition.
INDEXES = """
ALTER TABLE ans_plain ADD PRIMARY KEY (id);
CREATE INDEX ans_plain_count_idx ON ans_plain (point_id, question_id, level_id);
CREATE INDEX ans_plain_response_idx ON ans_plain (response_id);
ALTER TABLE ans_part ADD PRIMARY KEY (id, campaign_id);
CREATE INDEX ans_part_count_idx ON ans_part (point_id, question_id, level_id);
CREATE INDEX ans_part_response_idx ON ans_part (response_id);
CREATE INDEX bpoint_campaign_idx ON bpoint (campaign_id);
"""

# One round: responses at random points of the round, each with one answer per
# question, a response's answers together (as the anonymity pool writes them) and
# the round's rows after the previous round's (rounds follow each other in time).
ROUND_ROWS = """
INSERT INTO ans_part (id, campaign_id, response_id, point_id, question_id,
                      level_id, option_id, text)
SELECT gen_random_uuid(), %(round)s, r.id, r.point_id, q, 1 + floor(random() * %(levels)s)::int,
       NULL, ''
FROM (SELECT gen_random_uuid() AS id,
             %(first_point)s + floor(random() * %(points)s)::bigint AS point_id
      FROM generate_series(1, %(responses)s)) AS r
CROSS JOIN generate_series(1, %(questions)s) AS q
"""


def build(conn: psycopg.Connection, rounds: int, answers: int, log) -> float:
    start = time.perf_counter()
    conn.execute("SET synchronous_commit = off")
    conn.execute(SCHEMA)
    for r in range(1, rounds + 1):
        conn.execute(
            f"CREATE TABLE ans_part_r{r} PARTITION OF ans_part FOR VALUES IN ({r})"
            " WITH (autovacuum_enabled = off)"
        )
        first = (r - 1) * POINTS_PER_ROUND + 1
        conn.execute(
            "INSERT INTO bpoint SELECT i, %s, i - %s + 1"
            " FROM generate_series(%s::bigint, %s::bigint) i",
            (r, first, first, first + POINTS_PER_ROUND - 1),
        )
        conn.execute(
            ROUND_ROWS,
            {
                "round": r,
                "levels": LEVELS,
                "first_point": first,
                "points": POINTS_PER_ROUND,
                "responses": answers // QUESTIONS,
                "questions": QUESTIONS,
            },
        )
        # The same rows, in the same order, into the plain table.
        conn.execute(
            "INSERT INTO ans_plain SELECT id, response_id, point_id, question_id,"
            f" level_id, option_id, text FROM ans_part_r{r}"
        )
        log(f"  partitioning: round {r}/{rounds} loaded")
    conn.execute("SET maintenance_work_mem = '256MB'")
    for statement in INDEXES.strip().split(";\n"):
        conn.execute(statement)
    # Autovacuum has visited a closed round by the time it is analysed; do it now so
    # both tables have their statistics and visibility maps (index-only scans need
    # them). Autovacuum stays off on these tables so that nothing else changes them
    # while they are measured.
    conn.execute("VACUUM ANALYZE bpoint")
    conn.execute("ANALYZE ans_part")
    for table in ["ans_plain"] + [f"ans_part_r{r}" for r in range(1, rounds + 1)]:
        all_visible(conn, table)
    return time.perf_counter() - start


def all_visible(conn: psycopg.Connection, table: str) -> None:
    """VACUUM ANALYZE ``table`` until every page is marked all-visible.

    Any snapshot open in this database while VACUUM runs (an auto-analyze of a
    catalog, say) keeps it from marking the newest pages, and index-only scans then
    fetch those from the heap, differently from one run to the next.
    """
    for _ in range(10):
        conn.execute(f"VACUUM ANALYZE {table}")
        pages, visible = conn.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = %s", (table,)
        ).fetchone()
        if visible >= pages:
            return
        time.sleep(1)
    raise RuntimeError(f"{table}: {visible} of {pages} pages all-visible after VACUUM")


# -- the queries --------------------------------------------------------------------

# analysis/aggregate.py campaign_counts, the levels query as the ORM writes it.
GROUP_BY = """
SELECT p.unit_id, a.question_id, a.level_id, COUNT(*)
FROM {table} a JOIN bpoint p ON a.point_id = p.id
WHERE p.campaign_id = {round} AND a.level_id IS NOT NULL {extra}
GROUP BY 1, 2, 3
"""

# analysis/quality.py straight-lining: per response, answers and distinct levels.
PER_RESPONSE = """
SELECT a.point_id
FROM {table} a JOIN bpoint p ON a.point_id = p.id
WHERE p.campaign_id = {round} AND a.level_id IS NOT NULL {extra}
GROUP BY a.response_id, a.point_id
HAVING COUNT(*) >= 5 AND COUNT(DISTINCT a.level_id) = 1
"""


def variants(template: str, newest: int) -> dict[str, str]:
    return {
        # The service's table and query today.
        "plain": template.format(table="ans_plain", round=newest, extra=""),
        # Partitioned, the query unchanged: the round is known only through the join.
        "part_join": template.format(table="ans_part", round=newest, extra=""),
        # Partitioned, the ORM also filtering Answer.campaign_id: pruned at planning.
        "part_pruned": template.format(
            table="ans_part", round=newest, extra=f"AND a.campaign_id = {newest}"
        ),
        # The lower bound: a table holding only that round.
        "one_round": template.format(
            table=f"ans_part_r{newest}", round=newest, extra=""
        ),
    }


def run_query(conn: psycopg.Connection, sql: str) -> float:
    start = time.perf_counter()
    conn.execute(sql).fetchall()
    return time.perf_counter() - start


def plan_summary(conn: psycopg.Connection, sql: str) -> str:
    """Which scans the plan uses, on which relations, and the buffers it touched."""
    plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}").fetchone()[0]
    root = plan[0]["Plan"]
    scans: dict[str, int] = {}
    heap_fetches = 0

    def walk(node):
        nonlocal heap_fetches
        kind = node["Node Type"]
        if "Scan" in kind and node.get("Relation Name", "").startswith("ans"):
            scans[kind] = scans.get(kind, 0) + 1
            heap_fetches += node.get("Heap Fetches", 0)
        if "Join" in kind or kind == "Nested Loop":
            scans[kind] = scans.get(kind, 0) + 1
        for child in node.get("Plans", []):
            walk(child)

    walk(root)
    pages = root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)
    parts = ", ".join(f"{n}× {kind}" for kind, n in sorted(scans.items()))
    fetches = f", {heap_fetches:,} heap fetches" if heap_fetches else ""
    return f"{parts}{fetches}; {pages:,} pages ({pages * 8 / 1024:,.0f} MB) touched"


def measure_queries(
    conn: psycopg.Connection, name: str, template: str, newest: int, repeats: int, log
) -> tuple[dict[str, list[float]], dict[str, str]]:
    queries = variants(template, newest)
    for sql in queries.values():  # warm the caches alike
        run_query(conn, sql)
    times: dict[str, list[float]] = {key: [] for key in queries}
    for i in range(repeats):
        order = list(queries) if i % 2 == 0 else list(reversed(queries))
        for key in order:
            times[key].append(run_query(conn, queries[key]))
    plans = {key: plan_summary(conn, sql) for key, sql in queries.items()}
    for key in queries:
        log(
            f"  partitioning: {name} {key}: "
            f"{statistics.median(times[key]) * 1000:,.0f} ms; {plans[key]}"
        )
    return times, plans


def insert_batch(conn: psycopg.Connection, table: str, newest: int) -> float:
    """10 responses × 10 answers in one transaction, as the pool writes a batch."""
    first = (newest - 1) * POINTS_PER_ROUND + 1
    rows = []
    for r in range(10):
        response = uuid.uuid4()
        point = first + (r * 7) % POINTS_PER_ROUND
        for q in range(1, QUESTIONS + 1):
            rows.append((uuid.uuid4(), response, point, q, 1 + (r + q) % LEVELS))
    if table == "ans_part":
        values = ",".join(["(%s, %s, %s, %s, %s, NULL, '', %s)"] * len(rows))
        params = [v for row in rows for v in (*row, newest)]
        sql = (
            "INSERT INTO ans_part (id, response_id, point_id, question_id, level_id,"
            f" option_id, text, campaign_id) VALUES {values}"
        )
    else:
        values = ",".join(["(%s, %s, %s, %s, %s, NULL, '')"] * len(rows))
        params = [v for row in rows for v in row]
        sql = (
            "INSERT INTO ans_plain (id, response_id, point_id, question_id, level_id,"
            f" option_id, text) VALUES {values}"
        )
    start = time.perf_counter()
    with conn.transaction():
        conn.execute(sql, params)
    return time.perf_counter() - start


def measure_inserts(conn: psycopg.Connection, newest: int, repeats: int):
    plain: list[float] = []
    part: list[float] = []
    for _ in range(repeats):
        a: list[float] = []
        b: list[float] = []
        for i in range(INSERT_BATCHES):
            if i % 2 == 0:
                a.append(insert_batch(conn, "ans_plain", newest))
                b.append(insert_batch(conn, "ans_part", newest))
            else:
                b.append(insert_batch(conn, "ans_part", newest))
                a.append(insert_batch(conn, "ans_plain", newest))
        plain.append(statistics.median(a) * 1000)
        part.append(statistics.median(b) * 1000)
    return plain, part


def wal_bytes(conn: psycopg.Connection, since: str) -> int:
    return conn.execute(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (since,)
    ).fetchone()[0]


def lsn(conn: psycopg.Connection) -> str:
    return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])


def remove_rounds(conn: psycopg.Connection, repeats: int, log):
    """Remove the oldest rounds one at a time, both ways: rounds 1..repeats."""
    out = {key: [] for key in ("delete", "vacuum", "detach", "drop")}
    wal = {"plain": [], "part": []}
    for r in range(1, repeats + 1):
        mark = lsn(conn)
        start = time.perf_counter()
        conn.execute(
            "DELETE FROM ans_plain WHERE point_id IN"
            " (SELECT id FROM bpoint WHERE campaign_id = %s)",
            (r,),
        )
        out["delete"].append(time.perf_counter() - start)
        start = time.perf_counter()
        conn.execute("VACUUM ans_plain")
        out["vacuum"].append(time.perf_counter() - start)
        wal["plain"].append(wal_bytes(conn, mark))

        mark = lsn(conn)
        start = time.perf_counter()
        conn.execute(f"ALTER TABLE ans_part DETACH PARTITION ans_part_r{r}")
        out["detach"].append(time.perf_counter() - start)
        # Here the detached table could be pg_dump'ed to the archive (-t ans_part_rN).
        start = time.perf_counter()
        conn.execute(f"DROP TABLE ans_part_r{r}")
        out["drop"].append(time.perf_counter() - start)
        wal["part"].append(wal_bytes(conn, mark))
        log(
            f"  partitioning: removed round {r}: DELETE {out['delete'][-1]:.2f} s"
            f" + VACUUM {out['vacuum'][-1]:.2f} s ({wal['plain'][-1] / 2**20:,.0f} MB WAL);"
            f" DETACH {out['detach'][-1] * 1000:.1f} ms + DROP {out['drop'][-1] * 1000:.1f} ms"
            f" ({wal['part'][-1] / 2**10:,.0f} KB WAL)"
        )
    return out, wal


def dump_seconds(url: str, table: str) -> tuple[float, int]:
    """pg_dump of one detached round to the archive (custom format, to a pipe)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["pg_dump", "-Fc", "-t", table, url], capture_output=True, check=True
    )
    return time.perf_counter() - start, len(done.stdout)


def table_sizes(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """(heap, indexes) in bytes for each table; the partitions summed."""
    plain = conn.execute(
        "SELECT pg_relation_size('ans_plain'), pg_indexes_size('ans_plain')"
    ).fetchone()
    part = conn.execute(
        "SELECT sum(pg_relation_size(relid)), sum(pg_indexes_size(relid))"
        " FROM pg_partition_tree('ans_part') WHERE isleaf"
    ).fetchone()
    return {
        "plain": (int(plain[0]), int(plain[1])),
        "part": (int(part[0]), int(part[1])),
    }


def covering_index(
    conn: psycopg.Connection, newest: int, shape: str, ctx: Context
) -> Figure:
    """The other way to keep the per-response grouping inside its round on the plain
    table: an index led by the point that holds response and level, so the round's
    rows come from index-only scans. Dropped again after, so that removing a round
    is measured on the schema as it is."""
    start = time.perf_counter()
    conn.execute(
        "CREATE INDEX ans_plain_straight_idx ON ans_plain"
        " (point_id, response_id, level_id)"
    )
    all_visible(conn, "ans_plain")
    built = time.perf_counter() - start
    index_mb = (
        conn.execute("SELECT pg_relation_size('ans_plain_straight_idx')").fetchone()[0]
        / 2**20
    )
    queries = variants(PER_RESPONSE, newest)
    plain, bound = queries["plain"], queries["one_round"]
    run_query(conn, plain)
    times = {"plain": [], "one_round": []}
    for i in range(ctx.repeats):
        for key in ("plain", "one_round") if i % 2 == 0 else ("one_round", "plain"):
            times[key].append(run_query(conn, plain if key == "plain" else bound))
    plan = plan_summary(conn, plain)
    conn.execute("DROP INDEX ans_plain_straight_idx")
    ctx.log(
        f"  partitioning: per_response plain + (point, response, level) index: "
        f"{statistics.median(times['plain']) * 1000:,.0f} ms; {plan}"
    )
    return Figure(
        SUITE,
        "per-response COUNT, COUNT DISTINCT, newest round, plain table of "
        f"{shape} with an index (point, response, level)",
        "s",
        times["plain"],
        times["one_round"],
        "a table holding just that round",
        None,
        f"{plan}; the index: {index_mb:,.0f} MB, built in {built:.1f} s",
    )


# -- the suite ----------------------------------------------------------------------


def run(ctx: Context) -> list[Figure]:
    rounds, answers = sizes(ctx.full)
    shape = f"{rounds} rounds × {answers:,} answers"
    url = ctx.fresh_database(SUITE, migrate=False)
    figures: list[Figure] = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            ctx.log(f"  partitioning: building {shape} twice")
            built = build(conn, rounds, answers, ctx.log)
            ctx.log(f"  partitioning: built in {built:.0f} s")
            newest = rounds
            size = table_sizes(conn)

            for name, template, label in (
                ("group_by", GROUP_BY, "round GROUP BY (point, question, level)"),
                ("per_response", PER_RESPONSE, "per-response COUNT, COUNT DISTINCT"),
            ):
                times, plans = measure_queries(
                    conn, name, template, newest, ctx.repeats, ctx.log
                )
                figures.append(
                    Figure(
                        SUITE,
                        f"{label}, newest round, plain table of {shape}",
                        "s",
                        times["plain"],
                        times["one_round"],
                        "a table holding just that round",
                        None,
                        f"plain: {plans['plain']}. one round: {plans['one_round']}",
                    )
                )
                figures.append(
                    Figure(
                        SUITE,
                        f"{label}, newest round, partitioned by round, "
                        "filtering campaign_id",
                        "s",
                        times["part_pruned"],
                        times["one_round"],
                        "a table holding just that round",
                        None,
                        f"pruned: {plans['part_pruned']}. Without the campaign_id "
                        f"filter (join only): "
                        f"{statistics.median(times['part_join']):.3f} s, "
                        f"{plans['part_join']}",
                    )
                )

            plain_ms, part_ms = measure_inserts(conn, newest, ctx.repeats)
            figures.append(
                Figure(
                    SUITE,
                    "insert 10 responses' answers (100 rows, one transaction), "
                    "partitioned, p50",
                    "ms",
                    part_ms,
                    plain_ms,
                    "the plain table",
                    None,
                    f"{INSERT_BATCHES} batches a repetition, alternating",
                )
            )

            figures.append(covering_index(conn, newest, shape, ctx))

            dump_s, dump_bytes = dump_seconds(url, f"ans_part_r{newest}")
            removed, wal = remove_rounds(conn, ctx.repeats, ctx.log)
            figures.append(
                Figure(
                    SUITE,
                    "remove the oldest round: DELETE + VACUUM (plain) against "
                    "DETACH + DROP (partitioned)",
                    "s",
                    [
                        d + v
                        for d, v in zip(
                            removed["delete"], removed["vacuum"], strict=True
                        )
                    ],
                    [
                        d + p
                        for d, p in zip(removed["detach"], removed["drop"], strict=True)
                    ],
                    "DETACH + DROP PARTITION",
                    None,
                    f"rounds 1–{ctx.repeats} in turn; DELETE "
                    f"{statistics.median(removed['delete']):.2f} s, VACUUM "
                    f"{statistics.median(removed['vacuum']):.2f} s, WAL "
                    f"{statistics.median(wal['plain']) / 2**20:,.0f} MB against "
                    f"{statistics.median(wal['part']) / 2**10:,.0f} KB; the plain "
                    "table keeps its size (the space is reused, not returned). "
                    f"pg_dump -Fc of one detached round: {dump_s:.1f} s, "
                    f"{dump_bytes / 2**20:,.0f} MB",
                )
            )
            figures.append(
                Figure(
                    SUITE,
                    f"table + indexes of {shape}, plain (partitioned beside it)",
                    "MB",
                    [sum(size["plain"]) / 2**20],
                    [sum(size["part"]) / 2**20],
                    "partitioned",
                    None,
                    f"heap {size['plain'][0] / 2**20:,.0f} / "
                    f"{size['part'][0] / 2**20:,.0f} MB, indexes "
                    f"{size['plain'][1] / 2**20:,.0f} / "
                    f"{size['part'][1] / 2**20:,.0f} MB (plain / partitioned; "
                    "the partitioned rows carry campaign_id, 8 bytes more)",
                )
            )
    finally:
        if not os.environ.get("BENCH_PARTITION_KEEP"):
            ctx.drop_database(SUITE)
    return figures


def main() -> None:
    ctx = Context(full="--full" in sys.argv)
    for figure in run(ctx):
        base = figure.baseline_median
        ratio = f" ratio {figure.ratio:.2f}" if figure.ratio else ""
        print(
            f"{figure.name}: {figure.median:,.3f} {figure.unit}"
            f" (baseline {base:,.3f}){ratio}\n    {figure.notes}"
        )
    print(f"server: {PG_SERVER}")


if __name__ == "__main__":
    main()
