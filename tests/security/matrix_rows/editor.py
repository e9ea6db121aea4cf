"""Rows of the questionnaire editor (/manage/questionnaires/).

Everyone logged in reads, as the API's GET does; only the school's office
changes anything (the API's SchoolOfficeWrites: ``administers_all``), so A's
office, managers and the reviewer get 403 on every editing page and post. A
draft (``editor-draft``, copied from the 五好 branch template) takes each edit;
the published template refuses them (409).
"""

from __future__ import annotations

from questionnaires.editor import questionnaire_copy
from tests.security.matrix import PAGE, S, case

SCHOOL_OFFICE = S(302, 403, 403, 403, 403, 200)
SCHOOL_OFFICE_REDIRECTED = S(302, 403, 403, 403, 403, 302)
SCHOOL_OFFICE_REFUSED = S(302, 403, 403, 403, 403, 400)
SCHOOL_OFFICE_FROZEN = S(302, 403, 403, 403, 403, 409)
DRAFT = "/manage/questionnaires/editor-draft/1/"
TEMPLATE = "/manage/questionnaires/wuhao-branch/1/"


def setup(c) -> None:
    c.editor_draft = questionnaire_copy(
        source=c.builtin, key="editor-draft", title="矩阵草稿", target_kind="branch"
    )


QUESTION = {
    "text": "新题目",
    "kind": "scale",
    "scale": "three_dk",
    "dimension": "members",
}

# fmt: off
ROWS = [
    case("manage-questionnaires", "/manage/questionnaires/", get=PAGE),
    case("manage-questionnaire", DRAFT, get=PAGE),
    case("manage-questionnaire", TEMPLATE, get=PAGE),
    case("manage-questionnaire-preview", f"{DRAFT}preview/", get=PAGE),
    case("manage-questionnaire-copy", f"{TEMPLATE}copy/", get=SCHOOL_OFFICE,
         post=SCHOOL_OFFICE_REDIRECTED,
         body={"title": "副本", "key": "matrix-copy", "target_kind": "branch"}),
    case("manage-questionnaire-new-version", f"{TEMPLATE}new-version/",
         get=SCHOOL_OFFICE, post=SCHOOL_OFFICE_REDIRECTED,
         note="GET: the confirmation page"),
    case("manage-questionnaire-publish", f"{DRAFT}publish/", get=SCHOOL_OFFICE,
         post=SCHOOL_OFFICE_REDIRECTED, note="GET: the confirmation page"),
    case("manage-questionnaire-publish", f"{TEMPLATE}publish/", get=SCHOOL_OFFICE,
         post=SCHOOL_OFFICE_FROZEN, note="published already"),
    case("manage-questionnaire-delete", f"{DRAFT}delete/", get=SCHOOL_OFFICE,
         post=SCHOOL_OFFICE_REDIRECTED, note="GET: the confirmation page"),
    case("manage-questionnaire-settings", f"{DRAFT}settings/",
         get=SCHOOL_OFFICE_REDIRECTED, post=SCHOOL_OFFICE_REDIRECTED,
         body={"title": "改名", "description": "", "target_kind": "branch"},
         note="GET: back to the draft's page"),
    case("manage-questionnaire-settings", f"{TEMPLATE}settings/",
         post=SCHOOL_OFFICE_FROZEN,
         body={"title": "改名", "description": "", "target_kind": "branch"},
         note="published: frozen"),
    case("manage-questionnaire-dimension-add", f"{DRAFT}dimensions/add/",
         get=SCHOOL_OFFICE_REDIRECTED, post=SCHOOL_OFFICE_REDIRECTED,
         body={"title": "新维度"}),
    case("manage-questionnaire-dimension", f"{DRAFT}dimensions/members/",
         get=SCHOOL_OFFICE_REDIRECTED, post=SCHOOL_OFFICE_REDIRECTED,
         body={"title": "党员好", "code": "members"}),
    case("manage-questionnaire-dimension-move", f"{DRAFT}dimensions/members/move/",
         get=SCHOOL_OFFICE_REDIRECTED, post=SCHOOL_OFFICE_REDIRECTED,
         body={"direction": "up"}),
    case("manage-questionnaire-dimension-remove",
         f"{DRAFT}dimensions/members/remove/", get=SCHOOL_OFFICE_REDIRECTED,
         post=SCHOOL_OFFICE_REFUSED, note="it still has questions: refused"),
    case("manage-questionnaire-question-add", f"{DRAFT}questions/add/",
         get=SCHOOL_OFFICE, post=SCHOOL_OFFICE_REDIRECTED, body=QUESTION),
    case("manage-questionnaire-question", f"{DRAFT}questions/members_vanguard/",
         get=SCHOOL_OFFICE, post=SCHOOL_OFFICE_REDIRECTED, body=QUESTION),
    case("manage-questionnaire-question", f"{TEMPLATE}questions/members_vanguard/",
         get=SCHOOL_OFFICE, post=SCHOOL_OFFICE_FROZEN, body=QUESTION,
         note="published: the page says why; a POST is refused"),
    case("manage-questionnaire-question-move",
         f"{DRAFT}questions/members_vanguard/move/", get=SCHOOL_OFFICE_REDIRECTED,
         post=SCHOOL_OFFICE_REDIRECTED, body={"direction": "down"}),
    case("manage-questionnaire-question-remove",
         f"{DRAFT}questions/members_vanguard/remove/", get=SCHOOL_OFFICE_REDIRECTED,
         post=SCHOOL_OFFICE_REDIRECTED),
    case("manage-questionnaire-question-remove",
         f"{TEMPLATE}questions/members_vanguard/remove/",
         post=SCHOOL_OFFICE_FROZEN, note="published: frozen"),
]
# fmt: on
