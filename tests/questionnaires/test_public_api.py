"""GET/POST /api/v1/public/points/<token>/: the respondent API for app clients.

Every refusal is a 4xx with ``{"detail", "errors"}``, errors named by path
(``answers.2.level``), and stores nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from questionnaires.forms_spec import form_spec
from questionnaires.models import (
    Answer,
    BallotCode,
    Commitment,
    Question,
    Response,
    SubmissionNonce,
)
from questionnaires.services import ballots_issue, campaign_close
from tests.base import PersonaTestCase

from .helpers import (
    accepted,
    full_answers,
    make_round,
    point_of,
    question,
    write_out,
)

NONCE = "api-nonce-000000000000"
QUESTION_KEYS = {
    "id",
    "kind",
    "text",
    "required",
    "dimension",
    "levels",
    "options",
}


def stored() -> tuple[int, int, int, int]:
    return (
        accepted(),
        Answer.objects.count(),
        SubmissionNonce.objects.count(),
        BallotCode.objects.filter(used_on__isnull=False).count(),
    )


class PublicApiCase(PersonaTestCase):
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
        cache.clear()
        self.client = self.api()

    def url(self, point=None) -> str:
        return f"/api/v1/public/points/{(point or self.point).token}/"

    def post(self, body, point=None, **extra):
        return self.client.post(self.url(point), body, format="json", **extra)

    def body(self, answers=None, **fields) -> dict:
        return {
            "answers": full_answers(self.point) if answers is None else answers,
            "nonce": NONCE,
            **fields,
        }

    def assert_error(self, response, status: int) -> dict:
        """The one error shape; returns ``errors``."""
        self.assertEqual(response.status_code, status, response.content)
        data = response.json()
        self.assertIsInstance(data["detail"], str)
        self.assertTrue(data["detail"])
        self.assertIsInstance(data["errors"], dict)
        for path, messages in data["errors"].items():
            self.assertIsInstance(messages, list, path)
            self.assertTrue(all(isinstance(m, str) and m for m in messages), path)
        return data["errors"]


class ReadTests(PublicApiCase):
    def test_it_returns_the_round_unit_commitments_and_questionnaire(self):
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual(
            set(data), {"campaign", "unit", "commitments", "questionnaire"}
        )
        self.assertEqual(data["campaign"]["id"], self.campaign.pk)
        self.assertEqual(data["campaign"]["title"], "2024 年秋季评议")
        self.assertEqual(data["unit"], {"code": "A-W", "name": "甲学院服务窗口"})
        self.assertEqual(data["commitments"], ["一次告知所需材料", "午间不打烊"])
        questionnaire = data["questionnaire"]
        self.assertEqual(questionnaire["id"], self.point.questionnaire_id)
        self.assertEqual(questionnaire["version"], 1)

        stored_questions = list(
            Question.objects.filter(questionnaire=self.point.questionnaire)
            .select_related("dimension")
            .order_by("order")
        )
        items = questionnaire["questions"]
        self.assertEqual([q["id"] for q in items], [q.id for q in stored_questions])
        for item, model in zip(items, stored_questions, strict=True):
            with self.subTest(question=model.code):
                self.assertLessEqual(QUESTION_KEYS, set(item))
                self.assertEqual(item["kind"], model.kind)
                self.assertEqual(item["text"], model.text)
                self.assertIs(item["required"], model.required)
                self.assertEqual(
                    item["dimension"], model.dimension.title if model.dimension else ""
                )
                levels = (
                    [
                        {"code": level.code, "label": level.label}
                        for level in model.scale.levels.order_by("order")
                    ]
                    if model.scale
                    else []
                )
                self.assertEqual(item["levels"], levels)
                self.assertEqual(
                    item["options"],
                    [{"id": o.id, "label": o.label} for o in model.options.all()],
                )

    def test_the_kinds_carry_levels_or_options_as_they_should(self):
        items = self.client.get(self.url()).json()["questionnaire"]["questions"]
        by_kind = {item["kind"]: item for item in items}
        self.assertEqual(set(by_kind), {"scale", "single", "multiple", "text"})
        self.assertEqual(
            [lv["label"] for lv in by_kind["scale"]["levels"]],
            ["非常满意", "满意", "基本满意", "不满意", "非常不满意"],
        )
        self.assertEqual(by_kind["scale"]["options"], [])
        self.assertEqual(
            [o["label"] for o in by_kind["single"]["options"]],
            ["已办结", "部分办结", "未办结"],
        )
        self.assertEqual(by_kind["single"]["levels"], [])
        self.assertEqual(by_kind["text"]["levels"], [])
        self.assertEqual(by_kind["text"]["options"], [])
        headline = [item for item in items if item["required"]]
        self.assertEqual(len(headline), 1)
        self.assertEqual(headline[0]["text"], "您对本窗口服务的总体评价")

    def test_a_forged_token_is_404(self):
        self.assert_error(self.client.get("/api/v1/public/points/forged-token/"), 404)

    def test_it_needs_no_login_and_sets_no_cookie(self):
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        self.assertFalse(response.cookies)


class SubmitTests(PublicApiCase):
    def test_a_valid_submission_is_201(self):
        response = self.post(self.body())
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json(), {"stored": True})
        self.assertFalse(response.cookies)
        write_out(self.point)
        stored_response = Response.objects.get()
        self.assertEqual(stored_response.point, self.point)
        self.assertEqual(stored_response.answers.count(), len(full_answers(self.point)))

    def test_the_same_nonce_twice_is_201_twice_but_one_response(self):
        first = self.post(self.body())
        second = self.post(self.body())
        self.assertEqual((first.status_code, second.status_code), (201, 201))
        self.assertEqual(first.json(), {"stored": True})
        self.assertEqual(second.json(), {"stored": False})
        self.assertEqual(accepted(), 1)

    def test_only_the_required_answer_is_enough(self):
        headline = question(self.point, "scale", headline=True)
        answers = [{"question": headline.id, "level": "satisfied"}]
        self.assertEqual(self.post(self.body(answers)).status_code, 201)

    def refused(self, body, status: int = 400, point=None) -> dict:
        before = stored()
        errors = self.assert_error(self.post(body, point=point), status)
        self.assertEqual(stored(), before, "a refusal must store nothing")
        return errors

    def test_each_bad_answer_is_named_by_index_and_field(self):
        full = full_answers(self.point)
        scale = question(self.point, "scale", headline=False)
        headline = question(self.point, "scale", headline=True)
        single = question(self.point, "single")
        multiple = question(self.point, "multiple")
        text = question(self.point, "text")

        def without(q) -> list[dict]:
            return [a for a in full if a["question"] != q.id]

        def replaced(q, **answer) -> list[dict]:
            return [*without(q), {"question": q.id, **answer}]

        last = len(full) - 1
        cases = {
            "unknown question": (
                [*full, {"question": 999999, "level": "satisfied"}],
                f"answers.{len(full)}.question",
            ),
            "unknown level": (
                replaced(scale, level="ecstatic"),
                f"answers.{last}.level",
            ),
            # The window's scale is 好差评: "dont_know" belongs to three_dk only.
            "level of another scale": (
                replaced(scale, level="dont_know"),
                f"answers.{last}.level",
            ),
            "missing required answer": (without(headline), f"questions.{headline.id}"),
            "two options on a single choice": (
                replaced(single, options=[single.options[0].id, single.options[1].id]),
                f"answers.{last}.options",
            ),
            "an option of another question": (
                replaced(single, options=[multiple.options[0].id]),
                f"answers.{last}.options",
            ),
            "text over 2000 characters": (
                replaced(text, text="长" * 2001),
                f"answers.{last}.text",
            ),
            "answers not a list": ({"question": scale.id}, "answers"),
            "question as a string": (
                [{"question": str(scale.id), "level": "satisfied"}],
                "answers.0.question",
            ),
            "options not a list": (
                replaced(multiple, options=multiple.options[0].id),
                f"answers.{last}.options",
            ),
            "text as a number": (replaced(text, text=42), f"answers.{last}.text"),
            "level as a number": (replaced(scale, level=1), f"answers.{last}.level"),
            "an answer not an object": ([*full[:1], "satisfied"], "answers.1"),
            "the same question twice": (
                [*full, full[0]],
                f"answers.{len(full)}.question",
            ),
        }
        for name, (answers, path) in cases.items():
            with self.subTest(name):
                errors = self.refused(self.body(answers))
                self.assertIn(path, errors)

    def test_a_missing_or_malformed_nonce(self):
        for nonce in (None, "short", "has spaces in it!!!!", 1234567890123456789):
            with self.subTest(nonce=nonce):
                body = self.body()
                if nonce is None:
                    del body["nonce"]
                else:
                    body["nonce"] = nonce
                self.assertIn("nonce", self.refused(body))

    def test_a_nonce_with_a_trailing_newline_is_refused(self):
        self.assertIn("nonce", self.refused(self.body(nonce="a" * 20 + "\n")))

    def test_a_body_that_is_not_an_object(self):
        for body in ([], ["answers"], "answers", 42, None):
            with self.subTest(body=body):
                response = self.client.post(
                    self.url(), json.dumps(body), content_type="application/json"
                )
                self.assertIn("non_field_errors", self.assert_error(response, 400))
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_malformed_json(self):
        before = stored()
        response = self.client.post(
            self.url(), '{"answers": [', content_type="application/json"
        )
        self.assert_error(response, 400)
        self.assertEqual(stored(), before)

    def test_a_form_encoded_body_is_refused(self):
        response = self.client.post(self.url(), {"nonce": NONCE})
        self.assert_error(response, 415)
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_an_unknown_top_level_field(self):
        errors = self.refused(self.body(respondent="张三"))
        self.assertEqual(list(errors), ["respondent"])

    def test_a_malformed_content_length_is_a_client_error(self):
        response = self.post(self.body(), CONTENT_LENGTH="many")
        self.assert_error(response, 400)
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_body_over_64_kb_is_413(self):
        text = question(self.point, "text")
        answers = [a for a in full_answers(self.point) if a["question"] != text.id] + [
            {"question": text.id, "text": "x" * (65 * 1024)}
        ]
        self.assertGreater(len(json.dumps(self.body(answers))), 64 * 1024)
        self.refused(self.body(answers), 413)

    def test_a_closed_round_is_410(self):
        campaign_close(campaign=self.campaign)
        self.refused(self.body(), 410)

    def test_a_round_not_yet_open_is_403(self):
        now = timezone.now()
        later = make_round(
            self.school,
            title="下学期",
            opens_at=now + timedelta(days=3),
            closes_at=now + timedelta(days=10),
        )
        point = point_of(later, self.window_a)
        self.assertEqual(
            self.client.get(self.url(point)).json()["campaign"]["state"], "not_open"
        )
        self.refused(self.body(full_answers(point)), 403, point=point)

    def test_a_forged_token_is_404_on_post_too(self):
        before = stored()
        response = self.client.post(
            "/api/v1/public/points/forged-token/", self.body(), format="json"
        )
        self.assert_error(response, 404)
        self.assertEqual(stored(), before)

    def test_a_ballot_in_open_mode_is_400(self):
        errors = self.refused(self.body(ballot="ABCD-EFGH-JKMN-PQRS"))
        self.assertIn("ballot", errors)

    @override_settings(SUBMIT_RATE_LIMIT=(2, 600))
    def test_a_flood_is_429(self):
        for i in range(2):
            body = self.body(nonce=f"flood-nonce-{i:012d}")
            self.assertEqual(self.post(body).status_code, 201)
        self.refused(self.body(nonce="flood-nonce-final-000"), 429)
        self.assertEqual(accepted(), 2)


class BallotSubmitTests(PublicApiCase):
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

    def ballot_body(self, ballot, nonce=NONCE) -> dict:
        body = {"answers": full_answers(self.ballot_point), "nonce": nonce}
        if ballot is not None:
            body["ballot"] = ballot
        return body

    def test_the_read_says_a_ballot_is_needed(self):
        data = self.client.get(self.url(self.ballot_point)).json()
        self.assertEqual(data["campaign"]["access_mode"], "ballot")
        self.assertEqual(
            [q["id"] for q in data["questionnaire"]["questions"]],
            [q.id for q in form_spec(self.ballot_point.questionnaire).questions],
        )

    def test_a_ballot_is_used_once_and_a_replay_is_409(self):
        first = self.post(self.ballot_body(self.codes[0]), point=self.ballot_point)
        self.assertEqual(first.status_code, 201)
        self.assertEqual(BallotCode.objects.filter(used_on__isnull=False).count(), 1)
        before = stored()
        replay = self.post(
            self.ballot_body(self.codes[0], nonce="replayed-ballot-000000"),
            point=self.ballot_point,
        )
        errors = self.assert_error(replay, 409)
        self.assertIn("ballot", errors)
        self.assertEqual(stored(), before)

    def test_a_missing_or_unknown_ballot_is_400(self):
        for ballot in (None, "", "0000-0000-0000-0000", "not a code", 12345):
            with self.subTest(ballot=ballot):
                response = self.post(self.ballot_body(ballot), point=self.ballot_point)
                self.assertIn("ballot", self.assert_error(response, 400))
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_ballot_of_another_point_is_400_and_stays_unused(self):
        other = point_of(self.ballot_round, self.branch_b)
        body = {
            "answers": full_answers(other),
            "nonce": NONCE,
            "ballot": self.codes[0],
        }
        self.assert_error(self.post(body, point=other), 400)
        self.assertEqual(stored(), (0, 0, 0, 0))
        response = self.post(self.ballot_body(self.codes[0]), point=self.ballot_point)
        self.assertEqual(response.status_code, 201)
