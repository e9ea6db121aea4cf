"""The respondent's journeys in a real browser: Chromium on a 375×667 phone screen
with WeChat's user agent, zh-CN, once with JavaScript on and once with it off.

Every journey starts from a URL decoded (zxing-cpp) from what is printed: the
point's QR PNG as the management page serves it, or a ballot slip PDF rendered
with pdfium (``/b/#<code>``: with JavaScript the page posts the code, without it
the respondent types the code printed on the slip). Every built-in questionnaire
is answered once in each mode.
``make screenshots`` writes the respondent pages' pictures to docs/screenshots/.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import zxingcpp
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from organizations.models import Membership, Unit
from questionnaires.forms_spec import QuestionSpec, form_spec
from questionnaires.models import Campaign, CollectionPoint, Commitment
from questionnaires.services import ballot_point as ballot_point_of
from questionnaires.services import campaign_close, campaign_publish
from tests.base import make_unit, make_user
from tests.browser import SCREENSHOTS, BrowserTestCase
from tests.questionnaires.helpers import accepted, make_round, point_of

COMMENT = "窗口服务很好，希望午间也能办理。"


def decode(image: Image.Image) -> list[str]:
    codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in codes]


def code_of(slip_url: str) -> str:
    """The ballot code a slip's URL holds: its fragment."""
    return urlsplit(slip_url).fragment


class Respondent:
    """What a respondent does on a phone, and what the tests check of it."""

    js = True

    def phone_page(self):
        return self.phone(js=self.js)

    def tap(self, locator) -> None:
        locator.tap()

    def answer(self, page, point, *, skip: int | None = None) -> None:
        """Every question as a satisfied respondent would, except ``skip``."""
        for question in form_spec(point.questionnaire).questions:
            if question.id == skip:
                continue
            card = page.locator(f"#q{question.id}")
            if question.kind == "scale":
                label = question.levels[0].label
                self.tap(card.get_by_role("radio", name=label, exact=True))
            elif question.kind == "single":
                self.tap(card.get_by_role("radio", name=question.options[0].label))
            elif question.kind == "multiple":
                for option in question.options[:2]:
                    self.tap(card.get_by_role("checkbox", name=option.label))
            else:
                card.locator("textarea").fill(COMMENT)

    def open_slip(self, page, url: str, *, js: bool | None = None) -> int:
        """What a phone does with a slip's QR code: it opens ``/b/#<code>``, whose
        script posts the code (also when the page open is already at /b/), or,
        without JavaScript, the respondent types the code printed on the slip and
        taps the button. Returns the status of the page the code leads to."""
        js = self.js if js is None else js
        self.assertEqual(urlsplit(url).path, "/b/")
        if js:
            with page.expect_response(
                lambda r: r.request.method == "POST" and urlsplit(r.url).path == "/b/"
            ) as posted:
                page.goto(url, wait_until="commit")
            page.locator("#ballot-entry").wait_for(state="detached")
            page.wait_for_load_state()
            self.assertEqual(urlsplit(page.url).fragment, "")  # out of the address bar
            return posted.value.status
        # A scan loads the page afresh; without JavaScript nothing would notice a
        # new fragment on the page already open at /b/.
        page.goto("about:blank")
        page.goto(url)
        page.get_by_label("选票码").fill(code_of(url))
        with page.expect_navigation() as navigation:
            self.tap(page.get_by_role("button", name="开始作答"))
        return navigation.value.status

    def submit(self, page, *, to: str = "**/done/") -> None:
        with page.expect_navigation(url=to):
            self.tap(page.get_by_role("button", name="提交"))

    def responses(self, point) -> int:
        """Accepted: written out, or waiting in the anonymity pool."""
        return accepted(point)


