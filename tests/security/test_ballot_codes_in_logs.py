"""Ballot codes stay out of request lines, referrers and logs.

A slip's QR code opens ``/b/#<code>``: the fragment never leaves the phone, and
the page posts the code in a form's body (or the respondent types it), so the
code is in no request line or referrer a proxy logs. Slips printed before open
``/b/<code>/``, which still works; that request line is the proxy's to keep, but
our own logs (``django.request``, ``django.security.csrf``, runserver's
``django.server``) show the path as ``/b/…/``.

The browser tests run Chromium against a live server whose request handler is
runserver's own (its lines go to ``django.server``, through our LOGGING) and which
also keeps what a proxy's access log keeps: each request line and its referrer.
Every log record of the run is captured at DEBUG on the root logger (and on
``django.server``, which does not propagate).
"""

from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from urllib.parse import urlsplit

import pypdf
import pypdfium2 as pdfium
from django.core.cache import cache
from django.core.servers.basehttp import WSGIRequestHandler
from django.test import Client, override_settings
from django.test.testcases import LiveServerThread

from organizations.models import Membership, Unit
from questionnaires import ballots
from questionnaires.services import ballot_point, ballots_issue, campaign_close
from tests.base import PersonaTestCase, make_unit, make_user
from tests.browser import BrowserTestCase
from tests.questionnaires.helpers import make_round, point_of
from tests.questionnaires.test_respond_browser import Respondent, code_of, decode

ACCESS_LOG: list[str] = []


class _ProxyLikeHandler(WSGIRequestHandler):
    """runserver's request handler, noting what a proxy's access log would."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        referer = self.headers.get("Referer", "")
        ACCESS_LOG.append(f'"{self.requestline}" {code} "{referer}"')
        super().log_request(code, size)


class _ProxyLikeServer(LiveServerThread):
    def _create_server(self, connections_override=None):
        return self.server_class(
            (self.host, self.port),
            _ProxyLikeHandler,
            allow_reuse_address=False,
            connections_override=connections_override,
        )


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def captured_logs():
    """Every record at DEBUG and up, as the console would print it."""
    capture = _Capture()
    # django.server does not propagate to the root: it gets the handler too.
    handled = [logging.getLogger(), logging.getLogger("django.server")]
    loggers = [*handled, logging.getLogger("django")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    for logger in handled:
        logger.addHandler(capture)
    try:
        yield capture.lines
    finally:
        for logger in handled:
            logger.removeHandler(capture)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def spellings(code: str) -> list[str]:
    """The ways a code can be written: as stored, grouped, in lower case."""
    return [code, ballots.grouped(code), code.lower(), ballots.grouped(code).lower()]


def slip_urls(client: Client, point, count: int) -> list[tuple[str, str]]:
    """(URL in the QR code, code printed beside it) of each slip of a fresh PDF."""
    pdf = client.post(f"/manage/points/{point.pk}/ballots/", {"count": str(count)})
    assert pdf["Content-Type"] == "application/pdf", pdf
    page = pdfium.PdfDocument(pdf.content)[0]
    urls = decode(page.render(scale=4).to_pil().convert("L"))
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert len(urls) == count
    return [(url, text) for url in urls]


class SlipTests(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.campaign = make_round(self.school, mode="ballot", title="党员大会评议")
        self.point = point_of(self.campaign, self.unit_a)
        self.office = Client()
        self.office.force_login(self.leader)

    def test_a_slips_qr_code_holds_its_code_in_the_fragment_not_the_path(self):
        for url, printed in slip_urls(self.office, self.point, 3):
            with self.subTest(url=url):
                parts = urlsplit(url)
                self.assertEqual((parts.path, parts.query), ("/b/", ""))
                self.assertEqual(ballot_point(parts.fragment), self.point)
                # The code is printed beside the QR code, for typing it in.
                self.assertIn(ballots.grouped(parts.fragment), printed)


class LoggedPathTests(PersonaTestCase):
    """Django's own log lines for the old route show a redacted path."""

    def setUp(self) -> None:
        super().setUp()
        self.campaign = make_round(self.school, mode="ballot", title="党员大会评议")
        point = point_of(self.campaign, self.unit_a)
        self.code = ballots_issue(point=point, count=1)[0]

    def assert_redacted(self, lines: list[str], code: str) -> None:
        self.assertTrue(lines)
        for line in lines:
            self.assertIn("/b/…/", line)
            for spelling in spellings(code):
                self.assertNotIn(spelling, line)

    def test_not_found_and_gone_lines_redact_the_code(self):
        unknown = "0" * 16
        with captured_logs() as lines:
            self.assertEqual(self.client.get(f"/b/{unknown}/").status_code, 404)
        self.assert_redacted([line for line in lines if "Not Found" in line], unknown)
        campaign_close(campaign=self.campaign)  # a slip of a closed round: 410
        with captured_logs() as lines:
            self.assertEqual(self.client.get(f"/b/{self.code}/").status_code, 410)
        self.assert_redacted([line for line in lines if "Gone" in line], self.code)

    def test_a_refused_csrf_check_redacts_the_code(self):
        strict = Client(enforce_csrf_checks=True)
        with captured_logs() as lines:
            response = strict.post(f"/b/{ballots.grouped(self.code)}/", {"nonce": "x"})
        self.assertEqual(response.status_code, 403)
        refused = [line for line in lines if "django.security.csrf" in line]
        self.assert_redacted(refused, self.code)

    def test_a_ballot_or_code_field_in_a_record_is_redacted(self):
        logger = logging.getLogger("django.request")
        with captured_logs() as lines:
            logger.warning("Body: %s", f"nonce=abc&ballot={self.code}&q1=good")
            logger.warning(
                "Sent %(ballot)s for %(code)s", {"ballot": self.code, "code": self.code}
            )
            logger.warning('JSON {"ballot": "%s"}', ballots.grouped(self.code))
        self.assertEqual(len(lines), 3)
        for line in lines:
            for spelling in spellings(self.code):
                self.assertNotIn(spelling, line)
        self.assertIn("ballot=…&q1=good", lines[0])


