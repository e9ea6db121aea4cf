"""The respondent pages /s/<token>/, /b/<code>/ and /s/<token>/done/, through a
browser-like client with CSRF checks on. Every refusal has its own page and status
and stores nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from questionnaires import ballots
from questionnaires.forms_spec import form_spec
from questionnaires.models import (
    Answer,
    BallotCode,
    Commitment,
    Response,
    SubmissionNonce,
)
from questionnaires.services import ballots_issue, campaign_close
from tests.base import PersonaTestCase

from .helpers import accepted, make_round, point_of, question, write_out

PAGE_LIMIT = 30 * 1024


def stored() -> tuple[int, int, int, int]:
    return (
        accepted(),
        Answer.objects.count(),
        SubmissionNonce.objects.count(),
        BallotCode.objects.filter(used_on__isnull=False).count(),
    )


class FormReader(HTMLParser):
    """The controls of a page: hidden values, checked boxes, textarea contents."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.checked: dict[str, set[str]] = {}
        self.inputs: list[dict[str, str | None]] = []
        self.textareas: dict[str, str] = {}
        self._textarea: str | None = None
        self.forms: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(attributes)
        elif tag == "input":
            self.inputs.append(attributes)
            name = attributes.get("name") or ""
            if attributes.get("type") == "hidden":
                self.hidden[name] = attributes.get("value") or ""
            if "checked" in attributes:
                self.checked.setdefault(name, set()).add(attributes.get("value") or "")
        elif tag == "textarea":
            self._textarea = attributes.get("name") or ""
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.textareas[self._textarea] += data


def section(html: str, question_id: int) -> str:
    """The card of one question on the page."""
    match = re.search(
        rf'<section class="[^"]*" id="q{question_id}">(.*?)</section>', html, re.S
    )
    assert match, f"no section for question {question_id}"
    return match.group(1)


class RespondCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_round(cls.school, title="2024 年秋季评议")
        cls.point = point_of(cls.campaign, cls.window_a)
        Commitment.objects.create(
            campaign=cls.campaign, unit=cls.window_a, text="一次告知所需材料", order=0
        )
        Commitment.objects.create(
            campaign=cls.campaign, unit=cls.window_a, text="午间不打烊", order=1
        )

    def setUp(self) -> None:
        cache.clear()  # the flood limit lives in the cache
        self.browser = Client(enforce_csrf_checks=True)

    def url(self, point=None) -> str:
        return f"/s/{(point or self.point).token}/"

    def open_form(self, url: str, client: Client | None = None) -> FormReader:
        page = (client or self.browser).get(url)
        self.assertEqual(page.status_code, 200)
        return FormReader(page.content.decode())

    def filled(self, point, form: FormReader, **overrides) -> dict:
        """A complete valid form: the first choice everywhere, a short comment."""
        data: dict = dict(form.hidden)
        for q in form_spec(point.questionnaire).questions:
            name = f"q{q.id}"
            if q.kind == "scale":
                data[name] = q.levels[0].code
            elif q.kind in ("single", "multiple"):
                data[name] = str(q.options[0].id)
            else:
                data[name] = "很好，继续保持。"
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    def csrf(self) -> str:
        """A valid token for this client, from the one open form."""
        return self.open_form(self.url()).hidden["csrfmiddlewaretoken"]

    def assert_refused(self, response, status: int, text: str) -> None:
        self.assertEqual(response.status_code, status)
        self.assertContains(response, text, status_code=status)