class Journeys(Respondent):
    """The journeys; run by the two classes below, with and without JavaScript."""

    def setUp(self) -> None:
        super().setUp()
        cache.clear()  # the flood limit and burst counts live in the cache
        settings = override_settings(PUBLIC_BASE_URL=self.live_server_url)
        settings.enable()
        self.addCleanup(settings.disable)
        self.school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
        self.committee = make_unit(
            "A", Unit.Kind.COMMITTEE, self.school, "teaching", name="甲学院党委"
        )
        self.branch = make_unit(
            "A-1", Unit.Kind.BRANCH, self.committee, "student", name="甲学院学生党支部"
        )
        self.window = make_unit(
            "A-W", Unit.Kind.WINDOW, self.branch, name="甲学院学生事务服务窗口"
        )
        office = make_user("office", Membership.Role.OFFICE, self.school)
        self.office = Client()
        self.office.force_login(office)
        # The spring round's results and rectification are published: the board
        # the thank-you and closed pages link to.
        spring = make_round(self.school, title="2026 年春季群众评议")
        campaign_close(campaign=spring)
        campaign_publish(campaign=spring)
        self.campaign = make_round(
            self.school,
            title="2026 年秋季群众评议",
            description="了解师生对各单位工作的评价，查找问题、推动整改",
        )
        Commitment.objects.create(
            campaign=self.campaign, unit=self.window, text="一次告知所需材料"
        )

    # --- What is printed ------------------------------------------------------

    def url_from_qr(self, point) -> str:
        png = self.office.get(f"/manage/points/{point.pk}/qr.png")
        self.assertEqual(png["Content-Type"], "image/png")
        (url,) = decode(Image.open(io.BytesIO(png.content)))
        return url

    def urls_from_slips(self, point, count: int) -> list[str]:
        pdf = self.office.post(
            f"/manage/points/{point.pk}/ballots/", {"count": str(count)}
        )
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        page = pdfium.PdfDocument(pdf.content)[0]
        urls = decode(page.render(scale=4).to_pil().convert("L"))
        self.assertEqual(len(urls), count)
        return urls

    def screenshot(self, page, name: str) -> None:
        """What the phone's screen shows (for the README), from the run with
        JavaScript, which is how nearly everyone answers."""
        if self.js:
            page.screenshot(path=SCREENSHOTS / f"{name}.png")

    # --- Journeys -------------------------------------------------------------

    def test_open_mode_answer_thank_you_board_and_already_answered(self):
        point = point_of(self.campaign, self.window)
        url = self.url_from_qr(point)
        self.assertEqual(url, f"{self.live_server_url}/s/{point.token}/")
        page = self.phone_page()
        response = page.goto(url)
        self.assertEqual(response.status, 200)
        # Who asks, why, until when, and the promise, before the first question.
        intro = page.locator("section.intro")
        for text in (
            "了解师生对各单位工作的评价",
            "截止时间：",
            "匿名作答，不记录姓名、学号、微信或 IP",
        ):
            self.assertTrue(intro.get_by_text(text).first.is_visible(), text)
        self.assertTrue(page.get_by_text("组织单位：测试大学").is_visible())
        self.assertTrue(page.get_by_role("heading", name="服务态度").is_visible())
        self.assert_one_column(page, point)
        self.assert_no_horizontal_scroll(page)
        self.screenshot(page, "respond_form")

        self.answer(page, point)
        self.submit(page)
        self.assertTrue(page.get_by_role("heading", name="感谢您的评价！").is_visible())
        self.assertEqual(self.responses(point), 1)
        self.screenshot(page, "respond_thanks")
        with page.expect_navigation():
            page.get_by_role("link", name="查看整改公示").tap()
        self.assertTrue(page.get_by_role("heading", name="整改公示").is_visible())

        # The same phone again: already answered, and nothing more is stored.
        response = page.goto(url)
        self.assertEqual(response.status, 200)
        self.assertTrue(page.get_by_role("heading", name="您已评价过").is_visible())
        self.assertEqual(self.responses(point), 1)

    def test_a_double_tap_on_submit_stores_one_response(self):
        point = point_of(self.campaign, self.window)
        page = self.phone_page()
        page.goto(self.url_from_qr(point))
        self.answer(page, point)
        posts = []
        page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
        button = page.get_by_role("button", name="提交")
        with page.expect_navigation(url="**/done/"):
            button.dblclick()
        # Let a second request still in flight reach the server before counting.
        page.wait_for_timeout(500)
        self.assertGreaterEqual(len(posts), 1)
        if self.js:
            self.assertEqual(len(posts), 1)  # the button turns itself off
        self.assertEqual(self.responses(point), 1)
        self.assertTrue(page.get_by_role("heading", name="感谢您的评价！").is_visible())

    def test_a_missing_required_answer_is_shown_at_its_question_and_nothing_is_lost(
        self,
    ):
        point = point_of(self.campaign, self.window)
        questions = form_spec(point.questionnaire).questions
        missing = next(q for q in questions if q.required and q.kind == "scale")
        page = self.phone_page()
        page.goto(self.url_from_qr(point))
        self.answer(page, point, skip=missing.id)
        with page.expect_navigation():
            self.tap(page.get_by_role("button", name="提交"))
        self.assertEqual(self.responses(point), 0)
        self.assertTrue(page.get_by_role("alert").is_visible())
        card = page.locator(f"#q{missing.id}")
        self.assertIn("err", card.get_attribute("class"))
        self.assertTrue(card.locator(".msg").is_visible())
        self.assertEqual(page.locator("section.card.err").count(), 1)
        # The alert links to the question.
        page.get_by_role("alert").get_by_role("link").first.tap()
        self.assertTrue(page.url.endswith(f"#q{missing.id}"))
        self.screenshot(page, "respond_error")
        # Every other answer is still there.
        for question in questions:
            if question.id != missing.id:
                self.assert_kept(page, question)

        self.tap(card.get_by_role("radio", name=missing.levels[0].label, exact=True))
        self.submit(page)
        self.assertEqual(self.responses(point), 1)

    def test_a_ballot_works_once_and_a_mistyped_code_has_its_page(self):
        ballot_round = make_round(
            self.school, mode="ballot", title="2026 年党员大会评议"
        )
        point = point_of(ballot_round, self.committee)
        first, second = self.urls_from_slips(point, 2)
        page = self.phone_page()
        self.assertEqual(self.open_slip(page, first), 200)
        self.assertTrue(page.get_by_text("选票随机发放，不登记领取人").is_visible())
        self.answer(page, point)
        self.submit(page)
        self.assertEqual(self.responses(point), 1)

        self.assertEqual(self.open_slip(page, first), 410)
        self.assertTrue(page.get_by_role("heading", name="选票已使用").is_visible())
        self.screenshot(page, "respond_ballot_used")

        code = code_of(second)
        wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
        self.assertEqual(self.open_slip(page, second.replace(code, wrong)), 404)
        self.assertTrue(page.get_by_role("heading", name="选票码无效").is_visible())
        self.assertEqual(self.responses(point), 1)

        # Each other kind of unit in the round (支部: 五好; window: 好差评): one slip
        # scanned, one typed into the unit's poster page.
        for unit in (self.branch, self.window):
            other = point_of(ballot_round, unit)
            scanned, typed = self.urls_from_slips(other, 2)
            self.open_slip(page, scanned)
            self.answer(page, other)
            self.submit(page)
            page.goto(f"{self.live_server_url}/s/{other.token}/")
            page.get_by_label("选票码").fill(code_of(typed))
            self.answer(page, other)
            self.submit(page)
            self.assertEqual(self.responses(other), 2, unit.name)

        # The slip's code typed into the round's poster page works too.
        page.goto(f"{self.live_server_url}/s/{point.token}/")
        page.get_by_label("选票码").fill(code)
        self.answer(page, point)
        self.submit(page)
        self.assertEqual(self.responses(point), 2)

    def test_not_yet_open_closed_and_unknown_points_have_their_pages(self):
        later = make_round(
            self.school,
            title="2027 年春季评议",
            opens_at=timezone.now() + timedelta(days=30),
            closes_at=timezone.now() + timedelta(days=45),
        )
        page = self.phone_page()
        response = page.goto(self.url_from_qr(point_of(later, self.window)))
        self.assertEqual(response.status, 403)
        self.assertTrue(page.get_by_role("heading", name="评议尚未开始").is_visible())
        self.assertTrue(page.get_by_text("评议时间：").is_visible())

        url = self.url_from_qr(point_of(self.campaign, self.window))
        campaign_close(campaign=self.campaign)
        response = page.goto(url)
        self.assertEqual(response.status, 410)
        self.assertTrue(page.get_by_role("heading", name="评议已结束").is_visible())
        with page.expect_navigation():
            page.get_by_role("link", name="查看整改公示").tap()
        self.assertTrue(page.get_by_role("heading", name="整改公示").is_visible())

        response = page.goto(f"{self.live_server_url}/s/AAAAAAAAAAAAAAAA/")
        self.assertEqual(response.status, 404)
        self.assertTrue(page.get_by_role("heading", name="二维码无效").is_visible())

    def test_every_builtin_questionnaire_is_answered(self):
        members = make_round(
            self.school, title="党员“五个模范”评议", kinds={"branch": "wugemofan"}
        )
        points = {
            "wuhao-committee": point_of(self.campaign, self.committee),
            "wuhao-branch": point_of(self.campaign, self.branch),
            "window": point_of(self.campaign, self.window),
            "wugemofan": point_of(members, self.branch),
        }
        page = self.phone_page()
        # No subTest here: a failure must reach BrowserTestCase to leave its
        # screenshot.
        for key, point in points.items():
            self.assertEqual(point.questionnaire.key, key)
            page.goto(self.url_from_qr(point))
            self.assert_sections(page, point)
            self.answer(page, point)
            self.submit(page)
            self.assertEqual(self.responses(point), 1, key)
        self.assertEqual(Campaign.objects.count(), 3)

    def test_keyboard_only(self):
        point = point_of(self.campaign, self.window)
        page = self.phone_page()
        page.goto(self.url_from_qr(point))
        questions = form_spec(point.questionnaire).questions
        # Every control has a name a screen reader reads out.
        for question in questions:
            group = page.get_by_role("group", name=re.compile(re.escape(question.text)))
            self.assertEqual(group.count(), 1, question.text)
            if question.kind == "scale":
                for level in question.levels:
                    radio = group.get_by_role("radio", name=level.label, exact=True)
                    self.assertEqual(radio.count(), 1, level.label)
            elif question.kind == "text":
                self.assertEqual(
                    group.get_by_role("textbox", name=question.text).count(), 1
                )
        # Tab reaches every question and the button, in order, each visibly focused.
        reached: list[str] = []
        for _ in range(len(questions) + 20):
            page.keyboard.press("Tab")
            focused = page.locator(":focus")
            name = focused.get_attribute("name") or focused.text_content()
            if name in reached:
                continue
            reached.append(name)
            self.assert_focus_visible(focused)
            if name.startswith("q"):
                self.answer_with_keys(page, questions, name)
            if name == "提交":
                break
        self.assertEqual(
            reached[-len(questions) - 1 :],
            [f"q{q.id}" for q in questions] + ["提交"],
        )
        with page.expect_navigation(url="**/done/"):
            page.keyboard.press("Enter")
        self.assertEqual(self.responses(point), 1)

    # --- Checks ---------------------------------------------------------------

    def answer_with_keys(self, page, questions, name: str) -> None:
        question = next(q for q in questions if f"q{q.id}" == name)
        if question.kind in ("scale", "single"):
            page.keyboard.press("Space")  # checks the first choice
        elif question.kind == "multiple":
            page.keyboard.press("Space")
        else:
            page.keyboard.type(COMMENT)

    def assert_focus_visible(self, focused) -> None:
        outline = focused.evaluate(
            """element => {
                const box = element.closest("label") || element;
                const style = getComputedStyle(box);
                const own = getComputedStyle(element);
                return [style.outlineStyle, style.outlineWidth,
                        own.outlineStyle, own.outlineWidth];
            }"""
        )
        label_style, label_width, own_style, own_width = outline
        visible = (label_style != "none" and label_width != "0px") or (
            own_style != "none" and own_width != "0px"
        )
        self.assertTrue(visible, outline)

    def assert_kept(self, page, question: QuestionSpec) -> None:
        card = page.locator(f"#q{question.id}")
        if question.kind == "scale":
            label = question.levels[0].label
            radio = card.get_by_role("radio", name=label, exact=True)
            self.assertTrue(radio.is_checked(), question.text)
        elif question.kind == "single":
            radio = card.get_by_role("radio", name=question.options[0].label)
            self.assertTrue(radio.is_checked(), question.text)
        elif question.kind == "multiple":
            for option in question.options[:2]:
                box = card.get_by_role("checkbox", name=option.label)
                self.assertTrue(box.is_checked(), option.label)
        else:
            self.assertEqual(card.locator("textarea").input_value(), COMMENT)

    def assert_one_column(self, page, point) -> None:
        """A scale reads top to bottom: each choice below the one before."""
        for question in form_spec(point.questionnaire).questions:
            if question.kind != "scale":
                continue
            boxes = page.locator(f"#q{question.id} .opts label").evaluate_all(
                "labels => labels.map(l => l.getBoundingClientRect().top)"
            )
            self.assertEqual(boxes, sorted(boxes), question.text)
            self.assertEqual(len(set(boxes)), len(boxes), question.text)

    def assert_no_horizontal_scroll(self, page) -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        self.assertLessEqual(width, 375)

    def assert_sections(self, page, point) -> None:
        dimensions = []
        for question in form_spec(point.questionnaire).questions:
            if question.dimension and question.dimension not in dimensions:
                dimensions.append(question.dimension)
        headings = page.locator("h2.section").all_text_contents()
        self.assertEqual(headings, dimensions)


