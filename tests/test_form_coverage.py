"""Every POST form the product's pages show has been submitted by a browser test.

Runs last (tests/conftest.py moves it there), after every browser test has left
its submissions in ``tests.browser.FORMS_SUBMITTED``. It then crawls the pages
with Django's test client, with ``FormRecorder`` noting each page's POST forms in
``FORMS_SEEN``, and fails on any form no browser submission matched (see
``SeenForm.submitted_by``), naming the page it was seen on.

The crawl: breadth-first over same-site links (relative ones, and those to
``PUBLIC_BASE_URL``, where the QR codes point) from the home page and /manage/,
as the office, as a unit manager and anonymously; the anonymous visitor also
starts from what is printed, not linked: every point's URL (its QR code) and
one ballot slip's /b/<code>/ of each point. Not followed: /admin/ (Django's own admin is out of
scope: its forms are Django's, tested by Django), /api/ (JSON, no forms), links
to files by their names (.pdf, .csv, .xlsx, .png, .svg) and any other non-HTML
answer, and of a path's ?query variants all but the first. The data set has
rounds in every status (one of them by ballot), candidate findings awaiting the
office, a confirmed finding, tasks in every state, a pending extension and
evidence, so that every form some page can show appears.

Only a run of the whole suite submits every form: in any other run the test is
skipped ("run the whole suite: make test"), except that a missing Chromium under
REQUIRE_BROWSER_TESTS=1 fails it as it fails the browser tests.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import deque
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, modify_settings, override_settings
from django.utils import timezone

from analysis.models import Finding
from analysis.services import campaign_analyze, finding_decide
from questionnaires.editor import questionnaire_copy
from questionnaires.services import ballots_issue, campaign_close, campaign_publish
from rectification.evidence import evidence_add
from rectification.models import ExtensionRequest, Task, TaskEvent
from tests.analysis.synthetic import fill
from tests.base import PersonaTestCase
from tests.browser import CHROMIUM, FORMS_SEEN, SeenForm, unsubmitted_forms
from tests.questionnaires.helpers import builtin, make_round, point_of

SKIPPED_PREFIXES = ("/admin/", "/api/", "/static/")
FILE_NAME = re.compile(r"\.(pdf|csv|xlsx|png|svg)$")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Every form target the pages have: if the crawl stops seeing one, the data set
# (or the crawl) no longer shows it and this test would pass for nothing.
EXPECTED_TARGETS = {
    "login",
    "logout",
    "set_language",
    "manage-unit-import",
    "manage-campaign-new",
    "manage-campaign-edit",
    "manage-campaign-transition:open",
    "manage-campaign-transition:close",
    "manage-campaign-transition:publish",
    "manage-point-ballots",
    "manage-campaign-ballots",
    "manage-commitments",
    "analysis-analyze",
    "rectification-finding-decide",
    "rectification-finding-task",
    *(
        f"rectification-task-action:{action}"
        for action in (
            "verify",
            "dismiss",
            "assign",
            "submit_plan",
            "request_acceptance",
            "return",
            "accept",
            "close",
            "reopen",
        )
    ),
    "rectification-task-progress",
    "rectification-task-evidence",
    "rectification-task-extension",
    "rectification-extension-decide",
    "respond-point",
    "respond-ballot",
    "manage-account",
    "manage-person-new",
    "manage-people-import",
    "manage-person-role-add",
    "manage-person-role-remove",
    "manage-person-status:deactivate",
    "manage-person-reset",
    *(
        f"manage-questionnaire-{form}"
        for form in (
            "copy",
            "new-version",
            "publish",
            "delete",
            "settings",
            "dimension-add",
            "dimension",
            "dimension-move",
            "dimension-remove",
            "question-add",
            "question",
            "question-move",
            "question-remove",
        )
    ),
}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def same_site_path(href: str, page: str) -> str | None:
    """The path and query a link leads to on this site, or None."""
    url = urlsplit(urljoin(f"http://testserver{page}", href))
    public = urlsplit(settings.PUBLIC_BASE_URL)
    if url.scheme not in ("http", "https") or (
        url.netloc != "testserver" and (url.scheme, url.netloc) != public[:2]
    ):
        return None
    if url.path.startswith(SKIPPED_PREFIXES) or FILE_NAME.search(url.path):
        return None
    return url.path + (f"?{url.query}" if url.query else "")


def crawl(client: Client, starts: list[str]) -> int:
    """Visit what ``starts`` lead to; returns the number of HTML pages read."""
    queue, done, pages = deque(starts), set(), 0
    while queue:
        url = queue.popleft()
        path, _, query = url.partition("?")
        key = (path, bool(query))  # the bare path and its first ?query variant
        if key in done:
            continue
        done.add(key)
        response = client.get(url)
        if response.status_code in (301, 302, 303, 307, 308):
            target = same_site_path(response["Location"], url)
            if target:
                queue.append(target)
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        pages += 1
        links = _Links()
        links.feed(response.content.decode())
        for href in links.hrefs:
            target = same_site_path(href, url)
            if target:
                queue.append(target)
    return pages


def describe(form: SeenForm, page: str) -> str:
    hidden = ", ".join(sorted(form.hidden))
    others = ", ".join(sorted(form.names - form.hidden))
    return f"  {form.target} on {page} (hidden: {hidden}; fields: {others or '—'})"


@modify_settings(MIDDLEWARE={"append": "tests.browser.FormRecorder"})
class FormCoverageTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        media = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        cls.enterClassContext(override_settings(MEDIA_ROOT=media))
        school = cls.school
        # A round in every status. The open ones, by QR code and by ballot, ask
        # every kind of unit, and a third asks the members' questionnaire: every
        # built-in questionnaire's form appears.
        make_round(school, title="草稿轮次", open_it=False)
        # A draft questionnaire: the editor's forms.
        questionnaire_copy(
            source=builtin("wuhao-branch"),
            key="crawl-draft",
            title="草稿问卷",
            target_kind="branch",
        )
        cls.open_rounds = [
            make_round(school, title="进行中的轮次"),
            make_round(school, title="党员评议", kinds={"branch": "wugemofan"}),
        ]
        cls.ballot_round = make_round(school, title="一人一票轮次", mode="ballot")
        # One slip of each point: what a /b/<code>/ page shows depends on the
        # point's questionnaire.
        cls.ballots = [
            ballots_issue(point=point, count=1)[0]
            for point in cls.ballot_round.points.all()
        ]
        closed = make_round(
            school, title="已结束的轮次", kinds={"branch": "wuhao-branch"}
        )
        campaign_close(campaign=closed)
        published = make_round(
            school, title="已发布的轮次", kinds={"branch": "wuhao-branch"}
        )
        fill(point_of(published, cls.branch_a), n=40, satisfied=24)
        fill(point_of(published, cls.branch_b), n=40, satisfied=25)
        published = campaign_close(campaign=published)
        campaign_analyze(campaign=published)
        campaign_publish(campaign=published)

        # Findings: candidates stay for the office; one of each unit confirmed.
        confirmed = []
        for unit in (cls.branch_a, cls.branch_b):
            finding = Finding.objects.filter(
                campaign=published, unit=unit, dimension_code="", theme_key=""
            ).get()
            finding_decide(finding=finding, user=cls.leader, confirm=True)
            confirmed.append(finding)
        assert Finding.objects.filter(status="candidate").exists()

        # A task in every state, at both units.
        due = timezone.localdate() + timedelta(days=30)
        tasks = {}
        for finding in confirmed:
            for state in Task.State.values:
                task = Task.objects.create(
                    finding=finding,
                    campaign=published,
                    source=Task.Source.SURVEY,
                    title=f"{finding.unit.name}：{Task.State(state).label}的任务",
                    lead_unit=finding.unit,
                    state=state,
                    due_date=due,
                    responsible_person="王书记",
                    resurvey_verdict="IMPROVED"
                    if state == Task.State.AWAITING_RESURVEY
                    else "",
                )
                TaskEvent.objects.create(task=task, kind="created", actor=cls.leader)
                tasks[finding.unit, state] = task
        ExtensionRequest.objects.create(
            task=tasks[cls.branch_a, Task.State.IN_PROGRESS],
            reason="寒假",
            new_due_date=due + timedelta(days=30),
            requested_by=cls.manager_a,
        )
        evidence_add(
            task=tasks[cls.branch_a, Task.State.IN_PROGRESS],
            user=cls.manager_a,
            upload=SimpleUploadedFile("公示.pdf", PDF),
        )

    def test_every_form_a_page_shows_was_submitted_by_a_browser(self):
        if not Path(CHROMIUM).exists():
            if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
                self.fail(f"Chromium is required but {CHROMIUM} is missing")
            self.skipTest(f"no Chromium at {CHROMIUM}: no browser test has run")
        pages = 0
        for user in (self.leader, self.manager_a):
            client = Client()
            client.force_login(user)
            pages += crawl(client, ["/", "/manage/"])
        printed = [
            urlsplit(point.public_url).path
            for campaign in (*self.open_rounds, self.ballot_round)
            for point in campaign.points.all()
        ] + [f"/b/{code}/" for code in self.ballots]
        pages += crawl(Client(), ["/", "/manage/", *printed])
        self.assertGreater(pages, 50)

        targets = {form.target for form in FORMS_SEEN}
        self.assertEqual(
            EXPECTED_TARGETS - targets, set(), "the crawl no longer shows these forms"
        )
        # Django's admin is out of this count, as it is of the crawl, also when a
        # browser test (the CSP's) opened its pages.
        missing = {
            form: page
            for form, page in unsubmitted_forms().items()
            if not urlsplit(page).path.startswith(SKIPPED_PREFIXES)
        }
        if missing:
            self.fail(
                f"{len(missing)} form(s) no browser test submitted:\n"
                + "\n".join(
                    describe(form, page)
                    for form, page in sorted(
                        missing.items(), key=lambda item: (item[0].target, item[1])
                    )
                )
            )