class FormPageTests(RespondCase):
    def test_it_shows_the_unit_round_commitments_and_every_question(self):
        page = self.browser.get(self.url())
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "甲学院服务窗口")
        self.assertContains(page, "2024 年秋季评议")
        self.assertContains(page, "一次告知所需材料")
        self.assertContains(page, "午间不打烊")
        html = page.content.decode()
        for q in form_spec(self.point.questionnaire).questions:
            self.assertIn(q.text, html)
            self.assertIn(f'name="q{q.id}"', html)
        form = FormReader(html)
        self.assertRegex(form.hidden["nonce"], r"^[A-Za-z0-9_-]{16,64}$")
        self.assertTrue(form.hidden["csrfmiddlewaretoken"])

    def test_each_visit_gets_a_fresh_nonce(self):
        first = self.open_form(self.url()).hidden["nonce"]
        second = self.open_form(self.url()).hidden["nonce"]
        self.assertNotEqual(first, second)

    def test_commitments_of_other_units_or_rounds_are_not_shown(self):
        Commitment.objects.create(
            campaign=self.campaign, unit=self.unit_a, text="别的单位的承诺"
        )
        other_round = make_round(self.school, open_it=False, title="别的轮次")
        Commitment.objects.create(
            campaign=other_round, unit=self.window_a, text="别的轮次的承诺"
        )
        page = self.browser.get(self.url())
        self.assertNotContains(page, "别的单位的承诺")
        self.assertNotContains(page, "别的轮次的承诺")

    def test_every_builtin_questionnaire_fits_in_30_kb_and_loads_only_our_files(self):
        wugemofan = make_round(
            self.school, title="党员评议", kinds={"branch": "wugemofan"}
        )
        points = {
            "wuhao-committee": point_of(self.campaign, self.unit_a),
            "wuhao-branch": point_of(self.campaign, self.branch_a),
            "window": self.point,
            "wugemofan": point_of(wugemofan, self.branch_b),
        }
        for key, point in points.items():
            with self.subTest(questionnaire=key):
                self.assertEqual(point.questionnaire.key, key)
                page = self.browser.get(self.url(point))
                self.assertEqual(page.status_code, 200)
                html = page.content.decode()
                hosts = set(re.findall(r"(?:https?:)?//([\w.-]+)", html))
                self.assertLessEqual(hosts, {"testserver"}, "links to another host")
                # One stylesheet and one script of our own (no inline script or
                # style: the Content-Security-Policy allows neither), all of it
                # together within the limit, and nothing they load in turn.
                loaded = re.findall(
                    r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html
                )
                files = [url for url in loaded if not url.startswith("data:")]
                self.assertEqual(
                    sorted(files), ["/static/css/respond.css", "/static/js/respond.js"]
                )
                texts = [
                    Path(finders.find(url.removeprefix("/static/"))).read_bytes()
                    for url in files
                ]
                weight = len(page.content) + sum(len(text) for text in texts)
                self.assertLessEqual(weight, PAGE_LIMIT)
                for text in [page.content, *texts]:
                    self.assertNotRegex(text.decode(), r"@import|url\(|fetch\(|XMLHttp")
                # Works without JavaScript: a plain POST form with a submit button.
                self.assertRegex(html, r'<form method="post"[^>]*>')
                self.assertIn('type="submit"', html)

    def test_an_unknown_point_has_its_own_page(self):
        page = self.browser.get("/s/no-such-token/")
        self.assert_refused(page, 404, "二维码无效")


