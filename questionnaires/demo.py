"""Demo rounds on the demo university, and plausible answers through the real service.

Four rounds: a spring round (the baseline, closed and published), an autumn round
that re-surveys spring's rectification (closed), an open winter round in open
mode (posters) and an open autumn round in ballot mode (五个模范, one person one
vote). ``demo_responses_fill`` submits answers with
:func:`questionnaires.services.response_submit`, exactly as the form does, with
some units clearly below the 95% target in one 维度 (``WEAK_SPOTS``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from organizations.demo import SCHOOL
from organizations.models import Unit

from .forms_spec import FormSpec, form_spec
from .models import Campaign, CampaignQuestionnaire, CollectionPoint, Questionnaire
from .services import (
    ballots_issue,
    campaign_close,
    campaign_open,
    campaign_publish,
    commitments_replace,
    response_submit,
)

SPRING = "2026年春季群众满意度测评"
AUTUMN = "2026年秋季群众满意度测评"
WINTER = "2026年冬季群众满意度测评"
BALLOT = "2026年秋季党员“五个模范”评议（一人一票）"

# True satisfaction where the demo makes a unit clearly worse than the good
# default, per round: by 维度 title, or "" for the whole unit (its 总体评价 too).
# Windows and 二级党组织 get the most answers, so their weak spots are flagged
# (RED) even with a few hundred answers; survey_service/demo.py turns spring's
# findings into tasks. The autumn round re-surveys them: the reimbursement
# window's 办事效率 really improved, the canteen's 服务态度 did not.
WEAK_SPOTS: dict[str, dict[str, dict[str, float]]] = {
    SPRING: {
        "W03": {"办事效率": 0.62},
        "W05": {"服务态度": 0.66},
        "W01": {"办事公开": 0.64},
        "W04": {"办事效率": 0.64},
        "W02": {"承诺兑现": 0.66},
        "T01": {"群众反映好": 0.55},
        "T02": {"工作业绩好": 0.55},
        "T03": {"党员队伍好": 0.55},
        "A01": {"群众反映好": 0.55},
        "L01": {"工作机制好": 0.55},
        "A01-S4": {"": 0.82},
        "T03-U1": {"": 0.84},
    },
    AUTUMN: {
        "W03": {"办事效率": 0.985},
        "W05": {"服务态度": 0.62},
        "A01-S4": {"": 0.86},
        "T03-U1": {"": 0.86},
    },
}

COMMITMENTS = {
    "W02": [
        "工作日 8:00–17:30 不间断服务",
        "材料齐全的事项当场办结",
        "一次性告知所需材料",
    ],
    "W03": ["报销单据三个工作日内审核完毕", "每周三下午开设教师报销专场"],
    "A01-S2": ["每学期召开两次师生座谈会", "教学问题一周内答复"],
    "L01-S1": ["每月公示食材采购价格", "师生意见 48 小时内回复"],
}

PRAISE = [
    "工作人员很耐心，解答清楚。",
    "办事效率比以前高了很多，点赞。",
    "支部活动丰富，党员带头作用明显。",
    "老师们很负责，有问题都能及时解决。",
    "服务热情周到，希望继续保持。",
]
COMPLAINTS = [
    "报销流程太繁琐，要跑好几趟，排队时间太长。",
    "窗口工作人员态度冷淡，问问题爱答不理。",
    "食堂饭菜价格偏高，卫生需要加强，高峰期排队太久。",
    "反映的问题迟迟没有回复，希望尽快整改。",
    "办事指南不清楚，材料要求前后不一致，来回折腾。",
    "开放时间太短，中午和下班前经常找不到人。",
    "宿舍报修响应慢，维修人员一周后才来。",
]


@dataclass
class DemoRounds:
    spring: Campaign
    autumn: Campaign
    winter: Campaign
    ballot: Campaign

    def all(self) -> tuple[Campaign, ...]:
        return (self.spring, self.autumn, self.winter, self.ballot)


@dataclass(frozen=True)
class Satisfaction:
    """A unit's true satisfaction in a round: overall, and where a 维度 differs."""

    overall: float
    dimensions: dict[str, float] = field(default_factory=dict)

    def of(self, dimension: str) -> float:
        return self.dimensions.get(dimension, self.overall)


