"""What every browser test shares: Chromium through Playwright, a live server, the
record of the forms the pages show and the forms the browser submits, and a
screenshot with the page's HTML when a step fails.

Chromium is not downloaded by Playwright: the system's ``/usr/bin/chromium`` (or
``$CHROMIUM``) is used. Without it the tests are skipped, unless
``REQUIRE_BROWSER_TESTS=1`` (set by .ci/run), where its absence is a failure.

Screenshots go to ``$SCREENSHOT_DIR`` (by default
``<tmp>/survey_service_screenshots``); a failing test leaves
``failures/<test>-<n>.png`` and ``.html`` there for every page it had open.

Forms: ``FormRecorder`` (added to the live server's middleware) notes every POST
form in every HTML page it serves, and every POST that a browser sent and that the
view accepted (a 2xx or 3xx answer). tests/test_form_coverage.py, which runs last,
fails on a form that no browser test submitted.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from unittest import SkipTest
from urllib.parse import urljoin, urlsplit

from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import modify_settings
from django.urls import Resolver404, resolve

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(
    os.environ.get(
        "SCREENSHOT_DIR",
        Path(tempfile.gettempdir()) / "survey_service_screenshots",
    )
)
# WeChat's in-app browser on Android, as students open the QR codes.
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 14; V2309A Build/UP1A.231005.007; wv) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.103 "
    "Mobile Safari/537.36 XWEB/1300289 MMWEBSDK/20241103 MicroMessenger/8.0.55"
)
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 900}

# Tables filled by migrations (the built-in scales and questionnaires, which the
# database refuses to delete once published) and by Django itself survive a test.
KEPT_TABLES = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "questionnaires_scale",
    "questionnaires_scalelevel",
    "questionnaires_questionnaire",
    "questionnaires_dimension",
    "questionnaires_question",
    "questionnaires_option",
}


# --- The record of forms --------------------------------------------------------

# URL arguments that say which form it is, not which object it acts on.
VERB_ARGUMENTS = {"action", "fmt", "filetype"}


@dataclass(frozen=True)
class SeenForm:
    target: str  # URL name and verb arguments, e.g. "rectification-task-action:accept"
    names: frozenset[str]  # every named control, buttons included
    hidden: frozenset[str]  # hidden inputs, sent with every submission
    required: frozenset[str] = frozenset()  # controls marked required

    def submitted_by(self, target: str, sent: frozenset[str]) -> bool:
        """A submission is this form's when it went to the same target, carried
        the form's hidden and required fields and nothing the form does not have
        (so an open-mode answer does not count for the form that also asks for
        a ballot code)."""
        return (
            target == self.target and self.hidden | self.required <= sent <= self.names
        )


FORMS_SEEN: dict[SeenForm, str] = {}  # form → the first page it was seen on
FORMS_SUBMITTED: set[tuple[str, frozenset[str]]] = set()


def form_target(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    verbs = [str(match.kwargs[k]) for k in sorted(match.kwargs) if k in VERB_ARGUMENTS]
    return ":".join([match.view_name, *verbs])


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = {
                "method": attributes.get("method", "get").lower(),
                "action": attributes.get("action", ""),
                "names": set(),
                "hidden": set(),
                "required": set(),
            }
            self.forms.append(self._form)
        elif self._form is not None and tag in (
            "input",
            "select",
            "textarea",
            "button",
        ):
            name = attributes.get("name")
            if name:
                self._form["names"].add(name)
                if tag == "input" and attributes.get("type", "").lower() == "hidden":
                    self._form["hidden"].add(name)
                if "required" in attributes:
                    self._form["required"].add(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def post_forms(html: str, page_path: str) -> list[SeenForm]:
    """The POST forms of a page, with their targets resolved against its path."""
    parser = _FormParser()
    parser.feed(html)
    forms = []
    for form in parser.forms:
        if form["method"] != "post":
            continue
        action = urlsplit(urljoin(page_path, form["action"] or page_path)).path
        target = form_target(action)
        if target is not None:
            forms.append(
                SeenForm(
                    target,
                    frozenset(form["names"]),
                    frozenset(form["hidden"]),
                    frozenset(form["required"]),
                )
            )
    return forms


class FormRecorder:
    """Middleware for the browser tests' server: see the module's docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.get("Content-Type", "").startswith("text/html")
            and not response.streaming
        ):
            for form in post_forms(response.content.decode(), request.path):
                FORMS_SEEN.setdefault(form, request.path)
        # The test client's host is "testserver"; only a browser reaches the server
        # under its own address.
        if (
            request.method == "POST"
            and 200 <= response.status_code < 400
            and request.get_host() != "testserver"
        ):
            target = form_target(request.path_info)
            if target is not None:
                sent = frozenset([*request.POST.keys(), *request.FILES.keys()])
                FORMS_SUBMITTED.add((target, sent))
        return response


