"""Analysing a closed round of 10k / 100k (/ 1M) responses against the bare GROUP BY.

The round (200 points: 20 党委, 170 党支部, 10 服务窗口, built-in questionnaires) is
made through the services in a child process; the responses and answers are then
generated inside PostgreSQL (``INSERT … SELECT generate_series``), each response
with its answer pattern packed in SQL with the layouts questionnaires.patterns
gives (as the pool stores it), grown in place from one size to the next, and the
tables ANALYZEd.

Each answer's level comes from a per-response latent satisfaction (so items of a
dimension correlate and α is meaningful), a per-unit shift (a few units are
clearly worse) and per-item noise; about 4% of the responses give one level to
every item (straight-lining), 3% leave a comment, every window response answers
its single and multiple choice questions.

Figures per size:
- ``campaign_analyze`` seconds, timed in a child process that has already
  imported Django and connected (only the call is timed), against the bare
  ``GROUP BY (point, question, level)`` over the same rows, run on a psycopg
  connection like the service's;
- its parts, timed in the same runs: the counting pass (``campaign_counts``),
  the statistics (``compute_statistics``), writing the result rows, the comment
  themes, and the rest;
- the database side alone (``campaign_counts`` + ``round_quality``: the GROUP BY
  over the stored answer patterns and the small grouped queries), against the
  same baseline; the run fails if any point had to be counted from its answers;
- the whole ``manage.py analyze_campaign`` wall time against the same baseline;
- peak MB of that process (goal < 500 MB at the largest size);
- seconds per 100k responses (growth), reported.

Run by hand: ``python -m bench analysis`` (quick: 10k and 100k) or
``python -m bench analysis --full`` (10k, 100k, 1M; generating 1M takes minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from .common import ROOT, Context, Figure, alternate, measure_process, service_env

SUITE = "analysis"
QUICK_SIZES = (10_000, 100_000)
FULL_SIZES = (10_000, 100_000, 1_000_000)

# --- The child side: python -m bench.analysis setup | analyze <campaign> ---------


def _setup() -> dict:
    """A closed round over 200 units of a small tree, through the services."""
    from datetime import timedelta

    from django.utils import timezone

    from organizations.models import Unit
    from questionnaires.models import Campaign, CampaignQuestionnaire, Questionnaire
    from questionnaires.services import campaign_close, campaign_open

    school = Unit.objects.create(code="S", name="基准大学", kind=Unit.Kind.SCHOOL)
    categories = ["teaching", "administration", "logistics"]
    branch_categories = ["staff", "student"]
    committees = Unit.objects.bulk_create(
        Unit(
            code=f"C{i:02d}",
            name=f"第{i + 1}学院党委",
            kind=Unit.Kind.COMMITTEE,
            category=categories[i % len(categories)],
            parent=school,
        )
        for i in range(20)
    )
    Unit.objects.bulk_create(
        Unit(
            code=f"C{i % 20:02d}-B{i:03d}",
            name=f"第{i + 1}党支部",
            kind=Unit.Kind.BRANCH,
            category=branch_categories[i % 2],
            parent=committees[i % 20],
        )
        for i in range(170)
    )
    Unit.objects.bulk_create(
        Unit(
            code=f"C{i:02d}-W",
            name=f"第{i + 1}服务窗口",
            kind=Unit.Kind.WINDOW,
            parent=committees[i],
        )
        for i in range(10)
    )
    now = timezone.now()
    campaign = Campaign.objects.create(
        organizer=school,
        title="基准轮次",
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=1),
    )
    for kind, key in (
        ("committee", "wuhao-committee"),
        ("branch", "wuhao-branch"),
        ("window", "window"),
    ):
        CampaignQuestionnaire.objects.create(
            campaign=campaign,
            unit_kind=kind,
            questionnaire=Questionnaire.objects.published().get(key=key, version=1),
        )
    campaign_open(campaign=campaign)
    campaign_close(campaign=campaign)
    return {"campaign": campaign.pk, "layout": _pattern_layout(campaign)}


def _pattern_layout(campaign) -> dict:
    """The round's pattern layouts (questionnaires.patterns) as the generator's
    SQL uses them: per version the bits above the fields (its check), per
    question its shift, per level its rank."""
    from questionnaires.patterns import layouts

    found = layouts(campaign.points.values_list("questionnaire_id", flat=True))
    return {
        "versions": [
            [qid, None if lay.check is None else lay.check << lay.field_bits]
            for qid, lay in found.items()
        ],
        "questions": [
            [slot.question_id, slot.shift]
            for lay in found.values()
            for slot in lay.slots
        ],
        "levels": sorted(
            {
                (level_id, rank)
                for lay in found.values()
                for slot in lay.slots
                for rank, level_id in enumerate(slot.level_ids, start=1)
            }
        ),
    }


# The parts of campaign_analyze timed apart (module attribute of analysis.services
# -> name in the breakdown); the rest is what the whole run took besides them.
PARTS = {
    "campaign_counts": "counting",
    "compute_statistics": "statistics",
    "bulk_insert": "writing",
    "_theme_findings": "themes",
}


def _analyze(campaign_id: int, *, warm: bool = False) -> dict:
    """Time campaign_analyze alone, in a process that has imported and connected,
    and its parts, each wrapped in a timer (microseconds of overhead).

    ``warm``: in a process that has also loaded the comment themes' models
    (jieba's dictionaries, about 0.7 s), as a web worker has after its first
    analysis; otherwise the run loads them, in a thread beside the counting."""
    from django.db import connection

    from analysis import services, themes
    from questionnaires.models import Campaign

    if warm:
        themes.prepare()

    spent = dict.fromkeys(PARTS.values(), 0.0)

    def timer(function, name):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return timed

    for attribute, name in PARTS.items():
        setattr(services, attribute, timer(getattr(services, attribute), name))
    campaign = Campaign.objects.select_related("organizer").get(pk=campaign_id)
    connection.ensure_connection()
    start = time.perf_counter()
    run = services.campaign_analyze(campaign=campaign)
    seconds = time.perf_counter() - start
    spent["rest"] = seconds - sum(spent.values())
    return {"seconds": seconds, "responses": run.n_responses, "parts": spent}


def _counts(campaign_id: int) -> dict:
    """Time the database side alone: the one pass over the answers (levels,
    α and straight-lining patterns) and the small grouped queries."""
    from django.db import connection

    from analysis.aggregate import campaign_counts
    from analysis.quality import round_quality

    connection.ensure_connection()
    start = time.perf_counter()
    counts = campaign_counts(campaign_id)
    round_quality(counts.patterns)
    return {
        "seconds": time.perf_counter() - start,
        "patterns": int(len(counts.patterns.rows)),
        "from_answers": len(counts.patterns.from_answers),
    }


def _child(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "setup":
        print(json.dumps(_setup()))
    elif argv[0] == "analyze":
        print(json.dumps(_analyze(int(argv[1]))))
    elif argv[0] == "analyze-warm":
        print(json.dumps(_analyze(int(argv[1]), warm=True)))
    elif argv[0] == "counts":
        print(json.dumps(_counts(int(argv[1]))))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}")


def _run_child(url: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.analysis", *args],
        cwd=ROOT,
        env=service_env(url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.analysis {args!r} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Data generated inside PostgreSQL -------------------------------------------

# Levels per scale from the best down; the latent u in [0, 1) picks a level
# through these cumulative shares (a skew like a real round: mostly satisfied).
GENERATE = """
CREATE TEMP TABLE bench_points AS
SELECT row_number() OVER (ORDER BY p.id) - 1 AS i, p.id, p.questionnaire_id,
       -- a few units clearly worse: they shift everyone's latent satisfaction down
       CASE WHEN p.id % 9 = 0 THEN 0.25 ELSE 0.0 END AS shift
FROM questionnaires_collectionpoint p WHERE p.campaign_id = %(campaign)s;

CREATE TEMP TABLE bench_levels AS
SELECT l.scale_id, l.id AS level_id,
       coalesce(sum(1) OVER w - 1, 0) AS rank,
       count(*) OVER (PARTITION BY l.scale_id) AS levels
FROM questionnaires_scalelevel l
WINDOW w AS (PARTITION BY l.scale_id ORDER BY l."order", l.id);

CREATE TEMP TABLE bench_new AS
SELECT gen_random_uuid() AS id, p.id AS point_id, p.questionnaire_id,
       least(0.999, power(random(), 2.5) * 0.8 + p.shift * random()) AS u,
       random() < 0.04 AS straight, random() < 0.03 AS comment
FROM (
    -- unequal unit sizes: some points get several times the responses of others
    SELECT floor(power(random(), 1.6) * (SELECT count(*) FROM bench_points))::int AS i
    FROM generate_series(1, %(count)s) OFFSET 0
) g
JOIN bench_points p ON p.i = g.i;

-- Scale answers: the response's latent plus item noise; 不了解 (the last level of
-- three_dk) now and then; a straight-liner gives its first pick everywhere.
CREATE TEMP TABLE bench_scale AS
SELECT gen_random_uuid() AS id, r.id AS response_id, r.point_id, q.id AS question_id,
       lv.level_id
