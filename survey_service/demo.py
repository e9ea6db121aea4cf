"""The rectification loop on the demo university, from findings to 销号.

Spring's findings become tasks in every state; the autumn round's re-survey then
closes one task and reopens another, as its statistics decide. This spans the
apps (analysis → rectification), so it lives here, on top of them.

Everything goes through the services a click on a page calls — ``finding_decide``,
``task_create``, ``task_transition``, ``task_update``, ``task_report_progress``,
``evidence_add``, ``extension_request``, ``tasks_resurvey``, ``tasks_escalate`` —
so every task has its real audit trail (``TaskEvent``). Two kinds of past dates:
a task's ``created_at`` and ``due_date`` go in through ``task_create``'s fields,
and supervision is run for a past day through ``tasks_escalate(today=…)``, as the
daily job would have run then. The events themselves carry the time the demo was
loaded: the services stamp now() and the trail is append-only, so it is not
rewritten.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from analysis.models import Finding
from analysis.services import campaign_analyze, finding_decide
from organizations.demo import COMMITTEES
from organizations.models import Unit
from questionnaires.demo import DemoRounds, demo_baseline_publish
from questionnaires.models import Campaign
from questionnaires.pdftext import FONT_PATH
from rectification.evidence import evidence_add
from rectification.models import Task
from rectification.resurvey import tasks_resurvey
from rectification.services import (
    extension_request,
    task_create,
    task_report_progress,
    task_transition,
    task_update,
)
from rectification.supervision import tasks_escalate

# What the office does with a finding, and how far its task has got.
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"  # with a progress report and an evidence file
UNDER_REVIEW = "under_review"  # returned once with a reason, then resubmitted
RETURNED = "returned"  # returned with a reason, being reworked
OVERDUE = "overdue"  # past its due date: red, with an extension request
CLOSED = "closed"  # accepted; the autumn re-survey says IMPROVED → 销号
REOPENED = "reopened"  # accepted; the autumn re-survey says NOT_IMPROVED
UNASSIGNED = "unassigned"  # confirmed, no task yet (待交办)
CANDIDATE = "candidate"  # waiting for the office
NOT_TRUE = "not_true"  # verified 不属实: dismissed
AWAITING = (CLOSED, REOPENED)  # accepted before the autumn round
CREATED_DAYS_AGO = 150


@dataclass(frozen=True)
class Step:
    """One of spring's findings (a unit's weak 维度, questionnaires.demo.WEAK_SPOTS)
    and what happens to it."""

    unit: str
    dimension: str
    outcome: str
    title: str = ""
    due_days: int = 0  # from today
    leader: str = ""
    person: str = ""
    cause: str = ""
    goal: str = ""
    measures: str = ""
    progress: str = ""
    evidence: str = ""  # the evidence file's title; none when empty
    returned: str = ""  # the office's reason for returning it
    comment: str = ""  # the office's comment on the finding


PLAN = [
    Step(
        "W03",
        "办事效率",
        CLOSED,
        title="报销审核周期长，材料不全要来回跑",
        due_days=-80,
        leader="财务处处长 周建国",
        person="报账窗口负责人 刘芳",
        cause="报销材料要求分散在多个通知里；审核集中在月末；单据退回后要重新排队。",
        goal="报销一次办结率达到 90% 以上，师生满意率达到目标。",
        measures="编制报销材料一张清单并公示；推行网上预审，材料不全一次性告知；"
        "每周三下午开设教师报销专场。",
        progress="报销材料清单已在窗口和网站公示，网上预审已上线运行。",
        evidence="报销材料清单及网上预审运行情况",
    ),
    Step(
        "W05",
        "服务态度",
        REOPENED,
        title="高峰期窗口服务态度生硬，答复不耐心",
        due_days=-75,
        leader="后勤保障处副处长 陈志强",
        person="饮食服务中心主任 赵敏",
        cause="就餐高峰人手不足；新进员工未参加服务礼仪培训。",
        goal="就餐高峰期服务规范，师生满意率达到目标。",
        measures="全体员工参加服务礼仪培训；高峰期增派两名引导员；意见箱每周答复。",
        progress="已组织两期服务礼仪培训，高峰期增派引导员。",
    ),
    Step(
        "W01",
        "办事公开",
        IN_PROGRESS,
        title="办事指南公开不全，材料要求前后不一致",
        due_days=30,
        leader="学生工作部部长 孙立",
        person="一站式服务中心主任 黄静",
        cause="各业务办事指南由不同科室各自制定，更新后没有同步公开。",
        goal="全部事项的办事指南统一公开、一次说清。",
        measures="逐项梳理办事指南，统一格式后在大厅和网站公开；每学期复核一次。",
        progress="已梳理 42 项办事指南，修订稿正在征求意见。",
        evidence="办事指南修订稿（征求意见稿）",
    ),
    Step(
        "L01",
        "工作机制好",
        OVERDUE,
        title="师生诉求办理机制不健全，报修响应慢",
        due_days=-35,
        leader="后勤保障处处长 吴刚",
        person="后勤保障处办公室主任 郑伟",
        cause="报修靠电话登记，没有台账和响应时限，办理情况无人跟踪。",
        goal="报修 24 小时内响应，办理情况全程可查。",
        measures="建立报修台账；制定响应时限制度；上线网上报修系统。",
        progress="报修台账已建立，响应时限制度正在制定。",
    ),
    Step(
        "T01",
        "群众反映好",
        ASSIGNED,
        title="联系服务师生不够，反映的问题答复不及时",
        due_days=45,
        leader="土木工程学院党委书记 李强",
        person="土木工程学院党委副书记 王敏",
    ),
    Step(
        "T02",
        "工作业绩好",
        UNDER_REVIEW,
        title="年度重点工作完成情况公开不够",
        due_days=5,
        leader="电气与信息工程学院党委书记 张军",
        person="电气与信息工程学院党政办主任 何丽",
        cause="重点工作只在班子会议上通报，没有向师生公开。",
        goal="年度重点工作进度按季度向师生公开。",
        measures="按季度在学院网站和教职工大会公开重点工作台账。",
        progress="第三季度工作台账已在学院网站公开。",
        evidence="学院年度重点工作台账（第三季度）",
        returned="佐证材料只有会议通知，缺少落实情况；请补充工作台账后再申请验收。",
    ),
    Step(
        "W04",
        "办事效率",
        RETURNED,
        title="图书借还和文献传递办理周期长",
        due_days=20,
        leader="图书馆馆长 徐明",
        person="图书馆总服务台负责人 林芳",
        cause="文献传递需人工审批，借还高峰期只开一个窗口。",
        goal="借还当场办结，文献传递三个工作日内完成。",
        measures="高峰期增开自助借还机；借还业务当场办结。",
        progress="已增设两台自助借还机。",
        returned="整改措施没有覆盖文献传递业务，请补充措施并提供落实情况。",
    ),
    Step(
        "T03",
        "党员队伍好",
        UNASSIGNED,
        comment="经核实属实，拟交办交通运输工程学院党委。",
    ),
    Step("A01", "群众反映好", CANDIDATE),
    Step(
        "W02",
        "承诺兑现",
        NOT_TRUE,
        comment="经核实，窗口已按公示的承诺办理；低评价集中在学籍异动政策本身，"
        "已转教务处做政策解读，不属于窗口整改事项。",
    ),
]


def demo_loop_build(rounds: DemoRounds) -> list[str]:
    """Analyse and publish spring, run its findings through the loop, analyse
    autumn (the re-survey) and act on its verdicts; returns lines to print. Once:
    a second run finds spring's tasks and changes nothing."""
    lines: list[str] = []
    spring, autumn = rounds.spring, rounds.autumn
    if Task.objects.filter(campaign=spring).exists():
        return lines
    with transaction.atomic():
        if not spring.analysis_runs.exists():
            run = campaign_analyze(campaign=spring)
            lines.append(
                f"analysed {spring.title}: "
                f"{run.results.filter(level='unit', flag='RED').count()} RED units, "
                f"{spring.findings.count()} findings"
            )
        demo_baseline_publish(rounds)
        tasks = _spring_tasks(spring, lines)
        if autumn.status == Campaign.Status.CLOSED and not (
            autumn.analysis_runs.exists()
        ):
            run = campaign_analyze(campaign=autumn)
            for task in tasks_resurvey(run=run):
                lines.append(
                    f"re-survey in {autumn.title}: {task.title} → "
                    f"{task.resurvey_verdict}"
                )
        _after_resurvey(tasks)
        _supervise(tasks)
    states = Counter(
        Task.objects.filter(campaign=spring).values_list("state", flat=True)
    )
    site = settings.PUBLIC_BASE_URL
    lines += [
        f"{sum(states.values())} rectification tasks from {spring.title}: "
        + ", ".join(f"{state} {n}" for state, n in sorted(states.items())),
        f"整改台账 (log in): {site}/manage/ledger/",
        f"整改公示 (public): {site}/public/campaigns/{spring.pk}/",
    ]
    return lines


