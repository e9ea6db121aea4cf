"""The permission matrix, as data: every route and every API operation × every actor.

``MATRIX`` lists, for every URL pattern of the URLconf (the DRF router's routes
and the admin's included) and every operation of the OpenAPI schema, the status
each actor gets for GET and for each unsafe method the route accepts:

    anonymous · manager of A · manager of B · reviewer (whole school) ·
    office of 二级党组织 A (a sub-tree) · the school's office

on one set of real objects: a published round of the school with results, a
confirmed finding and an assigned task of 支部 A-1 (with evidence and an extension
request), a candidate finding, an open round organised by A's office, a draft
round, a ballot round. What each should get is README "Who sees what, when":
someone outside a unit's scope gets 404 (ids reveal nothing) or 403, a read-only
role never writes, a sub-office runs its own sub-tree only.

Rows go by URL name, so a row covers a DRF route's ``.json`` twin too. A route or
an operation without a row fails ``test_every_route_has_a_row`` or
``test_every_schema_operation_has_a_row``: a new route needs its row here; a
method a route accepts but its rows leave out fails
``test_the_rows_list_every_method_a_route_accepts``. Each
unsafe request runs in a savepoint that is rolled back, so cells do not see each
other's writes. A refusal by the service after access has passed (409 for a
move from the wrong state, 400 for a body the office may send but got wrong) is
written as such: it proves the request got past the access check.
"""

from __future__ import annotations

import copy
import io
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

from analysis.models import Finding
from analysis.services import finding_decide
from organizations.models import Membership
from questionnaires.models import Commitment, Scale
from questionnaires.services import ballots_issue, questionnaire_create
from rectification.evidence import evidence_add
from rectification.services import extension_request, task_create, task_transition
from tests.analysis.synthetic import analysed, fill, published
from tests.base import PersonaTestCase, make_user
from tests.questionnaires.helpers import builtin, full_answers, make_round, point_of
from tests.security.matrix import (
    ACTORS,
    API,
    PAGE,
    POST_ONLY_API,
    POST_ONLY_PAGE,
    UNSAFE,
    Case,
    S,
    case,
    every,
    topic_rows,
    topic_setup,
)


def pdf_upload() -> SimpleUploadedFile:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "evidence")
    page.save()
    return SimpleUploadedFile("evidence.pdf", buffer.getvalue(), "application/pdf")


SPEC = {
    "title": "矩阵问卷",
    "target_kind": "branch",
    "dimensions": [],
    "questions": [
        {"code": "overall", "kind": "scale", "text": "总体评价", "scale": "three_dk"}
    ],
}
SCALE = {
    "key": "matrix_scale",
    "name": "矩阵量表",
    "description": "",
    "levels": [
        {"code": "good", "label": "好", "polarity": "positive", "score": "100.00"},
        {"code": "bad", "label": "差", "polarity": "negative", "score": "0.00"},
    ],
}


def campaign_body(c) -> dict[str, Any]:
    return {
        "organizer": c.unit_a.pk,
        "title": "新轮次",
        "opens_at": "2030-03-01T08:00:00+08:00",
        "closes_at": "2030-03-15T18:00:00+08:00",
        "access_mode": "open",
        "questionnaires": {"branch": c.builtin.pk},
    }


def campaign_form(c) -> dict[str, Any]:
    """The round page's form (questionnaires.views.CampaignForm), filled in."""
    return {
        "organizer": c.school.pk,
        "title": "新轮次",
        "opens_at": "2030-03-01T08:00",
        "closes_at": "2030-03-15T18:00",
        "access_mode": "open",
        "target": "95",
        "rate_definition": "broad",
        "min_group_size": "5",
        "min_flag_size": "10",
        "min_comment_responses": "10",
        "min_comments": "3",
        "questionnaire_branch": c.builtin.pk,
    }


def scale_body(c) -> dict[str, Any]:
    from questionnaires.serializers import ScaleSerializer

    return {**ScaleSerializer(c.scale).data, "name": "三级（含不了解）"}


def unit_body(c) -> dict[str, Any]:
    return {
        "code": "A-9",
        "name": "甲学院新支部",
        "kind": "branch",
        "category": "staff",
        "parent": c.unit_a.pk,
    }