FROM bench_new r
JOIN questionnaires_question q
  ON q.questionnaire_id = r.questionnaire_id AND q.kind = 'scale'
CROSS JOIN LATERAL (
    SELECT CASE WHEN r.straight THEN r.u
                ELSE least(0.999, greatest(0.0, r.u + (random() - 0.5) * 0.3)) END AS x,
           random() AS dk
) pick
JOIN bench_levels lv ON lv.scale_id = q.scale_id AND lv.rank = (
    CASE WHEN q.scale_id = (SELECT id FROM questionnaires_scale WHERE key = 'three_dk')
              AND pick.dk < 0.03 AND NOT r.straight
         THEN lv.levels - 1
         ELSE floor(power(pick.x, 1.3) * (lv.levels - CASE WHEN q.scale_id = (
                  SELECT id FROM questionnaires_scale WHERE key = 'three_dk')
                  THEN 1 ELSE 0 END))
    END);

-- Each response with its answer pattern, as the pool writes it
-- (questionnaires.patterns: the layout's check above each field's rank).
INSERT INTO questionnaires_response (id, point_id, questionnaire_id, submitted_on,
                                     answer_pattern)
SELECT r.id, r.point_id, r.questionnaire_id, current_date - (random() * 9)::int,
       v.base | coalesce(p.fields, 0)