def _office():
    return get_user_model().objects.get(username="leader")


def _manager_of(unit: Unit):
    """The demo manager of the unit's 二级党组织."""
    committee = next(
        u for u in [unit, *unit.ancestors()] if u.kind == Unit.Kind.COMMITTEE
    )
    username = next(user for code, _n, _c, user in COMMITTEES if code == committee.code)
    return get_user_model().objects.get(username=username)


def _finding(spring: Campaign, step: Step) -> Finding | None:
    return (
        Finding.objects.filter(
            campaign=spring,
            unit__code=step.unit,
            trigger=Finding.Trigger.STATISTICAL,
            dimension_title=step.dimension,
        )
        .select_related("unit")
        .first()
    )


def _spring_tasks(spring: Campaign, lines: list[str]) -> dict[str, Task]:
    """Decide spring's findings and take each task as far as its step says."""
    office, today = _office(), timezone.localdate()
    tasks: dict[str, Task] = {}
    for step in PLAN:
        finding = _finding(spring, step)
        if finding is None:
            # Few answers: the statistics did not flag this weak spot.
            lines.append(f"no finding for {step.unit} {step.dimension}: skipped")
            continue
        if step.outcome == CANDIDATE:
            continue
        finding_decide(
            finding=finding,
            user=office,
            confirm=step.outcome != NOT_TRUE,
            comment=step.comment,
            verification=Finding.Verification.FALSE
            if step.outcome == NOT_TRUE
            else Finding.Verification.TRUE,
        )
        if step.outcome in (UNASSIGNED, NOT_TRUE):
            continue
        tasks[step.outcome] = _task(finding, step, office=office, today=today)
    return tasks