def _questionnaire(key: str) -> Questionnaire:
    return (
        Questionnaire.objects.published().filter(key=key).order_by("-version").first()
    )


def _round(
    title: str,
    *,
    school: Unit,
    opens_days: int,
    closes_days: int,
    mode: str,
    choices: dict[str, str],
    baseline: Campaign | None = None,
) -> Campaign:
    now = timezone.now()
    campaign, created = Campaign.objects.get_or_create(
        title=title,
        defaults={
            "organizer": school,
            "opens_at": now + timedelta(days=opens_days),
            "closes_at": now + timedelta(days=closes_days),
            "access_mode": mode,
            "baseline": baseline,
            "description": "根据学校创先争优活动实施方案，组织师生对各级党组织和服务窗口进行匿名评议。",
        },
    )
    if created:
        for kind, key in choices.items():
            CampaignQuestionnaire.objects.create(
                campaign=campaign, unit_kind=kind, questionnaire=_questionnaire(key)
            )
    return campaign


def demo_rounds_build() -> DemoRounds:
    """Create (once) the four demo rounds; returns them whatever existed before."""
    school = Unit.objects.get(code=SCHOOL[0])
    org_choices = {
        "committee": "wuhao-committee",
        "branch": "wuhao-branch",
        "window": "window",
    }
    spring = _round(
        SPRING,
        school=school,
        opens_days=-200,
        closes_days=-170,
        mode="open",
        choices=org_choices,
    )
    autumn = _round(
        AUTUMN,
        school=school,
        opens_days=-60,
        closes_days=-30,
        mode="open",
        choices=org_choices,
        baseline=spring,
    )
    winter = _round(
        WINTER,
        school=school,
        opens_days=-3,
        closes_days=14,
        mode="open",
        choices=org_choices,
        baseline=autumn,
    )
    ballot = _round(
        BALLOT,
        school=school,
        opens_days=-1,
        closes_days=14,
        mode="ballot",
        choices={"branch": "wugemofan"},
    )
    rounds = DemoRounds(spring, autumn, winter, ballot)
    for campaign in rounds.all():
        if campaign.status == Campaign.Status.DRAFT:
            campaign_open(campaign=campaign)
            campaign.refresh_from_db()
    for campaign in (autumn, winter):
        if campaign.status != Campaign.Status.OPEN:
            continue  # commitments are made while a round is open
        for code, texts in COMMITMENTS.items():
            unit = Unit.objects.get(code=code)
            if not campaign.commitments.filter(unit=unit).exists():
                commitments_replace(campaign=campaign, unit=unit, texts=texts)
    return rounds


def _answers(spec: FormSpec, truth: Satisfaction, rng: random.Random) -> list[dict]:
    """One respondent's answers: each scale item positive with the probability of its
    维度 in ``truth``, shifted by this respondent's mood."""
    shift = rng.gauss(0.0, 0.04)
    mood = min(max(truth.overall + shift, 0.0), 1.0)
    worst = min(max(min(truth.dimensions.values(), default=1.0) + shift, 0.0), mood)
    answers = []
    for question in spec.questions:
        if question.kind == "scale":
            chance = min(max(truth.of(question.dimension) + shift, 0.0), 1.0)
            by_polarity: dict[str, list[str]] = {}
            for level in question.levels:
                by_polarity.setdefault(level.polarity, []).append(level.code)
            draw = rng.random()
            if "dont_know" in by_polarity and draw < 0.04:
                code = by_polarity["dont_know"][0]
            elif not question.required and rng.random() < 0.03:
                continue  # a skipped item
            elif rng.random() < chance:
                positives = by_polarity["positive"]
                code = (
                    positives[0]
                    if rng.random() < 0.7
                    else rng.choice(positives[1:] or positives)
                )
            elif "neutral" in by_polarity and rng.random() < 0.4:
                code = by_polarity["neutral"][0]
            else:
                code = rng.choice(by_polarity["negative"])
            answers.append({"question": question.id, "level": code})
        elif question.kind == "single":
            answers.append(
                {"question": question.id, "options": [rng.choice(question.options).id]}
            )
        elif question.kind == "multiple" and rng.random() < 0.5:
            picked = rng.sample(question.options, k=rng.randint(1, 2))
            answers.append({"question": question.id, "options": [o.id for o in picked]})
        elif question.kind == "text" and rng.random() < 0.15:
            pool = PRAISE if rng.random() < worst else COMPLAINTS
            answers.append({"question": question.id, "text": rng.choice(pool)})
    return answers