FROM bench_new r
JOIN (VALUES %(versions)s) v (questionnaire_id, base)
  ON v.questionnaire_id = r.questionnaire_id
LEFT JOIN (
    SELECT s.response_id, bit_or(l.rank::bigint << q.shift) AS fields
    FROM bench_scale s
    JOIN (VALUES %(questions)s) q (question_id, shift) USING (question_id)
    JOIN (VALUES %(levels)s) l (level_id, rank) USING (level_id)
    GROUP BY s.response_id
) p ON p.response_id = r.id;

INSERT INTO questionnaires_answer (id, response_id, point_id, question_id, level_id,
                                   option_id, text)
SELECT id, response_id, point_id, question_id, level_id, NULL, ''
FROM bench_scale;

-- Options: every window response picks one 办结 option and one or two 改进 options.
INSERT INTO questionnaires_answer (id, response_id, point_id, question_id, level_id,
                                   option_id, text)
SELECT gen_random_uuid(), r.id, r.point_id, o.question_id, NULL, o.id, ''
FROM bench_new r
JOIN questionnaires_question q
  ON q.questionnaire_id = r.questionnaire_id AND q.kind IN ('single', 'multiple')
JOIN LATERAL (
    SELECT o.id, o.question_id FROM questionnaires_option o
    WHERE o.question_id = q.id
    ORDER BY random() + 0 * length(r.id::text)
    LIMIT CASE WHEN q.kind = 'single' THEN 1 ELSE 1 + (random() < 0.4)::int END
) o ON true;

-- Comments from 3% of the responses.
INSERT INTO questionnaires_answer (id, response_id, point_id, question_id, level_id,
                                   option_id, text)
SELECT gen_random_uuid(), r.id, r.point_id, q.id, NULL, NULL,
       (ARRAY['希望加强与师生的沟通，多听取意见建议',
              '办事流程繁琐，等候时间太长，希望改进',
              '支部活动形式单一，学习流于形式',
              '服务态度很好，工作认真负责',
              '信息公开不够及时，通知经常很晚才发'])[1 + floor(random() * 5)::int]
FROM bench_new r
JOIN questionnaires_question q
  ON q.questionnaire_id = r.questionnaire_id AND q.kind = 'text'
