"""Published questionnaires are frozen by the database and the API; edits make new versions."""

from django.db import IntegrityError, transaction

from questionnaires.models import Dimension, Option, Question, Questionnaire, Response
from questionnaires.services import (
    StateError,
    questionnaire_create,
    questionnaire_new_version,
    questionnaire_publish,
)
from tests.base import PersonaTestCase

from .helpers import builtin, full_answers, make_round, point_of, write_out

SPEC = {
    "key": "canteen",
    "title": "食堂满意度",
    "target_kind": "window",
    "dimensions": [
        {
            "code": "food",
            "title": "饭菜质量",
            "questions": [
                {
                    "code": "taste",
                    "kind": "scale",
                    "text": "饭菜可口",
                    "scale": "three_dk",
                }
            ],
        }
    ],
    "questions": [
        {
            "code": "overall",
            "kind": "scale",
            "text": "总体评价",
            "scale": "three_dk",
            "required": True,
            "headline": True,
        },
        {
            "code": "meal",
            "kind": "single",
            "text": "常吃哪一餐",
            "options": ["早餐", "午餐", "晚餐"],
        },
    ],
}


class DatabaseFreezeTests(PersonaTestCase):
    def setUp(self):
        self.published = builtin("window")
        self.question = self.published.questions.filter(kind="single").first()

    def assertRefused(self, action):
        with self.assertRaises(IntegrityError), transaction.atomic():
            action()

    def test_the_database_refuses_updating_a_published_questionnaire(self):
        self.assertRefused(
            lambda: Questionnaire.objects.filter(pk=self.published.pk).update(
                title="改"
            )
        )

    def test_the_database_refuses_deleting_a_published_questionnaire(self):
        self.assertRefused(
            lambda: Questionnaire.objects.filter(pk=self.published.pk).delete()
        )

    def test_the_database_refuses_changing_its_questions(self):
        self.assertRefused(
            lambda: Question.objects.filter(pk=self.question.pk).update(text="改")
        )
        self.assertRefused(
            lambda: Question.objects.filter(pk=self.question.pk).delete()
        )
        self.assertRefused(
            lambda: Question.objects.create(
                questionnaire=self.published, code="new", kind="text", text="新题"
            )
        )

    def test_the_database_refuses_changing_its_dimensions_and_options(self):
        dimension = self.published.dimensions.first()
        option = self.question.options.first()
        self.assertRefused(
            lambda: Dimension.objects.filter(pk=dimension.pk).update(title="改")
        )
        self.assertRefused(
            lambda: Option.objects.filter(pk=option.pk).update(label="改")
        )
        self.assertRefused(lambda: Option.objects.filter(pk=option.pk).delete())
        self.assertRefused(
            lambda: Option.objects.create(question=self.question, label="新选项")
        )

    def test_moving_a_question_into_a_published_questionnaire_is_refused(self):
        draft = questionnaire_create(spec=SPEC)
        moving = draft.questions.first()
        self.assertRefused(
            lambda: Question.objects.filter(pk=moving.pk).update(
                questionnaire=self.published
            )
        )

    def test_a_draft_can_be_changed_and_then_published(self):
        draft = questionnaire_create(spec=SPEC)
        Question.objects.filter(questionnaire=draft, code="taste").update(
            text="饭菜可口、分量足"
        )
        questionnaire_publish(questionnaire=draft)
        self.assertRefused(
            lambda: Question.objects.filter(questionnaire=draft).update(text="再改")
        )


class VersionTests(PersonaTestCase):
    def test_a_new_version_copies_the_content_as_a_draft(self):
        published = builtin("window")
        draft = questionnaire_new_version(questionnaire=published)
        self.assertEqual(
            (draft.key, draft.version, draft.is_published), ("window", 2, False)
        )
        self.assertEqual(
            list(
                draft.questions.values_list(
                    "code", "kind", "text", "required", "headline"
                )
            ),
            list(
                published.questions.values_list(
                    "code", "kind", "text", "required", "headline"
                )
            ),
        )
        self.assertEqual(draft.dimensions.count(), published.dimensions.count())
        self.assertNotEqual(
            set(draft.questions.values_list("id", flat=True)),
            set(published.questions.values_list("id", flat=True)),
        )

    def test_only_one_draft_per_questionnaire(self):
        questionnaire_new_version(questionnaire=builtin("window"))
        with self.assertRaises(StateError):
            questionnaire_new_version(questionnaire=builtin("window"))

    def test_publishing_twice_is_refused(self):
        with self.assertRaises(StateError):
            questionnaire_publish(questionnaire=builtin("window"))

    def test_answers_refer_to_the_version_they_were_given(self):
        from questionnaires.services import response_submit

        campaign = make_round(self.school)
        point = point_of(campaign, self.window_a)
        response_submit(
            point=point, answers=full_answers(point), nonce="v" * 20, client_address="x"
        )
        draft = questionnaire_new_version(questionnaire=point.questionnaire)
        questionnaire_publish(questionnaire=draft)
        write_out(point)
        response = Response.objects.get()
        self.assertEqual(response.questionnaire.version, 1)
        self.assertTrue(
            all(
                a.question.questionnaire_id == response.questionnaire_id
                for a in response.answers.all()
            )
        )