class Journeys(Respondent):
    """A full ballot journey; run with and without JavaScript below."""

    server_thread_class = _ProxyLikeServer

    def setUp(self) -> None:
        super().setUp()
        cache.clear()
        ACCESS_LOG.clear()
        settings = override_settings(PUBLIC_BASE_URL=self.live_server_url)
        settings.enable()
        self.addCleanup(settings.disable)
        school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        committee = make_unit(
            "A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委"
        )
        self.office = Client()
        self.office.force_login(make_user("office", Membership.Role.OFFICE, school))
        campaign = make_round(school, mode="ballot", title="2026 年党员大会评议")
        self.point = point_of(campaign, committee)

    def assert_no_code(self, texts: list[str], codes: list[str]) -> None:
        for text in texts:
            for code in codes:
                for spelling in spellings(code):
                    self.assertNotIn(spelling, text)

    def test_a_slip_answered_again_and_mistyped_leaves_no_code_in_any_log(self):
        (first, _), (second, _) = slip_urls(self.office, self.point, 2)
        code = code_of(second)
        wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
        page = self.phone_page()
        with captured_logs() as lines:
            self.assertEqual(self.open_slip(page, first), 200)
            self.answer(page, self.point)
            self.submit(page)
            self.assertTrue(
                page.get_by_role("heading", name="感谢您的评价！").is_visible()
            )
            self.assertEqual(self.open_slip(page, first), 410)
            self.assertTrue(page.get_by_role("heading", name="选票已使用").is_visible())
            self.assertEqual(self.open_slip(page, second.replace(code, wrong)), 404)
            self.assertTrue(page.get_by_role("heading", name="选票码无效").is_visible())
        # The server saw the journey: the entry page, the posts, the thanks...
        self.assertTrue(any('"POST /b/ HTTP/1.1" 302' in line for line in ACCESS_LOG))
        self.assertTrue(any("/done/" in line for line in ACCESS_LOG))
        self.assertTrue(any("django.server" in line for line in lines))
        # ...and no request line, referrer or log record holds a code.
        self.assert_no_code(ACCESS_LOG + lines, [code_of(first), code, wrong])

    def test_an_old_slips_path_still_works_and_is_redacted_in_our_logs(self):
        code = ballots_issue(point=self.point, count=1)[0]
        page = self.phone_page()
        with captured_logs() as lines:
            response = page.goto(f"{self.live_server_url}/b/{code}/")
            self.assertEqual(response.status, 200)
            if self.js:  # the address bar and the history drop the code
                page.wait_for_url(f"{self.live_server_url}/b/")
            self.answer(page, self.point)
            self.submit(page)
            self.assertTrue(
                page.get_by_role("heading", name="感谢您的评价！").is_visible()
            )
        # What the proxy sees: the old slip's request line, and nothing after it.
        (opened, *after) = [line for line in ACCESS_LOG if code in line]
        self.assertTrue(opened.startswith(f'"GET /b/{code}/ HTTP/1.1" 200'), opened)
        self.assertEqual(after, [])
        self.assertTrue(any('"POST /b/ HTTP/1.1" 302' in line for line in ACCESS_LOG))
        # Our logs name the path redacted.
        served = [line for line in lines if "django.server" in line and "/b/…/" in line]
        self.assertEqual(len(served), 1, lines)
        self.assert_no_code(lines, [code])


class WithJavaScriptTests(Journeys, BrowserTestCase):
    js = True


class WithoutJavaScriptTests(Journeys, BrowserTestCase):
    js = False