WHERE r.comment;
"""


def _values(rows: list) -> str:
    """Integer rows as the text of a VALUES list (NULL for None)."""
    return ", ".join(
        "(" + ", ".join("NULL::bigint" if v is None else str(int(v)) for v in row) + ")"
        for row in rows
    )


def _generate(url: str, campaign_id: int, count: int, layout: dict) -> None:
    import psycopg

    sql = GENERATE
    for name, value in (
        ("campaign", str(int(campaign_id))),
        ("count", str(int(count))),
        ("versions", _values(layout["versions"])),
        ("questions", _values(layout["questions"])),
        ("levels", _values(layout["levels"])),
    ):
        sql = sql.replace(f"%({name})s", value)
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(sql)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        # As autovacuum would leave them after a round: visibility map set (the
        # count index is read index-only), statistics of every table current.
        conn.execute("VACUUM ANALYZE questionnaires_response")
        conn.execute("VACUUM ANALYZE questionnaires_answer")
        conn.execute("ANALYZE")


BARE = """
SELECT a.point_id, a.question_id, a.level_id, count(*)
FROM questionnaires_answer a
JOIN questionnaires_collectionpoint p ON p.id = a.point_id
WHERE p.campaign_id = %s AND a.level_id IS NOT NULL
GROUP BY a.point_id, a.question_id, a.level_id
"""


def _bare(url: str, campaign_id: int) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SELECT 1")
        start = time.perf_counter()
        conn.execute(BARE, (campaign_id,)).fetchall()
        return time.perf_counter() - start


def run(ctx: Context) -> list[Figure]:
    sizes = FULL_SIZES if ctx.full else QUICK_SIZES
    url = ctx.fresh_database(SUITE)
    env = service_env(url)
    made_round = _run_child(url, "setup")
    campaign_id = made_round["campaign"]
    figures: list[Figure] = []
    made = 0
    growth: list[float] = []
    largest = sizes[-1]
    for size in sizes:
        ctx.log(f"analysis: generating {size - made} responses (to {size})")
        started = time.perf_counter()
        _generate(url, campaign_id, size - made, made_round["layout"])
        made = size
        ctx.log(f"analysis: generated in {time.perf_counter() - started:.1f} s")
        label = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}M"
        _bare(url, campaign_id)  # warm the cache for both sides alike
        analysed: list[dict] = []

        def analyse(analysed: list = analysed) -> float:
            analysed.append(_run_child(url, "analyze-warm", str(campaign_id)))
            return analysed[-1]["seconds"]

        ours, theirs = alternate(ctx.repeats, analyse, lambda: _bare(url, campaign_id))
        figures.append(
            Figure(
                SUITE,
                f"campaign_analyze, {label} responses",
                "s",
                ours,
                theirs,
                "GROUP BY (point, question, level)",
                ("ratio<=", 2.0),
                notes="in a worker that has loaded the theme models (as after its"
                " first analysis); the parts below are from these runs",
            )
        )
        cold = [
            _run_child(url, "analyze", str(campaign_id))["seconds"]
            for _ in range(ctx.repeats)
        ]
        figures.append(
            Figure(
                SUITE,
                f"campaign_analyze, {label} responses, first in a new process",
                "s",
                cold,
                theirs,
                "GROUP BY (point, question, level)",
                None,
                notes="loads the theme models (about 0.7 s) in a thread beside the"
                " counting",
            )
        )
        growth.append(sorted(ours)[len(ours) // 2] / (size / 100_000))
        for name in [*PARTS.values(), "rest"]:
            figures.append(
                Figure(
                    SUITE,
                    f"campaign_analyze, {label} responses: {name}",
                    "s",
                    [found["parts"][name] for found in analysed],
                    theirs,
                    "GROUP BY (point, question, level)",
                    None,
                    notes="part of the row above, timed in the same runs",
                )
            )
        counts_runs: list[dict] = []

        def count(counts_runs: list = counts_runs) -> float:
            counts_runs.append(_run_child(url, "counts", str(campaign_id)))
            return counts_runs[-1]["seconds"]

        counted, bare_again = alternate(
            ctx.repeats, count, lambda: _bare(url, campaign_id)
        )
        if any(found["from_answers"] for found in counts_runs):
            raise RuntimeError(
                "analysis: some points were counted from their answers: the"
                " generated responses lack their stored patterns"
            )
        figures.append(
            Figure(
                SUITE,
                f"campaign_counts + round_quality, {label} responses",
                "s",
                counted,
                bare_again,
                "GROUP BY (point, question, level)",
                None,
                notes="the database side alone: one pass over the answers for levels,"
                " α and straight-lining, plus options, responses and ballots",
            )
        )
        measured = []

        def command(measured: list = measured) -> float:
            done = measure_process(
                [sys.executable, str(ROOT / "manage.py"), "analyze_campaign"]
                + [str(campaign_id)],
                env=env,
            )
            measured.append(done)
            return done.seconds

        whole, bare = alternate(ctx.repeats, command, lambda: _bare(url, campaign_id))
        figures.append(
            Figure(
                SUITE,
                f"manage.py analyze_campaign, {label} responses",
                "s",
                whole,
                bare,
                "GROUP BY (point, question, level)",
                None,
                notes="whole process: start-up, analysis, re-survey verdicts, report",
            )
        )
        figures.append(
            Figure(
                SUITE,
                f"analyze_campaign peak memory, {label} responses",
                "MB",
                [m.peak_mb for m in measured],
                goal=("<=", 500.0) if size == largest else None,
            )
        )
    figures.append(
        Figure(
            SUITE,
            "campaign_analyze seconds per 100k responses, "
            + " → ".join(
                f"{s // 1000}k" if s < 1_000_000 else f"{s // 1_000_000}M"
                for s in sizes
            ),
            "s/100k",
            growth,
            notes="one value per size; linear or better: non-increasing",
        )
    )
    ctx.drop_database(SUITE)
    return figures


if __name__ == "__main__":
    _child(sys.argv[1:])