def unsubmitted_forms() -> dict[SeenForm, str]:
    return {
        form: page
        for form, page in FORMS_SEEN.items()
        if not any(form.submitted_by(*sent) for sent in FORMS_SUBMITTED)
    }


# --- The test case --------------------------------------------------------------


def empty_tables() -> None:
    """What a test wrote, gone; what migrations installed, kept.

    Not Django's flush of every table: on SQLite its DELETEs trip the freeze
    triggers of published questionnaires (migration 0003), and on PostgreSQL its
    TRUNCATE would wipe the built-in questionnaires later tests need.
    TRUNCATE here also passes the append-only trigger on task events, which
    guards rows one at a time."""
    tables = [
        table
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if table not in KEPT_TABLES
    ]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"TRUNCATE {', '.join(quote(t) for t in tables)} RESTART IDENTITY"
            )
        else:
            with connection.constraint_checks_disabled():
                for table in tables:
                    cursor.execute(f"DELETE FROM {quote(table)}")


@modify_settings(MIDDLEWARE={"append": "tests.browser.FormRecorder"})
class BrowserTestCase(StaticLiveServerTestCase):
    """A live server and one Chromium for the class; pages from ``desktop()`` and
    ``phone()``, closed after each test."""

    @classmethod
    def setUpClass(cls) -> None:
        if not Path(CHROMIUM).exists():
            if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
                raise AssertionError(f"Chromium is required but {CHROMIUM} is missing")
            raise SkipTest(
                f"no Chromium at {CHROMIUM}: install it (apt-get install chromium) "
                "or set CHROMIUM to run the browser tests"
            )
        # Playwright's sync API runs an event loop in this thread; the test's own
        # database calls happen between its calls, never inside the loop.
        cls.async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        super().setUpClass()
        from playwright.sync_api import sync_playwright

        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()
        if cls.async_unsafe is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = cls.async_unsafe

    def setUp(self) -> None:
        super().setUp()
        self._contexts: list = []
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def tearDown(self) -> None:
        for context in self._contexts:
            context.close()
        super().tearDown()

    def _fixture_teardown(self) -> None:
        empty_tables()

    def _callTestMethod(self, method: Callable[[], None]) -> None:
        try:
            method()
        except BaseException:
            self.save_failure_artifacts()
            raise

    def save_failure_artifacts(self) -> None:
        folder = SCREENSHOTS / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", self.id())
        pages = [page for context in self._contexts for page in context.pages]
        for number, page in enumerate(pages, start=1):
            try:
                page.screenshot(path=folder / f"{name}-{number}.png", full_page=True)
                (folder / f"{name}-{number}.html").write_text(
                    page.content(), encoding="utf-8"
                )
            except Exception:  # a crashed page has nothing more to show
                continue

    def new_page(self, **options):
        context = self.browser.new_context(locale="zh-CN", **options)
        context.set_default_timeout(15_000)
        self._contexts.append(context)
        return context.new_page()

    def desktop(self, *, js: bool = True):
        return self.new_page(viewport=DESKTOP, java_script_enabled=js)

    def phone(self, *, js: bool = True):
        """A phone as WeChat's in-app browser presents it: 375×667, touch, zh-CN."""
        return self.new_page(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            user_agent=WECHAT_UA,
            java_script_enabled=js,
        )

    def log_in(self, page, username: str, password: str | None = None) -> None:
        """Through the real login form."""
        page.goto(f"{self.live_server_url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password or f"pw-{username}")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        if "/accounts/login/" in page.url:
            raise AssertionError(f"{username} could not log in")
