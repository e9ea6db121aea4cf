"""Injection: markup, template syntax, URLs and spreadsheet formulas typed into
the service come out inert on every page, poster, ballot slip and export.

The strings go where people type: unit names, a round's title and description,
commitments, respondents' comments (through the real submission service and the
anonymity pool), finding titles and every text field of a task. Then:

- HTML pages show them as text: parsed, no page has an event-handler attribute,
  an ``<img src=x>``, an inline ``<script>`` or a ``javascript:`` URL, and the
  strings are in the page's text, ``{{ 7*7 }}`` as typed (not 49);
- in Chromium, a respondent page and management pages showing them raise no
  dialog;
- PDFs (posters, ballot slips) draw them as literal text (pypdf extracts them);
- CSV and XLSX cells that would start with = + - @ start with an apostrophe
  (OWASP, CSV injection), and no XLSX cell is a formula.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

from django.core.cache import cache
from django.test import override_settings
from openpyxl import load_workbook
from pypdf import PdfReader

from analysis.models import Finding
from organizations.models import Membership, Unit
from questionnaires.services import commitments_replace, response_submit
from rectification.models import Task
from rectification.services import task_create, task_report_progress
from tests.analysis.synthetic import analysed, fill, published
from tests.base import PersonaTestCase, make_unit, make_user
from tests.browser import BrowserTestCase
from tests.questionnaires.helpers import full_answers, make_round, point_of

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{ 7*7 }}{% debug %}"
JS_URL = "javascript:alert(1)"
MARKUP = [SCRIPT, IMG, TEMPLATE, JS_URL]
FORMULAS = ['=HYPERLINK("http://x","y")', "=1+1", "+1", "-1", "@SUM(1)"]
HTML_NAME = SCRIPT + IMG + TEMPLATE  # the unit everything is about
BRANCHES = {"branch": "wuhao-branch"}


# --- Reading what came out --------------------------------------------------------


class Page(HTMLParser):
    """A page's start tags and its text, as a browser would build them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.chunks: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False
        self.feed(html)
        self.close()
        self.text = " ".join(self.chunks)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        self._in_script = tag == "script"
        if tag == "script" and "src" not in attributes:
            self.inline_scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            if self.inline_scripts:
                self.inline_scripts[-1] += data
            return
        self.chunks.append(data)


def injected(page: Page) -> list[str]:
    """What a typed string turned into markup would leave in the page."""
    found = []
    for tag, attributes in page.tags:
        for name, value in attributes.items():
            if name.startswith("on"):
                found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                if re.sub(r"\s", "", value).lower().startswith("javascript:"):
                    found.append(f"<{tag} {name}={value}>")
        if tag == "img" and attributes.get("src") == "x":
            found.append("<img src=x>")
    found += [f"inline script {body[:40]!r}" for body in page.inline_scripts]
    return found


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s", "", "".join(page.extract_text() for page in reader.pages))


