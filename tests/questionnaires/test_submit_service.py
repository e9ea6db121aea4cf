"""response_submit: every refusal stores nothing; repeats store one response."""

from datetime import timedelta

from django.test import override_settings
from django.utils import timezone

from questionnaires.models import Answer, BallotCode, Response, SubmissionNonce
from questionnaires.services import (
    SubmissionInvalid,
    SubmissionRefused,
    ballots_issue,
    campaign_close,
    response_submit,
)
from tests.base import PersonaTestCase

from .helpers import (
    accepted,
    full_answers,
    make_round,
    point_of,
    question,
    write_out,
)

NONCE = "n" * 24


def stored():
    return (
        accepted(),
        Answer.objects.count(),
        SubmissionNonce.objects.count(),
        BallotCode.objects.filter(used_on__isnull=False).count(),
    )


class SubmitTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(cls.school)
        cls.point = point_of(cls.campaign, cls.window_a)
        cls.committee_point = point_of(cls.campaign, cls.unit_a)

    def submit(self, answers, *, point=None, nonce=NONCE, **kwargs):
        return response_submit(
            point=point or self.point,
            answers=answers,
            nonce=nonce,
            client_address="10.1.2.3",
            **kwargs,
        )

    def refused_invalid(self, answers, *, nonce=NONCE, point=None) -> dict:
        before = stored()
        with self.assertRaises(SubmissionInvalid) as caught:
            self.submit(answers, nonce=nonce, point=point)
        self.assertEqual(stored(), before, "an invalid submission must store nothing")
        return caught.exception.errors.by_path

    def test_a_valid_submission_stores_one_response_with_its_answers(self):
        answers = full_answers(self.point)
        outcome = self.submit(answers)
        self.assertTrue(outcome.stored)
        write_out(self.point)
        response = Response.objects.get()
        self.assertEqual(response.questionnaire_id, self.point.questionnaire_id)
        self.assertEqual(response.submitted_on, timezone.localdate())
        self.assertIsNone(response.submitted_hour)
        self.assertEqual(response.answers.count(), len(answers))

    @override_settings(RESPONSE_TIME_RESOLUTION="hour")
    def test_the_hour_is_kept_only_when_configured(self):
        self.submit(full_answers(self.point))
        write_out(self.point)
        self.assertEqual(
            Response.objects.get().submitted_hour, timezone.localtime().hour
        )

    def test_a_repeated_nonce_stores_one_response(self):
        self.assertTrue(self.submit(full_answers(self.point)).stored)
        self.assertFalse(self.submit(full_answers(self.point)).stored)
        self.assertEqual(accepted(), 1)

    def test_an_unknown_question(self):
        errors = self.refused_invalid(
            [*full_answers(self.point), {"question": 999999, "level": "satisfied"}]
        )
        self.assertIn(f"answers.{len(full_answers(self.point))}.question", errors)

    def test_a_question_of_another_questionnaire(self):
        other = question(self.committee_point, "scale")
        errors = self.refused_invalid(
            [*full_answers(self.point), {"question": other.id, "level": "satisfied"}]
        )
        self.assertTrue(any(path.endswith(".question") for path in errors))

    def test_an_unknown_level(self):
        answers = full_answers(self.point)
        answers[0]["level"] = "ecstatic"
        self.assertIn("answers.0.level", self.refused_invalid(answers))

    def test_a_level_from_another_scale(self):
        # The window questionnaire uses 好差评; "dont_know" belongs to three_dk only.
        answers = full_answers(self.point)
        answers[0]["level"] = "dont_know"
        self.assertIn("answers.0.level", self.refused_invalid(answers))

    def test_a_missing_required_answer(self):
        headline = question(self.point, "scale", headline=True)
        answers = [a for a in full_answers(self.point) if a["question"] != headline.id]
        self.assertIn(f"questions.{headline.id}", self.refused_invalid(answers))

    def test_two_options_on_a_single_choice_question(self):
        single = question(self.point, "single")
        answers = [a for a in full_answers(self.point) if a["question"] != single.id]
        answers.append(
            {
                "question": single.id,
                "options": [single.options[0].id, single.options[1].id],
            }
        )
        self.assertIn(
            f"answers.{len(answers) - 1}.options", self.refused_invalid(answers)
        )

    def test_an_option_of_another_question(self):
        single, multiple = (
            question(self.point, "single"),
            question(self.point, "multiple"),
        )
        answers = [a for a in full_answers(self.point) if a["question"] != single.id]
        answers.append({"question": single.id, "options": [multiple.options[0].id]})
        self.refused_invalid(answers)

    def test_text_over_2000_characters(self):
        text = question(self.point, "text")
        answers = [a for a in full_answers(self.point) if a["question"] != text.id]
        answers.append({"question": text.id, "text": "长" * 2001})
        self.assertIn(f"answers.{len(answers) - 1}.text", self.refused_invalid(answers))

    def test_text_of_exactly_2000_characters_is_accepted(self):
        text = question(self.point, "text")
        answers = [a for a in full_answers(self.point) if a["question"] != text.id]
        answers.append({"question": text.id, "text": "长" * 2000})
        self.assertTrue(self.submit(answers).stored)

    def test_wrong_json_types(self):
        cases = [
            ("answers", "not a list"),
            ("answers.0", ["not an object"]),
            ("answers.0.question", [{"question": "1", "level": "satisfied"}]),
            (
                "answers.0.level",
                [{"question": question(self.point, "scale").id, "level": 5}],
            ),
            (
                "answers.0.options",
                [{"question": question(self.point, "single").id, "options": "1"}],
            ),
            (
                "answers.0.options",
                [{"question": question(self.point, "multiple").id, "options": [True]}],
            ),
            (
                "answers.0.text",
                [{"question": question(self.point, "text").id, "text": ["x"]}],
            ),
        ]
        for path, answers in cases:
            with self.subTest(path=path, answers=answers):
                self.assertIn(path, self.refused_invalid(answers))

    def test_the_same_question_twice(self):
        answers = full_answers(self.point)
        answers.append(dict(answers[0]))
        self.assertIn(
            f"answers.{len(answers) - 1}.question", self.refused_invalid(answers)
        )

    def test_a_missing_or_malformed_nonce(self):
        for nonce in (
            None,
            "",
            "short",
            "x" * 65,
            "spaces are not allowed here",
            12345,
        ):
            with self.subTest(nonce=nonce):
                self.assertIn(
                    "nonce", self.refused_invalid(full_answers(self.point), nonce=nonce)
                )

    def test_an_empty_submission(self):
        point = self.committee_point
        headline = question(point, "scale", headline=True)
        # Only the required headline is needed; an all-blank body is refused.
        self.assertIn(f"questions.{headline.id}", self.refused_invalid([], point=point))

    def test_a_closed_round(self):
        campaign_close(campaign=self.campaign)
        self.point.campaign.refresh_from_db()
        before = stored()
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(full_answers(self.point))
        self.assertEqual(caught.exception.code, "closed")
        self.assertEqual(stored(), before)

    def test_a_round_past_its_closing_time(self):
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(
                full_answers(self.point), now=timezone.now() + timedelta(days=30)
            )
        self.assertEqual(caught.exception.code, "closed")

    def test_a_round_not_yet_open(self):
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(
                full_answers(self.point), now=timezone.now() - timedelta(days=30)
            )
        self.assertEqual(caught.exception.code, "not_open")
        self.assertEqual(stored(), (0, 0, 0, 0))

    @override_settings(SUBMIT_RATE_LIMIT=(3, 600))
    def test_the_flood_limit_stores_nothing_past_the_limit(self):
        from django.core.cache import cache

        cache.clear()
        for i in range(3):
            self.assertTrue(
                self.submit(full_answers(self.point), nonce=f"nonce-{i:020d}").stored
            )
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(full_answers(self.point), nonce="nonce-final-0000000000")
        self.assertEqual(caught.exception.code, "rate_limited")
        self.assertEqual(accepted(), 3)
        # Another address behind another network is not limited.
        response_submit(
            point=self.point,
            answers=full_answers(self.point),
            nonce="other-address-0000000",
            client_address="10.9.9.9",
        )
        self.assertEqual(accepted(), 4)

    @override_settings(SUBMIT_RATE_LIMIT=None)
    def test_the_flood_limit_can_be_off(self):
        for i in range(40):
            self.submit(full_answers(self.point), nonce=f"nonce-{i:020d}")
        self.assertEqual(accepted(), 40)


class BallotSubmitTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.campaign = make_round(
            cls.school, mode="ballot", kinds={"branch": "wugemofan"}
        )
        cls.point = point_of(cls.campaign, cls.branch_a)

    def setUp(self):
        self.codes = ballots_issue(point=self.point, count=3)

    def submit(self, ballot, nonce=NONCE, point=None):
        point = point or self.point
        return response_submit(
            point=point,
            answers=full_answers(point),
            nonce=nonce,
            ballot=ballot,
            client_address="10.1.2.3",
        )

    def test_only_a_keyed_hash_of_each_code_is_stored(self):
        hashes = set(BallotCode.objects.values_list("code_hash", flat=True))
        for code in self.codes:
            self.assertNotIn(code, hashes)
            self.assertEqual(len(code), 16)

    def test_a_ballot_is_consumed_once(self):
        self.assertTrue(self.submit(self.codes[0]).stored)
        ballot = BallotCode.objects.get(used_on__isnull=False)
        self.assertEqual(ballot.used_on, timezone.localdate())
        before = stored()
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(self.codes[0], nonce="another-nonce-000000000")
        self.assertEqual(caught.exception.code, "ballot_used")
        self.assertEqual(stored(), before)

    def test_a_grouped_lowercase_code_is_accepted(self):
        code = self.codes[1]
        typed = "-".join(code[i : i + 4] for i in range(0, 16, 4)).lower()
        self.assertTrue(self.submit(typed).stored)

    def test_a_forged_or_missing_ballot_stores_nothing(self):
        for ballot, code in (
            ("0" * 16, "ballot_unknown"),
            ("not-a-code", "ballot_unknown"),
            (None, "ballot_required"),
        ):
            with (
                self.subTest(ballot=ballot),
                self.assertRaises(SubmissionRefused) as caught,
            ):
                self.submit(ballot)
            self.assertEqual(caught.exception.code, code)
        self.assertEqual(stored(), (0, 0, 0, 0))

    def test_a_ballot_of_another_point_is_refused(self):
        other = point_of(self.campaign, self.branch_b)
        with self.assertRaises(SubmissionRefused) as caught:
            self.submit(self.codes[0], point=other)
        self.assertEqual(caught.exception.code, "ballot_unknown")
        self.assertFalse(BallotCode.objects.filter(used_on__isnull=False).exists())

    def test_an_invalid_answer_does_not_consume_the_ballot(self):
        with self.assertRaises(SubmissionInvalid):
            response_submit(
                point=self.point,
                answers=[{"question": 1, "level": 3}],
                nonce=NONCE,
                ballot=self.codes[2],
                client_address="x",
            )
        self.assertTrue(self.submit(self.codes[2]).stored)