class SubmitFormTests(RespondCase):
    def test_a_full_valid_form_is_stored_and_redirects_to_thanks(self):
        form = self.open_form(self.url())
        answer = self.browser.post(self.url(), self.filled(self.point, form))
        self.assertRedirects(
            answer, f"/s/{self.point.token}/done/", fetch_redirect_response=False
        )
        write_out(self.point)
        response = Response.objects.get()
        self.assertEqual(response.point, self.point)
        self.assertEqual(
            response.answers.count(), len(form_spec(self.point.questionnaire).questions)
        )
        self.assertEqual(Answer.objects.exclude(text="").get().text, "很好，继续保持。")

    def test_the_thanks_page_says_thanks(self):
        page = self.browser.get(f"/s/{self.point.token}/done/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "感谢您的评价")
        self.assertContains(page, "甲学院服务窗口")

    def test_the_thanks_page_of_an_unknown_point_is_404(self):
        self.assertEqual(self.browser.get("/s/nothing-here/done/").status_code, 404)

    def test_a_second_visit_shows_already_answered_and_a_second_post_stores_nothing(
        self,
    ):
        form = self.open_form(self.url())
        self.browser.post(self.url(), self.filled(self.point, form))
        self.assertEqual(stored()[0], 1)
        again = self.browser.get(self.url())
        self.assertContains(again, "您已评价过")
        self.assertNotContains(again, "<form")
        before = stored()
        fresh = self.filled(self.point, form, nonce="another-nonce-0000000000")
        post = self.browser.post(self.url(), fresh)
        self.assertContains(post, "您已评价过")
        self.assertEqual(stored(), before)

    def test_the_answered_cookie_is_signed(self):
        form = self.open_form(self.url())
        self.browser.post(self.url(), self.filled(self.point, form))
        name = f"answered_{self.point.pk}"
        self.assertIn(name, self.browser.cookies)
        self.browser.cookies[name] = "1"  # forged: not signed by us
        self.assertContains(self.browser.get(self.url()), "<form")

    def test_a_double_tap_stores_one_response(self):
        form = self.open_form(self.url())
        data = self.filled(self.point, form)
        first = self.browser.post(self.url(), data)
        # The second tap left before the first answer (and its cookie) came back.
        del self.browser.cookies[f"answered_{self.point.pk}"]
        second = self.browser.post(self.url(), data)
        self.assertEqual(first.status_code, 302)
        self.assertEqual(second.status_code, 302)
        self.assertEqual(second["Location"], first["Location"])
        self.assertEqual(stored()[:3], (1, Answer.objects.count(), 1))
        self.assertEqual(accepted(), 1)

    def test_a_post_without_the_csrf_token_is_refused(self):
        form = self.open_form(self.url())
        data = self.filled(self.point, form, csrfmiddlewaretoken=None)
        self.assertEqual(self.browser.post(self.url(), data).status_code, 403)
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_missing_headline_re_renders_the_form_with_the_answers_kept(self):
        form = self.open_form(self.url())
        headline = question(self.point, "scale", headline=True)
        scale = question(self.point, "scale", headline=False)
        multiple = question(self.point, "multiple")
        text = question(self.point, "text")
        chosen_level = scale.levels[2].code
        chosen_options = [str(multiple.options[1].id), str(multiple.options[3].id)]
        data = self.filled(self.point, form)
        del data[f"q{headline.id}"]
        data[f"q{scale.id}"] = chosen_level
        data[f"q{multiple.id}"] = chosen_options
        data[f"q{text.id}"] = "食堂排队太久 <b>请改进</b>\n第二行"
        page = self.browser.post(self.url(), data)

        self.assertEqual(page.status_code, 400)
        self.assertEqual(stored(), (0, 0, 0, 0))
        html = page.content.decode()
        self.assertIn("此题为必答题", section(html, headline.id))
        self.assertNotIn("此题为必答题", section(html, scale.id))
        # The alert at the top links to the question, far down a phone screen.
        self.assertIn(f'href="#q{headline.id}"', html)
        again = FormReader(html)
        self.assertEqual(again.checked[f"q{scale.id}"], {chosen_level})
        self.assertEqual(again.checked[f"q{multiple.id}"], set(chosen_options))
        self.assertNotIn(f"q{headline.id}", again.checked)
        self.assertEqual(
            again.textareas[f"q{text.id}"], "食堂排队太久 <b>请改进</b>\n第二行"
        )
        self.assertNotIn("<b>请改进</b>", html, "the typed text must be escaped")

        # The respondent adds the headline and sends the same form again.
        fixed = {
            **data,
            **again.hidden,
            f"q{headline.id}": headline.levels[0].code,
        }
        self.assertEqual(self.browser.post(self.url(), fixed).status_code, 302)
        self.assertEqual(accepted(), 1)
        write_out(self.point)
        self.assertEqual(
            Answer.objects.get(question_id=scale.id).level.code, chosen_level
        )

    def test_an_unknown_level_is_refused_inline(self):
        form = self.open_form(self.url())
        scale = question(self.point, "scale", headline=False)
        data = self.filled(self.point, form, **{f"q{scale.id}": "ecstatic"})
        page = self.browser.post(self.url(), data)
        self.assertEqual(page.status_code, 400)
        self.assertIn("不是此题的选项", section(page.content.decode(), scale.id))
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_an_option_that_is_not_a_number_is_refused_inline(self):
        form = self.open_form(self.url())
        single = question(self.point, "single")
        for value in ("²", "abc", "9" * 5000):
            with self.subTest(value=value[:10]):
                data = self.filled(self.point, form, **{f"q{single.id}": value})
                page = self.browser.post(self.url(), data)
                self.assertEqual(page.status_code, 400)
                self.assertIn("options", section(page.content.decode(), single.id))
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_text_over_2000_characters_is_refused_inline(self):
        form = self.open_form(self.url())
        text = question(self.point, "text")
        data = self.filled(self.point, form, **{f"q{text.id}": "长" * 2001})
        page = self.browser.post(self.url(), data)
        self.assertEqual(page.status_code, 400)
        self.assertIn("最多 2000 个字", section(page.content.decode(), text.id))
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_line_breaks_count_once_as_the_browser_counts_them(self):
        # A browser lets 2,000 characters through maxlength counting each line
        # break once, then sends every break as CR LF.
        form = self.open_form(self.url())
        text = question(self.point, "text")
        typed = "\r\n".join(["长" * 199] * 10) + "长"
        self.assertEqual(len(typed.replace("\r\n", "\n")), 2000)
        data = self.filled(self.point, form, **{f"q{text.id}": typed})
        self.assertEqual(self.browser.post(self.url(), data).status_code, 302)
        write_out(self.point)
        self.assertEqual(
            Answer.objects.get(question_id=text.id).text, typed.replace("\r\n", "\n")
        )

    def test_a_body_over_64_kb_is_refused(self):
        form = self.open_form(self.url())
        text = question(self.point, "text")
        data = self.filled(self.point, form, **{f"q{text.id}": "x" * (65 * 1024)})
        page = self.browser.post(self.url(), data)
        self.assert_refused(page, 413, "提交内容过长")
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_large_upload_is_refused_before_it_is_read(self):
        form = self.open_form(self.url())
        data = self.filled(self.point, form)
        data["file"] = SimpleUploadedFile("big.bin", b"\0" * (200 * 1024))
        # If the body were parsed first, the missing-token 403 of the CSRF check
        # would come before the 413.
        del data["csrfmiddlewaretoken"]
        page = self.browser.post(self.url(), data)
        self.assertEqual(page.status_code, 413)
        self.assertEqual(stored(), (0, 0, 0, 0))

    @override_settings(SUBMIT_RATE_LIMIT=(2, 600))
    def test_too_many_submissions_from_one_address_are_refused(self):
        for _ in range(2):
            client = Client(enforce_csrf_checks=True)
            form = self.open_form(self.url(), client)
            answer = client.post(self.url(), self.filled(self.point, form))
            self.assertEqual(answer.status_code, 302)
        client = Client(enforce_csrf_checks=True)
        form = self.open_form(self.url(), client)
        page = client.post(self.url(), self.filled(self.point, form))
        self.assert_refused(page, 429, "提交过于频繁")
        self.assertEqual(accepted(), 2)
        self.assertEqual(SubmissionNonce.objects.count(), 2)


class RoundStateTests(RespondCase):
    def test_a_round_not_yet_open_has_its_own_page(self):
        now = timezone.now()
        later = make_round(
            self.school,
            title="下学期",
            opens_at=now + timedelta(days=3),
            closes_at=now + timedelta(days=10),
        )
        point = point_of(later, self.window_a)
        self.assert_refused(self.browser.get(self.url(point)), 403, "评议尚未开始")
        form = self.filled(point, FormReader(""), csrfmiddlewaretoken=self.csrf())
        form["nonce"] = "early-nonce-00000000000"
        self.assert_refused(
            self.browser.post(self.url(point), form), 403, "评议尚未开始"
        )
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_closed_round_has_its_own_page(self):
        token = self.csrf()
        form = self.open_form(self.url())
        campaign_close(campaign=self.campaign)
        self.assert_refused(self.browser.get(self.url()), 410, "评议已结束")
        data = self.filled(self.point, form, csrfmiddlewaretoken=token)
        self.assert_refused(self.browser.post(self.url(), data), 410, "评议已结束")
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_round_past_its_closing_time_is_closed(self):
        form = self.open_form(self.url())
        self.campaign.closes_at = timezone.now() - timedelta(minutes=1)
        self.campaign.opens_at = timezone.now() - timedelta(days=2)
        self.campaign.save(update_fields=["opens_at", "closes_at"])
        data = self.filled(self.point, form)
        self.assert_refused(self.browser.post(self.url(), data), 410, "评议已结束")
        self.assertEqual(stored(), (0, 0, 0, 0))


class BallotPageTests(RespondCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.ballot_round = make_round(
            cls.school, mode="ballot", title="党员评议", kinds={"branch": "wugemofan"}
        )
        cls.ballot_point = point_of(cls.ballot_round, cls.branch_a)

    def setUp(self) -> None:
        super().setUp()
        self.codes = ballots_issue(point=self.ballot_point, count=2)

    def test_a_ballot_slip_opens_the_form_without_asking_for_the_code(self):
        page = self.browser.get(f"/b/{self.codes[0]}/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "甲学院学生党支部")
        # The code goes on in a hidden field, not in a box to type it into.
        self.assertNotContains(page, 'id="ballot"')
        self.assertEqual(
            FormReader(page.content.decode()).hidden["ballot"], self.codes[0]
        )
        for q in form_spec(self.ballot_point.questionnaire).questions:
            self.assertContains(page, f'name="q{q.id}"')

    def test_a_ballot_slip_stores_one_response_and_is_used_up(self):
        url = f"/b/{self.codes[0]}/"
        form = self.open_form(url)
        answer = self.browser.post(url, self.filled(self.ballot_point, form))
        self.assertRedirects(
            answer,
            f"/s/{self.ballot_point.token}/done/",
            fetch_redirect_response=False,
        )
        self.assertEqual(stored(), (1, Answer.objects.count(), 1, 1))
        write_out(self.ballot_point)
        self.assertEqual(Response.objects.get().point, self.ballot_point)
        # No "already answered" cookie in ballot mode: the ballot itself is the limit.
        self.assertNotIn(f"answered_{self.ballot_point.pk}", self.browser.cookies)
        # The other ballot still works.
        other = f"/b/{self.codes[1]}/"
        self.assertEqual(self.browser.get(other).status_code, 200)

    def test_a_used_ballot_has_its_own_page(self):
        url = f"/b/{self.codes[0]}/"
        form = self.open_form(url)
        self.browser.post(url, self.filled(self.ballot_point, form))
        before = stored()
        self.assert_refused(self.browser.get(url), 410, "选票已使用")
        data = self.filled(self.ballot_point, form, nonce="second-use-000000000000")
        self.assert_refused(self.browser.post(url, data), 410, "选票已使用")
        self.assertEqual(stored(), before)

    def test_a_double_tap_on_a_ballot_slip_lands_on_thanks(self):
        url = f"/b/{self.codes[0]}/"
        data = self.filled(self.ballot_point, self.open_form(url))
        first = self.browser.post(url, data)
        second = self.browser.post(url, data)
        self.assertEqual(first.status_code, 302)
        self.assertRedirects(
            second,
            f"/s/{self.ballot_point.token}/done/",
            fetch_redirect_response=False,
        )
        self.assertEqual(stored(), (1, Answer.objects.count(), 1, 1))

    def test_an_unknown_ballot_has_its_own_page(self):
        for code in ("0" * 16, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "short"):
            with self.subTest(code=code):
                self.assert_refused(self.browser.get(f"/b/{code}/"), 404, "选票码无效")
        data = self.filled(
            self.ballot_point, FormReader(""), csrfmiddlewaretoken=self.csrf()
        )
        data["nonce"] = "unknown-ballot-000000000"
        self.assert_refused(
            self.browser.post(f"/b/{'0' * 16}/", data), 404, "选票码无效"
        )
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_ballot_of_a_closed_round_is_refused(self):
        campaign_close(campaign=self.ballot_round)
        self.assert_refused(self.browser.get(f"/b/{self.codes[0]}/"), 410, "评议已结束")

    def test_the_point_form_in_ballot_mode_asks_for_the_code(self):
        form = self.open_form(self.url(self.ballot_point))
        self.assertIn("ballot", [i.get("name") for i in form.inputs])
        grouped = ballots.grouped(self.codes[1])
        self.assertRegex(grouped, r"^\w{4}-\w{4}-\w{4}-\w{4}$")
        data = self.filled(self.ballot_point, form, ballot=grouped.lower())
        answer = self.browser.post(self.url(self.ballot_point), data)
        self.assertEqual(answer.status_code, 302)
        self.assertEqual(stored(), (1, Answer.objects.count(), 1, 1))
        self.assertEqual(self.browser.get(f"/b/{self.codes[1]}/").status_code, 410)

    def test_the_point_form_in_ballot_mode_refuses_a_post_without_a_code(self):
        form = self.open_form(self.url(self.ballot_point))
        data = self.filled(self.ballot_point, form)
        data.pop("ballot", None)
        page = self.browser.post(self.url(self.ballot_point), data)
        self.assertEqual(page.status_code, 400)
        self.assertContains(page, "需凭选票码", status_code=400)
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_mistyped_code_keeps_the_answers_and_marks_the_code(self):
        form = self.open_form(self.url(self.ballot_point))
        headline = question(self.ballot_point, "scale", headline=True)
        data = self.filled(
            self.ballot_point,
            form,
            ballot="0000-0000-0000-0000",
            **{f"q{headline.id}": headline.levels[2].code},
        )
        page = self.browser.post(self.url(self.ballot_point), data)
        self.assertEqual(page.status_code, 400)
        self.assertContains(page, "选票码无效", status_code=400)
        again = FormReader(page.content.decode())
        self.assertEqual(again.checked[f"q{headline.id}"], {headline.levels[2].code})
        ballot_input = next(i for i in again.inputs if i.get("name") == "ballot")
        self.assertEqual(ballot_input.get("value"), "0000-0000-0000-0000")
        self.assertEqual(stored(), (0, 0, 0, 0))