def csv_cells(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def xlsx_cells(content: bytes) -> list:
    workbook = load_workbook(io.BytesIO(content))
    return [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]


# --- The data ---------------------------------------------------------------------


class InjectionData(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cache.clear()  # the flood limit lives in the cache
        Unit.objects.filter(pk=cls.branch_a.pk).update(name=HTML_NAME)
        cls.branch_a.refresh_from_db()
        cls.js_unit = make_unit(
            "A-J", Unit.Kind.BRANCH, cls.unit_a, "staff", name=JS_URL
        )
        cls.formula_units = [
            make_unit(f"A-F{i}", Unit.Kind.BRANCH, cls.unit_a, "staff", name=formula)
            for i, formula in enumerate(FORMULAS)
        ]
        texts = [*MARKUP, *FORMULAS]

        # A round still open: its respondent pages, commitments and posters.
        cls.live = make_round(
            cls.school,
            kinds=BRANCHES,
            title=SCRIPT + "春季",
            description=IMG + TEMPLATE,
        )
        commitments_replace(campaign=cls.live, unit=cls.branch_a, texts=texts)
        cls.ballots = make_round(cls.school, mode="ballot", kinds=BRANCHES, title=IMG)

        # A round analysed and published: results, comments, tasks, board, exports.
        cls.done = make_round(
            cls.school,
            kinds=BRANCHES,
            title=SCRIPT + "秋季",
            description=IMG + TEMPLATE,
        )
        commitments_replace(campaign=cls.done, unit=cls.branch_a, texts=texts)
        point = point_of(cls.done, cls.branch_a)
        for i, text in enumerate([SCRIPT, IMG, TEMPLATE, "=1+1"]):
            answers = full_answers(point)
            for answer in answers:
                if "text" in answer:
                    answer["text"] = text
            response_submit(
                point=point,
                answers=answers,
                nonce=f"injection-{i:010d}",
                client_address=f"10.9.0.{i}",
            )
        fill(point, n=30, satisfied=20, comments=texts)
        for unit in [cls.js_unit, *cls.formula_units, cls.branch_b]:
            fill(point_of(cls.done, unit), n=15, satisfied=13)
        analysed(cls.done)
        published(cls.done)

        cls.finding = Finding.objects.create(
            campaign=cls.done,
            unit=cls.branch_a,
            trigger=Finding.Trigger.MANUAL,
            title=SCRIPT + IMG,
            description=TEMPLATE,
            status=Finding.Status.CONFIRMED,
        )
        cls.task = task_create(
            user=cls.leader,
            finding=cls.finding,
            fields={
                "title": HTML_NAME,
                "description": IMG,
                "cause_analysis": SCRIPT,
                "goal": TEMPLATE,
                "measures": IMG + "\n" + SCRIPT,
                "responsible_leader": JS_URL,
            },
        )
        cls.formula_task = task_create(
            user=cls.leader,
            finding=cls.finding,
            fields={
                "title": FORMULAS[0],
                "cause_analysis": "=1+1",
                "goal": "+1",
                "measures": "-1",
                "responsible_leader": "@SUM(1)",
                "responsible_person": "-1",
                "supervising_office": "=1+1",
                "cooperating_units": [cls.formula_units[2]],
            },
        )
        Task.objects.filter(pk__in=[cls.task.pk, cls.formula_task.pk]).update(
            state=Task.State.IN_PROGRESS
        )
        task_report_progress(task=cls.task, user=cls.manager_a, text=SCRIPT + IMG)


# --- Pages ------------------------------------------------------------------------


class PageTests(InjectionData):
    def page(self, user, url: str, *, shows: tuple[str, ...] = ()) -> Page:
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        self.assertTrue(response["Content-Type"].startswith("text/html"), url)
        page = Page(response.content.decode())
        self.assertEqual(injected(page), [], url)
        for text in shows:
            self.assertIn(text, page.text, url)
        return page

    def test_the_respondent_page(self):
        for unit in (self.branch_a, self.js_unit):
            point = point_of(self.live, unit)
            page = self.page(None, f"/s/{point.token}/", shows=(unit.name,))
            if unit == self.branch_a:
                for text in (SCRIPT, IMG, TEMPLATE, JS_URL, *FORMULAS):
                    self.assertIn(text, page.text)  # title, description, commitments
                self.assertIn(SCRIPT + "春季", page.text)

    def test_the_pages_of_a_running_round(self):
        self.page(self.leader, "/manage/campaigns/", shows=(SCRIPT + "春季",))
        self.page(
            self.leader,
            f"/manage/campaigns/{self.live.pk}/",
            shows=(HTML_NAME, JS_URL, IMG + TEMPLATE, *FORMULAS),
        )
        self.page(
            self.manager_a,
            f"/manage/campaigns/{self.live.pk}/units/{self.branch_a.pk}/commitments/",
            shows=(HTML_NAME, SCRIPT, IMG),
        )
        self.page(self.leader, f"/manage/campaigns/{self.ballots.pk}/", shows=(IMG,))

    def test_the_results_and_the_unit_report(self):
        base = f"/manage/campaigns/{self.done.pk}"
        for user in (self.leader, self.manager_a):
            self.page(
                user, f"{base}/results/", shows=(HTML_NAME, JS_URL, SCRIPT + "秋季")
            )
            report = self.page(
                user,
                f"{base}/units/{self.branch_a.pk}/report/",
                shows=(HTML_NAME, SCRIPT + IMG),
            )
            # The comments, as typed (the respondents' and the synthetic ones;
            # those equal to a unit's name are masked as names).
            for text in (SCRIPT, IMG, "{{ 7*7 }}"):
                self.assertIn(text, report.text)
            self.page(user, f"{base}/units/{self.js_unit.pk}/report/", shows=(JS_URL,))
        self.page(self.leader, f"{base}/results/?raw=1", shows=(HTML_NAME,))

    def test_the_tasks_the_ledger_and_the_public_board(self):
        for user in (self.leader, self.manager_a):
            self.page(user, "/manage/rectification/", shows=(HTML_NAME, FORMULAS[0]))
            self.page(
                user,
                f"/manage/tasks/{self.task.pk}/",
                shows=(HTML_NAME, SCRIPT, IMG, "{{ 7*7 }}", JS_URL, SCRIPT + IMG),
            )
            self.page(
                user,
                f"/manage/tasks/{self.formula_task.pk}/",
                shows=(FORMULAS[0], "@SUM(1)", "=1+1"),
            )
            self.page(user, "/manage/ledger/", shows=(HTML_NAME,))
        self.page(
            None, f"/public/campaigns/{self.done.pk}/", shows=(HTML_NAME, SCRIPT, IMG)
        )

    def test_the_unit_pages(self):
        self.page(self.leader, "/manage/units/", shows=(HTML_NAME, JS_URL, *FORMULAS))
        self.page(self.leader, "/manage/")

    def test_template_syntax_is_shown_as_typed(self):
        page = self.page(None, f"/s/{point_of(self.live, self.branch_a).token}/")
        self.assertIn("{{ 7*7 }}{% debug %}", page.text)
        self.assertNotIn("49{%", page.text)


# --- PDFs -------------------------------------------------------------------------


class PdfTests(InjectionData):
    def test_posters_draw_the_strings_as_text(self):
        self.client.force_login(self.leader)
        for url in (
            f"/manage/campaigns/{self.live.pk}/posters.pdf",
            f"/manage/points/{point_of(self.live, self.branch_a).pk}/poster.pdf",
        ):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            text = pdf_text(response.content)
            for expected in (SCRIPT, "<imgsrc=xonerror=alert(1)>", "{{7*7}}"):
                self.assertIn(expected, text, url)
        text = pdf_text(
            self.client.get(f"/manage/campaigns/{self.live.pk}/posters.pdf").content
        )
        for formula in FORMULAS:
            self.assertIn(re.sub(r"\s", "", formula), text)

    def test_ballot_slips_draw_the_strings_as_text(self):
        self.client.force_login(self.leader)
        point = point_of(self.ballots, self.branch_a)
        response = self.client.post(f"/manage/points/{point.pk}/ballots/", {"count": 2})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        text = pdf_text(response.content)
        self.assertIn(SCRIPT, text)  # the unit's name
        self.assertIn("<imgsrc=xonerror=alert(1)>", text)  # the round's title


# --- Exports ----------------------------------------------------------------------


class ExportTests(InjectionData):
    def get(self, url: str) -> bytes:
        self.client.force_login(self.leader)
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        return response.content

    def assert_neutralised(self, cells: list[str], where: str) -> None:
        for formula in FORMULAS:
            self.assertNotIn(formula, cells, f"{where}: {formula} as a bare cell")
            self.assertIn("'" + formula, cells, f"{where}: {formula} missing")
        formulas = [cell for cell in cells if cell.startswith(("=", "@"))]
        self.assertEqual(formulas, [], where)
        # Markup is data in a spreadsheet: kept as typed.
        self.assertTrue(any(SCRIPT in cell for cell in cells), where)

    def exports(self) -> list[tuple[str, str]]:
        results = f"/api/v1/campaigns/{self.done.pk}/results/export/"
        return [
            (f"{results}?level=unit&filetype=%s", "results"),
            ("/manage/ledger/export.%s", "ledger"),
            ("/manage/units/export.%s", "units"),
        ]

    def test_csv_cells_that_would_run_are_quoted(self):
        for url, name in self.exports():
            cells = csv_cells(self.get(url % "csv"))
            self.assert_neutralised(cells, name)

    def test_xlsx_cells_are_strings_never_formulas(self):
        for url, name in self.exports():
            cells = xlsx_cells(self.get(url % "xlsx"))
            self.assertEqual(
                [c.coordinate for c in cells if c.data_type == "f"], [], name
            )
            values = [c.value for c in cells if isinstance(c.value, str)]
            self.assert_neutralised(values, name)

    def test_the_api_export_of_every_level_is_neutralised(self):
        url = f"/api/v1/campaigns/{self.done.pk}/results/export/?filetype=csv"
        cells = csv_cells(self.get(url))
        self.assert_neutralised(cells, "results, every level")


# --- In a browser -----------------------------------------------------------------


class BrowserInjectionTests(BrowserTestCase):
    """The strings on a phone's respondent page and the office's pages: no dialog."""

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        settings = override_settings(PUBLIC_BASE_URL=self.live_server_url)
        settings.enable()
        self.addCleanup(settings.disable)
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit("A", Unit.Kind.COMMITTEE, school, "teaching", name=IMG)
        self.unit = make_unit(
            "A-1", Unit.Kind.BRANCH, committee, "student", name=HTML_NAME
        )
        self.other = make_unit("A-2", Unit.Kind.BRANCH, committee, "staff", name=JS_URL)
        make_user("injection-office", Membership.Role.OFFICE, school)
        self.campaign = make_round(
            school, kinds=BRANCHES, title=SCRIPT + "评议", description=IMG + TEMPLATE
        )
        commitments_replace(
            campaign=self.campaign, unit=self.unit, texts=[*MARKUP, *FORMULAS]
        )
        self.dialogs: list[str] = []

    def watch(self, page):
        page.on(
            "dialog",
            lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()),
        )
        return page

    def test_a_respondent_page_raises_no_dialog(self):
        page = self.watch(self.phone())
        point = point_of(self.campaign, self.unit)
        page.goto(f"{self.live_server_url}/s/{point.token}/")
        page.wait_for_load_state("load")
        self.assertTrue(page.get_by_role("heading", name=HTML_NAME).is_visible())
        self.assertTrue(page.get_by_text(SCRIPT, exact=True).first.is_visible())
        self.assertTrue(page.get_by_text(FORMULAS[0], exact=True).is_visible())
        self.assertEqual(page.locator("img[src=x]").count(), 0)
        self.assertEqual(self.dialogs, [])

    def test_the_management_pages_raise_no_dialog(self):
        page = self.watch(self.desktop())
        self.log_in(page, "injection-office")
        base = f"{self.live_server_url}/manage/campaigns/{self.campaign.pk}"
        for url in (f"{base}/", f"{self.live_server_url}/manage/units/"):
            page.goto(url)
            page.wait_for_load_state("load")
            self.assertTrue(page.get_by_text(HTML_NAME).first.is_visible(), url)
            self.assertEqual(page.locator("img[src=x]").count(), 0, url)
        self.assertTrue(page.get_by_text(JS_URL).first.is_visible())
        self.assertEqual(self.dialogs, [])