def _satisfaction(unit: Unit, campaign: Campaign, rng: random.Random) -> Satisfaction:
    base = 0.955 + rng.random() * 0.035
    if campaign.title == SPRING:
        base -= 0.02  # the spring round was a little worse everywhere
    spots = dict(WEAK_SPOTS.get(campaign.title, {}).get(unit.code, {}))
    return Satisfaction(overall=spots.pop("", base), dimensions=spots)


def demo_responses_fill(
    rounds: DemoRounds, *, per_round: int, seed: int = 2026
) -> dict[str, int]:
    """Submit ``per_round`` answers to each demo round through the real service.

    Rounds that already have responses are left alone, so running it twice adds nothing.
    """
    rng = random.Random(seed)
    stored: dict[str, int] = {}
    for campaign in rounds.all():
        if (
            campaign.status != Campaign.Status.OPEN
            or campaign.points.filter(responses__isnull=False).exists()
        ):
            continue  # filled by an earlier run
        points = list(
            CollectionPoint.objects.filter(campaign=campaign).select_related(
                "unit", "questionnaire", "campaign"
            )
        )
        weights = [
            3
            if p.unit.kind == Unit.Kind.WINDOW
            else 2
            if p.unit.kind == Unit.Kind.COMMITTEE
            else 1
            for p in points
        ]
        # Answers spread over the time the round has been open, as people come by.
        span = min(campaign.closes_at, timezone.now()) - campaign.opens_at
        if campaign.access_mode == Campaign.AccessMode.BALLOT:
            codes = {
                p.pk: ballots_issue(
                    point=p, count=per_round * 3 // (2 * len(points)) + 30
                )
                for p in points
            }
        truths = {p.pk: _satisfaction(p.unit, campaign, rng) for p in points}
        count = 0
        for i in range(per_round):
            point = rng.choices(points, weights=weights)[0]
            ballot = None
            if campaign.access_mode == Campaign.AccessMode.BALLOT:
                if not codes[point.pk]:
                    continue
                ballot = codes[point.pk].pop()
            response_submit(
                point=point,
                answers=_answers(form_spec(point.questionnaire), truths[point.pk], rng),
                nonce=f"demo-{campaign.pk}-{i:08d}-{seed}",
                ballot=ballot,
                client_address=f"demo-{i}",
                now=campaign.opens_at + span * (i + 0.5) / per_round,
            )
            count += 1
        stored[campaign.title] = count
    return stored


def demo_baseline_publish(rounds: DemoRounds) -> None:
    """Publish the spring round's results, as the office would have done by now."""
    if rounds.spring.status == Campaign.Status.CLOSED:
        rounds.spring = campaign_publish(campaign=rounds.spring)


def demo_past_rounds_close(rounds: DemoRounds) -> None:
    """Spring (the baseline) and autumn (its re-survey) are over; they are filled
    (or not) before this."""
    if rounds.spring.status == Campaign.Status.OPEN:
        rounds.spring = campaign_close(campaign=rounds.spring)
    if rounds.autumn.status == Campaign.Status.OPEN:
        rounds.autumn = campaign_close(campaign=rounds.autumn)


def demo_ballots_for_trying(
    rounds: DemoRounds, count: int = 3
) -> tuple[CollectionPoint, list[str]]:
    """A few fresh ballot codes for one unit, so a person can try the ballot path."""
    point = (
        rounds.ballot.points.select_related("unit", "campaign")
        .order_by("unit__sort_order", "unit__code")
        .first()
    )
    return point, ballots_issue(point=point, count=count)