def _task(finding: Finding, step: Step, *, office, today: date) -> Task:
    manager = _manager_of(finding.unit)
    # Created soon after spring's round closed (170 days ago).
    created = today - timedelta(days=CREATED_DAYS_AGO)
    task = task_create(
        user=office,
        finding=finding,
        fields={
            "title": step.title,
            "responsible_leader": step.leader,
            "responsible_person": step.person,
            "task_type": Task.Type.DEADLINE,
            "due_date": today + timedelta(days=step.due_days),
            "created_at": timezone.make_aware(datetime.combine(created, time(9))),
        },
    )
    task = task_transition(task=task, action="verify", user=office)
    task = task_transition(task=task, action="assign", user=office)
    if step.outcome == ASSIGNED:
        return task
    task = task_transition(
        task=task,
        action="submit_plan",
        user=manager,
        fields={
            "cause_analysis": step.cause,
            "goal": step.goal,
            "measures": step.measures,
        },
    )
    task_report_progress(task=task, user=manager, text=step.progress)
    if step.evidence:
        evidence_add(task=task, user=manager, upload=_evidence_pdf(task, step))
    if step.outcome == OVERDUE:
        extension_request(
            task=task,
            user=manager,
            reason="网上报修系统需与供应商联调，预计一个月内上线。",
            new_due_date=today + timedelta(days=25),
        )
    if step.outcome in (IN_PROGRESS, OVERDUE):
        return task
    task = task_transition(task=task, action="request_acceptance", user=manager)
    if step.returned:
        task = task_transition(
            task=task, action="return", user=office, comment=step.returned
        )
        if step.outcome == RETURNED:
            return task
        task = task_transition(task=task, action="request_acceptance", user=manager)
    if step.outcome in AWAITING:
        task = task_transition(task=task, action="accept", user=office)
    return task


def _after_resurvey(tasks: dict[str, Task]) -> None:
    """The office closes what the re-survey says improved, and gives a reopened
    task a new due date. A verdict the statistics did not give is left as it is."""
    office = _office()
    closed = tasks.get(CLOSED)
    if closed is not None:
        closed.refresh_from_db()
        if closed.resurvey_verdict == "IMPROVED":
            tasks[CLOSED] = task_transition(
                task=closed,
                action="close",
                user=office,
                comment="回访测评满意率已改善，同意销号。",
            )
    reopened = tasks.get(REOPENED)
    if reopened is not None:
        reopened.refresh_from_db()
        if reopened.state == Task.State.IN_PROGRESS:
            tasks[REOPENED] = task_update(
                task=reopened,
                user=office,
                fields={"due_date": timezone.localdate() + timedelta(days=45)},
                comment="回访测评未改善，重新整改，完成时限相应调整。",
            )


def _supervise(tasks: dict[str, Task]) -> None:
    """The daily supervision: on the day after the overdue task's due date (it
    turned red then) and today (red for more than 30 days: a 约谈 candidate)."""
    overdue = tasks.get(OVERDUE)
    if overdue is not None:
        tasks_escalate(today=overdue.due_date + timedelta(days=1))
    tasks_escalate()


# --- Evidence -------------------------------------------------------------------

FONT = "DemoEvidenceFont"


def _evidence_pdf(task: Task, step: Step) -> SimpleUploadedFile:
    """A one-page PDF, as a unit would scan or export it, made with reportlab."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_PATH), subfontIndex=0))
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, initialFontName=FONT)
    pdf.setTitle(step.evidence)
    width, height = A4
    pdf.setFont(FONT, 18)
    pdf.drawCentredString(width / 2, height - 3 * cm, step.evidence)
    pdf.setFont(FONT, 11)
    y = height - 5 * cm
    for label, text in (
        ("整改事项", task.title),
        ("牵头单位", task.lead_unit.name),
        ("责任人", task.responsible_person),
        ("整改措施", step.measures),
        ("落实情况", step.progress),
        ("报送日期", f"{timezone.localdate():%Y年%m月%d日}"),
    ):
        for line in _wrapped(f"{label}：{text}", 40):
            pdf.drawString(2.5 * cm, y, line)
            y -= 0.7 * cm
        y -= 0.3 * cm
    pdf.showPage()
    pdf.save()
    return SimpleUploadedFile(
        f"{step.evidence}.pdf", buffer.getvalue(), content_type="application/pdf"
    )


def _wrapped(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]