# fmt: off
MATRIX: list[Case] = [
    # --- Public: respondents, the board, health ------------------------------------
    case("home", "/", get=every(200)),
    case("healthz", "/healthz", get=every(200)),
    case("respond-point", "/s/{c.point_open.token}/", get=every(200),
         post=every(400), note="an empty form: errors at the questions"),
    case("respond-done", "/s/{c.point_open.token}/done/", get=every(200)),
    # Ballot URLs are moving (the code out of the path): rows for the routes of now.
    case("respond-ballot", "/b/", get=every(200), post=every(200),
         body={"ballot": "{c.ballot_code}"}, note="the code posted: its form"),
    case("respond-ballot-slip", "/b/{c.ballot_code}/", get=every(200),
         post=every(400), note="an empty answer: errors at the questions"),
    case("public-board", "/public/campaigns/{c.round.pk}/", get=every(200)),
    case("public-board", "/public/campaigns/{c.round_a.pk}/", get=every(404),
         note="an open round has no board"),
    # --- Accounts -------------------------------------------------------------------
    # Django's own views: a logged-in user is sent on from the login page whatever
    # the method, and PUT is its POST; set_language redirects on any method.
    case("login", "/accounts/login/", get=every(302, anonymous=200),
         post=every(302, anonymous=200), put=every(302, anonymous=200),
         patch=every(302, anonymous=405), delete=every(302, anonymous=405),
         body={"username": "x", "password": "y"}),
    case("logout", "/accounts/logout/", get=every(405), post=every(302)),
    case("set_language", "/i18n/setlang/", get=every(302), post=every(302),
         put=every(302), patch=every(302), delete=every(302),
         body={"language": "zh-hans", "next": "/"}),
    # --- Organisation pages ---------------------------------------------------------
    case("manage-home", "/manage/", get=PAGE),
    case("manage-units", "/manage/units/", get=PAGE),
    case("manage-unit-import", "/manage/units/import/", get=S(302, 403, 403, 403, 403, 200),
         post=S(302, 403, 403, 403, 403, 400), note="no file: the school's office only"),
    case("manage-unit-export", "/manage/units/export.csv", get=PAGE),
    # --- Round pages ----------------------------------------------------------------
    case("manage-campaigns", "/manage/campaigns/", get=PAGE),
    case("manage-campaign", "/manage/campaigns/{c.round.pk}/", get=PAGE),
    case("manage-campaign", "/manage/campaigns/{c.round_a.pk}/",
         get=S(302, 200, 404, 200, 200, 200)),
    case("manage-campaign-new", "/manage/campaigns/new/",
         get=S(302, 403, 403, 403, 200, 200), post=S(302, 403, 403, 403, 302, 302),
         body=lambda c: {**campaign_form(c), "organizer": c.unit_a.pk},
         note="an office's page; a round of A, which both offices run"),
    case("manage-campaign-new", "/manage/campaigns/new/",
         post=S(302, 403, 403, 403, 200, 302), body=campaign_form,
         note="a sub-office organises no school round: refused at the field"),
    case("manage-campaign-edit", "/manage/campaigns/{c.draft.pk}/edit/",
         get=S(302, 403, 403, 403, 403, 200), post=S(302, 403, 403, 403, 403, 302),
         body=campaign_form,
         note="the school's draft: its office only; a draft round: its "
         "participating units' managers see it (commitments)"),
    case("manage-campaign-edit", "/manage/campaigns/{c.round_a.pk}/edit/",
         get=S(302, 403, 404, 403, 200, 200), post=S(302, 403, 404, 403, 409, 409),
         body=lambda c: {**campaign_form(c), "organizer": c.unit_a.pk},
         note="open: the page says why, no form; a POST is refused"),
    case("manage-campaign-transition",
         "/manage/campaigns/{c.round_a.pk}/transition/close/",
         get=S(302, 403, 404, 403, 200, 200), post=S(302, 403, 404, 403, 302, 302),
         note="GET: the confirmation page"),
    case("manage-campaign-posters", "/manage/campaigns/{c.round_a.pk}/posters.pdf",
         get=S(302, 200, 404, 200, 200, 200)),
    case("manage-commitments",
         "/manage/campaigns/{c.round_a.pk}/units/{c.branch_a.pk}/commitments/",
         get=S(302, 200, 404, 404, 200, 200), post=S(302, 302, 404, 404, 302, 302),
         body={"text": "每周公开办事进度"}),
    case("manage-point-qr-svg", "/manage/points/{c.point_open.pk}/qr.svg",
         get=S(302, 200, 404, 200, 200, 200)),
    case("manage-point-qr-png", "/manage/points/{c.point_open.pk}/qr.png",
         get=S(302, 200, 404, 200, 200, 200)),
    case("manage-point-poster", "/manage/points/{c.point_open.pk}/poster.pdf",
         get=S(302, 200, 404, 200, 200, 200)),
    case("manage-point-ballots", "/manage/points/{c.ballot_point.pk}/ballots/",
         get=POST_ONLY_PAGE, post=S(302, 403, 404, 403, 403, 200),
         body={"count": "1"}, note="the school's ballot round: its office only"),
    # --- Results pages --------------------------------------------------------------
    case("analysis-results", "/manage/campaigns/{c.round.pk}/results/", get=PAGE),
    case("analysis-results", "/manage/campaigns/{c.round_a.pk}/results/",
         get=S(302, 403, 404, 403, 200, 200), note="open: nobody reads figures"),
    case("analysis-unit-report",
         "/manage/campaigns/{c.round.pk}/units/{c.branch_a.pk}/report/",
         get=S(302, 200, 404, 200, 200, 200)),
    case("analysis-unit-report",
         "/manage/campaigns/{c.round.pk}/units/{c.branch_b.pk}/report/",
         get=S(302, 404, 200, 200, 404, 200)),
    case("analysis-analyze", "/manage/campaigns/{c.round.pk}/results/analyze/",
         get=S(302, 403, 403, 403, 403, 200), post=S(302, 403, 403, 403, 403, 302),
         note="GET asks for confirmation"),
    # --- Rectification pages --------------------------------------------------------
    case("evidence-download", "/manage/evidence/{c.evidence.pk}/",
         get=S(302, 200, 404, 200, 200, 200)),
    case("rectification-inbox", "/manage/rectification/", get=PAGE),
    case("rectification-finding-decide", "/manage/findings/{c.candidate.pk}/decide/",
         get=POST_ONLY_PAGE, post=S(302, 404, 404, 404, 404, 302),
         body={"confirm": "on", "verification": "true"}),
    case("rectification-finding-task", "/manage/findings/{c.finding.pk}/task/",
         get=POST_ONLY_PAGE, post=S(302, 404, 404, 404, 404, 302),
         body={"title": "再整改一项", "requirements": "要求", "task_type": "deadline",
               "responsible_person": "王书记", "due_date": "2099-12-31"}),
    case("rectification-task", "/manage/tasks/{c.task.pk}/",
         get=S(302, 200, 404, 200, 200, 200)),
    case("rectification-task", "/manage/tasks/{c.draft_task.pk}/",
         get=S(302, 404, 404, 404, 200, 200), note="a draft is the office's"),
    case("rectification-task", "/manage/tasks/{c.early_task.pk}/",
         get=S(302, 404, 404, 404, 404, 200),
         note="a draft of a round not yet published: the round's office only"),
    case("rectification-task-action",
         "/manage/tasks/{c.task.pk}/actions/submit_plan/", get=POST_ONLY_PAGE,
         post=S(302, 302, 404, 409, 409, 409),
         body={"cause_analysis": "原因", "measures": "措施"}),
    case("rectification-task-progress", "/manage/tasks/{c.task.pk}/progress/",
         get=POST_ONLY_PAGE, post=S(302, 302, 404, 409, 409, 409),
         body={"text": "已整改一半"}),
    case("rectification-task-evidence", "/manage/tasks/{c.task.pk}/evidence/",
         get=POST_ONLY_PAGE, post=S(302, 302, 404, 400, 302, 302),
         body=lambda c: {"file": pdf_upload()}, note="the service refuses: 400"),
    case("rectification-task-extension", "/manage/tasks/{c.task.pk}/extensions/",
         get=POST_ONLY_PAGE, post=S(302, 302, 404, 409, 409, 409),
         body={"reason": "需要更多时间", "new_due_date": "2031-01-31"}),
    case("rectification-extension-decide",
         "/manage/tasks/{c.task.pk}/extensions/{c.extension.pk}/decide/",
         get=POST_ONLY_PAGE, post=S(302, 409, 404, 409, 302, 302),
         body={"approve": "on"}),
    case("rectification-ledger", "/manage/ledger/", get=PAGE),
    case("rectification-ledger-export", "/manage/ledger/export.csv", get=PAGE),
    # --- API: public respondent API -------------------------------------------------
    case("public-point", "/api/v1/public/points/{c.point_open.token}/",
         schema="/api/v1/public/points/{token}/", get=every(200), post=every(201),
         body=lambda c: {"answers": full_answers(c.point_open),
                         "nonce": "matrix-nonce-0000001"}),
    # --- API: organisation ----------------------------------------------------------
    case("unit-list", "/api/v1/units/", schema="/api/v1/units/", get=API,
         post=S(401, 403, 403, 403, 201, 201), body=unit_body),
    case("unit-list", "/api/v1/units/", schema="/api/v1/units/",
         post=S(401, 403, 403, 403, 400, 201),
         body=lambda c: {"code": "C", "name": "丙学院党委", "kind": "committee",
                         "category": "teaching", "parent": c.school.pk},
         note="a sub-office adds no unit outside its sub-tree"),
    case("unit-detail", "/api/v1/units/{c.branch_a.pk}/", schema="/api/v1/units/{id}/",
         get=S(401, 200, 404, 200, 200, 200),
         put=S(401, 403, 403, 403, 200, 200), patch=S(401, 403, 403, 403, 200, 200),
         body=lambda c: {"code": "A-1", "name": "甲学院学生第一党支部",
                         "kind": "branch", "category": "student",
                         "parent": c.unit_a.pk}),
    case("unit-detail", "/api/v1/units/{c.branch_b.pk}/", schema="/api/v1/units/{id}/",
         get=S(401, 404, 200, 200, 404, 200),
         patch=S(401, 403, 403, 403, 404, 200), body={"name": "乙机关教工第一党支部"}),
    case("unit-export-file", "/api/v1/units/export/", schema="/api/v1/units/export/",
         get=API),
    case("unit-import-file", "/api/v1/units/import/", schema="/api/v1/units/import/",
         get=POST_ONLY_API, post=S(401, 403, 403, 403, 403, 400), multipart=True,
         note="no file: the school's office only"),
    # --- API: scales and questionnaires (the school's office writes) ----------------
    case("scale-list", "/api/v1/scales/", schema="/api/v1/scales/", get=API,
         post=S(401, 403, 403, 403, 403, 201), body=SCALE),
    case("scale-detail", "/api/v1/scales/{c.scale.pk}/", schema="/api/v1/scales/{id}/",
         get=API, put=S(401, 403, 403, 403, 403, 200),
         patch=S(401, 403, 403, 403, 403, 200), body=scale_body),
    case("questionnaire-list", "/api/v1/questionnaires/",
         schema="/api/v1/questionnaires/", get=API,
         post=S(401, 403, 403, 403, 403, 201), body={**SPEC, "key": "matrix-new"}),
    case("questionnaire-detail", "/api/v1/questionnaires/{c.draft_questionnaire.pk}/",
         schema="/api/v1/questionnaires/{id}/", get=API,
         put=S(401, 403, 403, 403, 403, 200), delete=S(401, 403, 403, 403, 403, 204),
         body={**SPEC, "key": "matrix-draft"}),
    case("questionnaire-detail", "/api/v1/questionnaires/{c.builtin.pk}/",
         schema="/api/v1/questionnaires/{id}/", get=API,
         delete=S(401, 403, 403, 403, 403, 409), note="published: frozen"),
    case("questionnaire-new-version", "/api/v1/questionnaires/{c.builtin.pk}/new-version/",
         schema="/api/v1/questionnaires/{id}/new-version/", get=POST_ONLY_API,
         post=S(401, 403, 403, 403, 403, 201)),
    case("questionnaire-publish",
         "/api/v1/questionnaires/{c.draft_questionnaire.pk}/publish/",
         schema="/api/v1/questionnaires/{id}/publish/", get=POST_ONLY_API,
         post=S(401, 403, 403, 403, 403, 200)),
    # --- API: rounds, points, commitments -------------------------------------------
    case("campaign-list", "/api/v1/campaigns/", schema="/api/v1/campaigns/", get=API,
         post=S(401, 403, 403, 403, 201, 201), body=campaign_body),
    case("campaign-list", "/api/v1/campaigns/", schema="/api/v1/campaigns/",
         post=S(401, 403, 403, 403, 400, 201),
         body=lambda c: {**campaign_body(c), "organizer": c.school.pk},
         note="a sub-office organises no school round"),
    case("campaign-detail", "/api/v1/campaigns/{c.draft.pk}/",
         schema="/api/v1/campaigns/{id}/", get=S(401, 200, 200, 200, 200, 200),
         patch=S(401, 403, 403, 403, 400, 200), put=S(401, 403, 403, 403, 400, 200),
         body=lambda c: {**campaign_body(c), "organizer": c.school.pk},
         note="a draft round: its participating units' managers see it "
         "(commitments); the sub-office's school organiser is refused at the "
         "field before the round's own check (403 for a valid body)"),
    case("campaign-detail", "/api/v1/campaigns/{c.round_a.pk}/",
         schema="/api/v1/campaigns/{id}/", get=S(401, 200, 404, 200, 200, 200),
         patch=S(401, 403, 403, 403, 400, 400), body={"title": "改名"},
         note="open: no longer editable"),
    case("campaign-open-round", "/api/v1/campaigns/{c.draft.pk}/open/",
         schema="/api/v1/campaigns/{id}/open/", get=POST_ONLY_API,
         post=S(401, 403, 403, 403, 403, 200),
         note="a draft round: its participating units' managers see it "
         "(commitments)"),
    case("campaign-close-round", "/api/v1/campaigns/{c.round_a.pk}/close/",
         schema="/api/v1/campaigns/{id}/close/", get=POST_ONLY_API,
         post=S(401, 403, 403, 403, 200, 200)),
    case("campaign-publish-round", "/api/v1/campaigns/{c.round.pk}/publish/",
         schema="/api/v1/campaigns/{id}/publish/", get=POST_ONLY_API,
         post=S(401, 403, 403, 403, 403, 409), note="already published"),
    case("campaign-points", "/api/v1/campaigns/{c.round_a.pk}/points/",
         schema="/api/v1/campaigns/{campaign_pk}/points/",
         get=S(401, 200, 404, 200, 200, 200)),
    case("campaign-point",
         "/api/v1/campaigns/{c.round_a.pk}/points/{c.point_open.pk}/",
         schema="/api/v1/campaigns/{campaign_pk}/points/{id}/",
         get=S(401, 200, 404, 200, 200, 200)),
    case("campaign-point", "/api/v1/campaigns/{c.round.pk}/points/{c.point_b.pk}/",
         schema="/api/v1/campaigns/{campaign_pk}/points/{id}/",
         get=S(401, 404, 200, 200, 404, 200)),
    case("commitment-list", "/api/v1/commitments/", schema="/api/v1/commitments/",
         get=API, post=S(401, 201, 400, 400, 201, 201),
         body=lambda c: {"campaign": c.round_a.pk, "unit": c.branch_a.pk,
                         "text": "每周公开办事进度"}),
    case("commitment-detail", "/api/v1/commitments/{c.commitment.pk}/",
         schema="/api/v1/commitments/{id}/", get=S(401, 200, 404, 200, 200, 200),
         put=S(401, 200, 404, 404, 200, 200), patch=S(401, 200, 404, 404, 200, 200),
         delete=S(401, 204, 404, 404, 204, 204),
         body=lambda c: {"campaign": c.round_a.pk, "unit": c.branch_a.pk,
                         "text": "每月公开办事进度"}),
    # --- API: results, themes, analysis ---------------------------------------------
    case("campaign-results", "/api/v1/campaigns/{c.round.pk}/results/",
         schema="/api/v1/campaigns/{campaign_pk}/results/", get=API),
    case("campaign-results", "/api/v1/campaigns/{c.round_a.pk}/results/",
         schema="/api/v1/campaigns/{campaign_pk}/results/",
         get=S(401, 403, 404, 403, 403, 403), note="open: nobody reads figures"),
    case("campaign-results-export",
         "/api/v1/campaigns/{c.round.pk}/results/export/?level=unit",
         schema="/api/v1/campaigns/{campaign_pk}/results/export/", get=API),
    case("campaign-results-export", "/api/v1/campaigns/{c.round_a.pk}/results/export/",
         schema="/api/v1/campaigns/{campaign_pk}/results/export/",
         get=S(401, 403, 404, 403, 403, 403)),
    case("campaign-themes",
         "/api/v1/campaigns/{c.round.pk}/themes/?unit={c.branch_a.pk}",
         schema="/api/v1/campaigns/{campaign_pk}/themes/",
         get=S(401, 200, 404, 200, 200, 200)),
    case("campaign-analyze", "/api/v1/campaigns/{c.round.pk}/analyze/",
         schema="/api/v1/campaigns/{campaign_pk}/analyze/", get=POST_ONLY_API,
         post=S(401, 403, 403, 403, 403, 201)),
    # --- API: findings --------------------------------------------------------------
    case("finding-list", "/api/v1/findings/", schema="/api/v1/findings/", get=API),
    case("finding-detail", "/api/v1/findings/{c.finding.pk}/",
         schema="/api/v1/findings/{id}/", get=S(401, 200, 404, 200, 200, 200)),
    case("finding-detail", "/api/v1/findings/{c.candidate.pk}/",
         schema="/api/v1/findings/{id}/", get=S(401, 404, 404, 404, 404, 200),
         note="a candidate is the office's"),
    case("finding-confirm", "/api/v1/findings/{c.candidate.pk}/confirm/",
         schema="/api/v1/findings/{id}/confirm/", get=POST_ONLY_API,
         post=S(401, 404, 404, 404, 404, 200), body={"verification": "true"}),
    case("finding-confirm", "/api/v1/findings/{c.finding.pk}/confirm/",
         schema="/api/v1/findings/{id}/confirm/",
         post=S(401, 403, 404, 403, 403, 409), note="seen, but not theirs to decide"),
    case("finding-dismiss", "/api/v1/findings/{c.candidate.pk}/dismiss/",
         schema="/api/v1/findings/{id}/dismiss/", get=POST_ONLY_API,
         post=S(401, 404, 404, 404, 404, 200), body={"comment": "不属实"}),
    # --- API: tasks -----------------------------------------------------------------
    case("task-list", "/api/v1/tasks/", schema="/api/v1/tasks/", get=API,
         post=S(401, 400, 400, 400, 201, 201),
         body=lambda c: {"title": "检查", "lead_unit": c.branch_a.pk},
         note="only an office of the lead unit: the service refuses others (400)"),
    case("task-list", "/api/v1/tasks/", schema="/api/v1/tasks/",
         post=S(401, 400, 400, 400, 400, 201),
         body=lambda c: {"title": "检查", "lead_unit": c.branch_b.pk},
         note="a sub-office gives no task outside its sub-tree"),
    case("task-detail", "/api/v1/tasks/{c.task.pk}/", schema="/api/v1/tasks/{id}/",
         get=S(401, 200, 404, 200, 200, 200),
         patch=S(401, 200, 404, 409, 400, 400), body={"measures": "每周检查"},
         note="the plan: the lead unit's managers; a field not theirs is 400"),
    case("task-detail", "/api/v1/tasks/{c.task.pk}/", schema="/api/v1/tasks/{id}/",
         patch=S(401, 400, 404, 409, 200, 200), body={"responsible_person": "赵六"},
         note="assignment fields: the office of the lead unit"),
    case("task-detail", "/api/v1/tasks/{c.draft_task.pk}/",
         schema="/api/v1/tasks/{id}/", get=S(401, 404, 404, 404, 200, 200)),
    case("task-detail", "/api/v1/tasks/{c.early_task.pk}/",
         schema="/api/v1/tasks/{id}/", get=S(401, 404, 404, 404, 404, 200),
         patch=S(401, 404, 404, 404, 404, 200), body={"responsible_person": "赵六"},
         note="a draft of a round not yet published: the round's office only"),
    case("task-transitions", "/api/v1/tasks/{c.early_task.pk}/transitions/",
         schema="/api/v1/tasks/{id}/transitions/",
         post=S(401, 404, 404, 404, 404, 200), body={"action": "verify"}),
    case("task-events", "/api/v1/tasks/{c.task.pk}/events/",
         schema="/api/v1/tasks/{id}/events/", get=S(401, 200, 404, 200, 200, 200)),
    case("task-evidence", "/api/v1/tasks/{c.task.pk}/evidence/",
         schema="/api/v1/tasks/{id}/evidence/", get=S(401, 200, 404, 200, 200, 200),
         post=S(401, 201, 404, 400, 201, 201), multipart=True,
         body=lambda c: {"file": pdf_upload()}, note="the service refuses: 400"),
    case("task-extensions", "/api/v1/tasks/{c.task.pk}/extensions/",
         schema="/api/v1/tasks/{id}/extensions/", get=S(401, 200, 404, 200, 200, 200),
         post=S(401, 201, 404, 409, 409, 409),
         body={"reason": "需要更多时间", "new_due_date": "2031-01-31"}),
    case("task-decide-extension",
         "/api/v1/tasks/{c.task.pk}/extensions/{c.extension.pk}/decide/",
         schema="/api/v1/tasks/{id}/extensions/{extension_id}/decide/",
         get=POST_ONLY_API, post=S(401, 409, 404, 409, 200, 200),
         body={"approve": True}),
    case("task-progress", "/api/v1/tasks/{c.task.pk}/progress/",
         schema="/api/v1/tasks/{id}/progress/", get=POST_ONLY_API,
         post=S(401, 201, 404, 409, 409, 409), body={"text": "已整改一半"}),
    case("task-transitions", "/api/v1/tasks/{c.task.pk}/transitions/",
         schema="/api/v1/tasks/{id}/transitions/", get=POST_ONLY_API,
         post=S(401, 200, 404, 409, 409, 409),
         body={"action": "submit_plan",
               "fields": {"cause_analysis": "原因", "measures": "措施"}}),
    case("task-ledger", "/api/v1/tasks/ledger/", schema="/api/v1/tasks/ledger/",
         get=API),
    # --- API: root, schema, docs ----------------------------------------------------
    case("api-root", "/api/v1/", get=API),
    case("schema", "/api/schema/?format=json", get=API),
    case("api-docs", "/api/docs/", get=PAGE),
]
# fmt: on
MATRIX += topic_rows()  # the later pages' rows, one module per topic