class WithJavaScriptTests(Journeys, BrowserTestCase):
    js = True


class WithoutJavaScriptTests(Journeys, BrowserTestCase):
    js = False


class DemoTests(Respondent, BrowserTestCase):
    """What ``make run`` prints to try: the respondent URL and the ballot slips,
    answered on two phones, one with JavaScript and one without."""

    def test_the_demos_respondent_and_ballot_urls_reach_the_thank_you_page(self):
        out = io.StringIO()
        with override_settings(PUBLIC_BASE_URL=self.live_server_url):
            call_command("seed_demo", "--yes", stdout=out)
        printed = out.getvalue()
        (url,) = re.findall(r"Answer as a respondent: (\S+)", printed)
        slips = re.findall(r"^  (\S+/b/#\S+)$", printed, re.M)
        self.assertGreaterEqual(len(slips), 2)
        point = CollectionPoint.objects.select_related("questionnaire").get(
            token=url.rstrip("/").rsplit("/", 1)[1]
        )
        ballot_point = ballot_point_of(code_of(slips[0]))
        for number, js in enumerate((True, False), start=1):
            page = self.phone(js=js)
            page.goto(url)
            self.answer(page, point)
            self.submit(page)
            self.assertTrue(
                page.get_by_role("heading", name="感谢您的评价！").is_visible()
            )
            self.assertEqual(self.responses(point), number)

            self.open_slip(page, slips[number - 1], js=js)
            self.answer(page, ballot_point)
            self.submit(page)
            self.assertEqual(self.responses(ballot_point), number)
