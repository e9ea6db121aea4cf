"""Text answers with control characters or lone surrogates are refused, and say where.

The sealed pool pads every submission to the widest a valid one can encode to
(questionnaires.pool), four bytes a character; these characters would take more
(JSON's six-byte escapes) or cannot be encoded at all. So they are refused with
the character's position and code point, on the service, the API and the form,
and nothing is stored. Tabs, line breaks and characters beyond the BMP are text.
"""

from __future__ import annotations

import json

from django.core.cache import cache
from django.test import Client, override_settings

from questionnaires.models import Answer
from questionnaires.services import SubmissionInvalid, response_submit
from tests.base import PersonaTestCase

from .helpers import accepted, full_answers, make_round, point_of, question, write_out
from .test_public_api import stored
from .test_respond_pages import FormReader

UNSAVABLE = {
    "NUL": "\x00",
    "SOH": "\x01",
    "vertical tab": "\x0b",
    "escape": "\x1b",
    "DEL": "\x7f",
    "C1 NEL": "\x85",
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff",
}


@override_settings(SUBMIT_RATE_LIMIT=None, ANONYMITY_BATCH=1)
class UnsavableTextTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_round(cls.school)
        cls.point = point_of(cls.campaign, cls.window_a)

    def setUp(self) -> None:
        cache.clear()

    def answers(self, text: str) -> list[dict]:
        comment = question(self.point, "text").id
        return [
            {**a, "text": text} if a["question"] == comment else a
            for a in full_answers(self.point)
        ]

    def path(self) -> str:
        comment = question(self.point, "text").id
        index = next(
            i
            for i, a in enumerate(full_answers(self.point))
            if a["question"] == comment
        )
        return f"answers.{index}.text"

    def test_it_refuses_each_on_the_service_naming_position_and_code(self):
        for name, char in UNSAVABLE.items():
            with self.subTest(name):
                before = stored()
                with self.assertRaises(SubmissionInvalid) as refused:
                    response_submit(
                        point=self.point,
                        answers=self.answers(f"很好{char}继续"),
                        nonce=f"unsavable-{ord(char):06d}-000000",
                        client_address="10.0.0.1",
                    )
                (message,) = refused.exception.errors.by_path[self.path()]
                self.assertIn("第 3 个字符", message)
                self.assertIn(f"U+{ord(char):04X}", message)
                self.assertEqual(stored(), before, "a refusal must store nothing")

    def test_it_refuses_them_on_the_api_with_a_400_not_a_crash(self):
        client = self.api()
        url = f"/api/v1/public/points/{self.point.token}/"
        for name, char in UNSAVABLE.items():
            with self.subTest(name):
                before = stored()
                # As a client sends it: JSON spells a lone surrogate "\ud800".
                body = json.dumps(
                    {
                        "answers": self.answers(f"首{char}尾"),
                        "nonce": f"api-unsavable-{ord(char):06d}",
                    }
                )
                response = client.post(url, body, content_type="application/json")
                self.assertEqual(response.status_code, 400, response.content)
                (message,) = response.json()["errors"][self.path()]
                self.assertIn(f"U+{ord(char):04X}", message)
                self.assertEqual(stored(), before, "a refusal must store nothing")

    def test_it_refuses_them_on_the_form_and_keeps_the_answers(self):
        browser = Client(enforce_csrf_checks=True)
        url = f"/s/{self.point.token}/"
        form = FormReader(browser.get(url).content.decode())
        comment = question(self.point, "text").id
        data = dict(form.hidden)
        for answer in full_answers(self.point):
            name = f"q{answer['question']}"
            if "level" in answer:
                data[name] = answer["level"]
            elif "options" in answer:
                data[name] = str(answer["options"][0])
        data[f"q{comment}"] = "好\x1b好"
        before = stored()
        response = browser.post(url, data)
        self.assertContains(response, "U+001B", status_code=400)
        self.assertContains(response, "第 2 个字符", status_code=400)
        self.assertEqual(stored(), before, "a refusal must store nothing")

    def test_tabs_line_breaks_quotes_and_emoji_are_text_and_are_kept(self):
        text = 'a\tb\nc\r"d"\\e \u2028 😀𠀀 好'
        response_submit(
            point=self.point,
            answers=self.answers(text),
            nonce="unsavable-kept-000000",
            client_address="10.0.0.1",
        )
        write_out(self.point)
        self.assertEqual(accepted(self.point), 1)
        self.assertEqual(
            Answer.objects.get(point=self.point, question__kind="text").text, text
        )