class QuestionnaireApiTests(PersonaTestCase):
    URL = "/api/v1/questionnaires/"

    def test_everyone_with_a_role_reads_and_anonymous_does_not(self):
        for user in (self.leader, self.manager_a, self.reviewer):
            self.assertEqual(self.api(user).get(self.URL).status_code, 200)
        self.assertEqual(self.api().get(self.URL).status_code, 401)

    def test_the_office_creates_a_draft_and_publishes_it(self):
        client = self.api(self.leader)
        response = client.post(self.URL, SPEC, format="json")
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["status"], body["version"]), ("draft", 1))
        published = client.post(f"{self.URL}{body['id']}/publish/")
        self.assertEqual(published.json()["status"], "published")

    def test_managers_cannot_create_or_publish(self):
        self.assertEqual(
            self.api(self.manager_a).post(self.URL, SPEC, format="json").status_code,
            403,
        )
        draft = questionnaire_create(spec=SPEC)
        self.assertEqual(
            self.api(self.manager_a).post(f"{self.URL}{draft.pk}/publish/").status_code,
            403,
        )
        self.assertFalse(Questionnaire.objects.get(pk=draft.pk).is_published)

    def test_the_api_refuses_changes_to_a_published_version(self):
        published = builtin("window")
        client = self.api(self.leader)
        response = client.put(
            f"{self.URL}{published.pk}/", {**SPEC, "key": "window"}, format="json"
        )
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["code"], "frozen")
        self.assertEqual(client.delete(f"{self.URL}{published.pk}/").status_code, 409)
        self.assertTrue(
            Questionnaire.objects.filter(
                pk=published.pk, title=published.title
            ).exists()
        )

    def test_new_version_through_the_api(self):
        published = builtin("wuhao-branch")
        response = self.api(self.leader).post(f"{self.URL}{published.pk}/new-version/")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["version"], 2)
        again = self.api(self.leader).post(f"{self.URL}{published.pk}/new-version/")
        self.assertEqual(again.status_code, 409)

    def test_a_draft_can_be_replaced_through_the_api(self):
        draft = questionnaire_create(spec=SPEC)
        changed = {**SPEC, "title": "食堂与超市满意度"}
        response = self.api(self.leader).put(
            f"{self.URL}{draft.pk}/", changed, format="json"
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["title"], "食堂与超市满意度")
        self.assertEqual(response.json()["version"], 1)

    def test_bad_specs_are_400_with_field_paths(self):
        client = self.api(self.leader)
        cases = [
            (
                {
                    **SPEC,
                    "questions": [
                        {"code": "x", "kind": "scale", "text": "t", "scale": "nope"}
                    ],
                },
                "questions.0.scale",
            ),
            (
                {
                    **SPEC,
                    "questions": [
                        {
                            "code": "x",
                            "kind": "single",
                            "text": "t",
                            "options": ["only one"],
                        }
                    ],
                },
                "questions.0.options",
            ),
            ({**SPEC, "target_kind": "galaxy"}, "target_kind"),
            ({**SPEC, "dimensions": [], "questions": []}, "non_field_errors"),
        ]
        for body, path in cases:
            with self.subTest(path=path):
                response = client.post(self.URL, body, format="json")
                self.assertEqual(response.status_code, 400)
                self.assertIn(path, response.json()["errors"])
        self.assertFalse(Questionnaire.objects.filter(key="canteen").exists())

    def test_the_builtin_templates_are_published_with_headline_and_comment(self):
        for key in ("wuhao-committee", "wuhao-branch", "wugemofan", "window"):
            questionnaire = builtin(key)
            self.assertTrue(questionnaire.is_published)
            self.assertEqual(
                questionnaire.questions.filter(headline=True, required=True).count(),
                1,
                key,
            )
            self.assertTrue(questionnaire.questions.filter(kind="text").exists(), key)
        wuhao = builtin("wuhao-committee")
        self.assertEqual(
            list(wuhao.dimensions.values_list("title", flat=True)),
            ["领导班子好", "党员队伍好", "工作机制好", "工作业绩好", "群众反映好"],
        )