# The admin: one row for all its patterns. None of the actors is staff (roles are
# given by Membership, not by is_staff), so every page sends them to its login;
# the login page itself answers everyone. test_admin_scope.py covers staff users.
ADMIN_PREFIX = "admin:"
# name → (statuses, where a 302 leads)
ADMIN_ROWS = {"login": (every(200), ""), "logout": (every(302), "/admin/")}
ADMIN_OTHERWISE = (every(302), "/admin/login/?next=")
ADMIN_ROW = Case("admin", "", {})


# --- Walking the URLconf and the schema --------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # namespaced: "admin:index"; unnamed patterns go by their route
    route: str


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = (
                    f"{namespace}{pattern.namespace}:"
                    if pattern.namespace
                    else namespace
                )
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                name = f"{namespace}{pattern.name}" if pattern.name else route
                found.append(Route(name, route))

    walk(get_resolver().url_patterns, "", "")
    return found


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", *UNSAFE)
    }


def admin_url(route: str) -> str:
    """A concrete URL for an admin route: sample values for its parameters."""
    samples = {"object_id": "1", "app_label": "organizations", "url": "missing/"}
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: samples.get(m[1], "1"), route)
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: samples.get(m[1], "1"), url)
    return "/" + url.replace("^", "").replace("$", "")


# --- The test -----------------------------------------------------------------------


class PermissionMatrixTests(PersonaTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        media = tempfile.TemporaryDirectory(prefix="matrix-media-")
        cls.addClassCleanup(media.cleanup)
        cls.enterClassContext(override_settings(MEDIA_ROOT=media.name))
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.sub_office = make_user("office_a", Membership.Role.OFFICE, cls.unit_a)
        kinds = {"branch": "wuhao-branch"}
        # The school's round, published, with a RED unit A-1.
        cls.round = make_round(cls.school, title="春季", kinds=kinds)
        cls.point_a = point_of(cls.round, cls.branch_a)
        cls.point_b = point_of(cls.round, cls.branch_b)
        fill(
            cls.point_a,
            n=120,
            satisfied=84,
            comments=["办事太慢", "办事效率低", "窗口没人", "办事拖拉"],
        )
        fill(cls.point_b, n=60, satisfied=59)
        analysed(cls.round)
        unit_findings = Finding.objects.filter(campaign=cls.round, unit=cls.branch_a)
        cls.finding = unit_findings.get(dimension_code="", theme_key="")
        cls.candidate = unit_findings.exclude(pk=cls.finding.pk).first()
        assert cls.candidate is not None, "a second finding of A-1 to decide"
        finding_decide(finding=cls.finding, user=cls.leader, confirm=True)
        cls.task = task_create(user=cls.leader, finding=cls.finding, fields={})
        task_transition(task=cls.task, action="verify", user=cls.leader)
        task_transition(
            task=cls.task,
            action="assign",
            user=cls.leader,
            fields={"responsible_person": "王书记", "due_date": date(2030, 12, 31)},
        )
        cls.draft_task = task_create(
            user=cls.leader, finding=cls.finding, fields={"title": "草稿任务"}
        )
        published(cls.round)
        cls.task.refresh_from_db()
        cls.evidence = evidence_add(
            task=cls.task, user=cls.manager_a, upload=pdf_upload()
        )
        cls.extension = extension_request(
            task=cls.task,
            user=cls.manager_a,
            reason="需要更多时间",
            new_due_date=date(2031, 1, 31),
        )
        # The school's autumn round, analysed but not published, with a draft task.
        cls.closed_round = make_round(cls.school, title="秋季", kinds=kinds)
        fill(point_of(cls.closed_round, cls.branch_a), n=40, satisfied=20)
        fill(point_of(cls.closed_round, cls.branch_b), n=40, satisfied=40)
        analysed(cls.closed_round)
        early = Finding.objects.get(
            campaign=cls.closed_round, unit=cls.branch_a, dimension_code=""
        )
        finding_decide(finding=early, user=cls.leader, confirm=True)
        cls.early_task = task_create(user=cls.leader, finding=early, fields={})
        # A round of A's office, open; a draft of the school; a ballot round.
        cls.round_a = make_round(cls.unit_a, title="甲学院轮次", kinds=kinds)
        cls.point_open = point_of(cls.round_a, cls.branch_a)
        cls.commitment = Commitment.objects.create(
            campaign=cls.round_a, unit=cls.branch_a, text="每周公开办事进度"
        )
        cls.draft = make_round(cls.school, title="草稿轮次", open_it=False, kinds=kinds)
        ballot_round = make_round(
            cls.school, title="选票轮次", mode="ballot", kinds=kinds
        )
        cls.ballot_point = point_of(ballot_round, cls.branch_a)
        (cls.ballot_code,) = ballots_issue(point=cls.ballot_point, count=1)
        cls.scale = Scale.objects.get(key="three_dk")
        cls.builtin = builtin("wuhao-branch")
        cls.draft_questionnaire = questionnaire_create(
            spec={**SPEC, "key": "matrix-draft"}
        )
        cls.users = {
            "manager_a": cls.manager_a,
            "manager_b": cls.manager_b,
            "reviewer": cls.reviewer,
            "sub_office": cls.sub_office,
            "office": cls.leader,
        }
        topic_setup(cls)

    def setUp(self) -> None:
        self.clients = {"anonymous": Client()}
        for actor, user in self.users.items():
            self.clients[actor] = client = Client()
            client.force_login(user)

    # --- coverage -------------------------------------------------------------

    def test_every_route_has_a_row(self):
        rows = {row.name for row in MATRIX}
        missing = [
            route
            for route in routes()
            if route.name not in rows
            and not route.name.startswith(ADMIN_PREFIX)
            and not route.route.startswith("admin/")
        ]
        self.assertEqual(missing, [], "routes without a row in MATRIX")
        names = {route.name for route in routes()}
        self.assertEqual(rows - names, set(), "rows for routes that do not exist")

    def test_every_schema_operation_has_a_row(self):
        rows = {(row.schema, method) for row in MATRIX for method in row.methods}
        operations = schema_operations()
        self.assertEqual(
            sorted(operations - rows), [], "operations without a row in MATRIX"
        )
        documented = {
            (row.schema, method)
            for row in MATRIX
            if row.schema
            for method in row.methods
            if not _refused_method(row, method)
        }
        self.assertEqual(
            sorted(documented - operations), [], "rows for undocumented operations"
        )

    def test_every_row_resolves_to_its_route(self):
        for row in MATRIX:
            path = self.url(row).split("?")[0]
            match = resolve(path)
            self.assertEqual(match.view_name, row.name, path)

    def test_the_rows_list_every_method_a_route_accepts(self):
        """A method a route's rows leave out is refused with 405 (to the office,
        who may do most): a route that took it would need its row."""
        listed: dict[str, set[str]] = {}
        first: dict[str, Case] = {}
        for row in MATRIX:
            listed.setdefault(row.name, set()).update(row.methods)
            first.setdefault(row.name, row)
        for name, row in first.items():
            for method in ("get", *UNSAFE):
                if method in listed[name]:
                    continue
                url = self.url(row)
                with self.subTest(url=url, method=method):
                    status = self.call("office", method, url, row).status_code
                    self.assertEqual(status, 405, f"{method.upper()} {url}")

    # --- the matrix -----------------------------------------------------------

    def test_each_actor_gets_the_expected_status(self):
        for row in MATRIX:
            url = self.url(row)
            for method, expected in row.methods.items():
                for actor in ACTORS:
                    with self.subTest(url=url, method=method, actor=actor):
                        status = self.call(actor, method, url, row).status_code
                        self.assertEqual(
                            status,
                            expected[actor],
                            f"{method.upper()} {url} as {actor} {row.note}",
                        )

    def test_the_admin_sends_every_actor_to_its_login(self):
        admin = [route for route in routes() if route.route.startswith("admin/")]
        self.assertGreater(len(admin), 50)
        for route in admin:
            url = admin_url(route.route)
            name = route.name.removeprefix(ADMIN_PREFIX)
            expected, target = ADMIN_ROWS.get(name, ADMIN_OTHERWISE)
            for method in ("get", "post"):
                for actor in ACTORS:
                    with self.subTest(url=url, method=method, actor=actor):
                        response = self.call(actor, method, url, ADMIN_ROW)
                        where = f"{method.upper()} {url} as {actor}"
                        self.assertEqual(response.status_code, expected[actor], where)
                        if response.status_code == 302:
                            location = response["Location"]
                            self.assertTrue(
                                location.startswith(target), f"{where}: {location}"
                            )

    # --- helpers --------------------------------------------------------------

    def url(self, row: Case) -> str:
        return row.path.format(c=self)

    def body(self, row: Case) -> dict[str, Any]:
        if callable(row.body):
            return row.body(self)
        return {
            key: value.format(c=self) if isinstance(value, str) else value
            for key, value in row.body.items()
        }

    def call(self, actor: str, method: str, url: str, row: Case):
        client = self.clients[actor]
        cookies = copy.deepcopy(client.cookies)
        cache.clear()  # throttles and the flood limit count per cell
        try:
            with transaction.atomic():
                response = self.request(client, method, url, row)
                transaction.set_rollback(True)
        finally:
            client.cookies = cookies  # a logout or an "answered" cookie stays put
        return response

    def request(self, client: Client, method: str, url: str, row: Case):
        if method == "get":
            return client.get(url)
        body = self.body(row)
        if row.schema is None or row.multipart:
            if method == "post":
                return client.post(url, body)
            # Pages take no PUT/PATCH/DELETE bodies.
            return getattr(client, method)(url)
        return getattr(client, method)(url, body, content_type="application/json")


def _refused_method(row: Case, method: str) -> bool:
    """GET rows of POST-only actions document a 405, not an operation."""
    return method == "get" and set(row.methods["get"].values()) <= {401, 405}
