from survey_service.api import flatten_errors
from tests.base import PersonaTestCase


class ApiConventionTests(PersonaTestCase):
    def test_the_openapi_schema_is_served_and_lists_units(self):
        self.login(self.manager_a)
        response = self.client.get("/api/schema/", {"format": "json"})
        self.assertEqual(response.status_code, 200)
        schema = response.json()
        self.assertTrue(schema["openapi"].startswith("3."))
        self.assertIn("/api/v1/units/", schema["paths"])
        self.assertIn("/api/v1/units/import/", schema["paths"])

    def test_the_schema_answers_an_api_token_too(self):
        from rest_framework.authtoken.models import Token

        token = Token.objects.create(user=self.reviewer)
        response = self.client.get(
            "/api/schema/", {"format": "json"}, HTTP_AUTHORIZATION=f"Token {token.key}"
        )
        self.assertEqual(response.status_code, 200)

    def test_anonymous_users_get_no_schema(self):
        response = self.client.get("/api/schema/", {"format": "json"})
        self.assertEqual(response.status_code, 401)
        self.assertEqual(set(response.json()), {"detail", "errors"})
        # Without a format the refusal comes in the schema's YAML, still no paths.
        response = self.client.get("/api/schema/")
        self.assertEqual(response.status_code, 401)
        self.assertNotIn(b"/api/v1/", response.content)

    def test_the_docs_page_is_served_from_our_own_host(self):
        self.login(self.reviewer)
        response = self.client.get("/api/docs/")
        self.assertEqual(response.status_code, 200)

    def test_anonymous_users_are_sent_from_the_docs_page_to_the_login(self):
        response = self.client.get("/api/docs/")
        self.assertRedirects(
            response, "/accounts/login/?next=/api/docs/", fetch_redirect_response=False
        )

    def test_an_unknown_api_path_is_a_json_404_in_the_error_shape(self):
        response = self.client.get("/api/v1/no-such-thing/")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(set(response.json()), {"detail", "errors"})

    def test_an_unknown_page_is_an_html_404(self):
        response = self.client.get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertContains(response, "页面不存在", status_code=404)

    def test_token_authentication_works(self):
        from rest_framework.authtoken.models import Token

        token = Token.objects.create(user=self.manager_a)
        response = self.client.get(
            "/api/v1/units/", HTTP_AUTHORIZATION=f"Token {token.key}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["count"], 3)

    def test_a_wrong_token_is_401_in_the_error_shape(self):
        response = self.client.get("/api/v1/units/", HTTP_AUTHORIZATION="Token nope")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(set(response.json()), {"detail", "errors"})

    def test_malformed_json_is_a_400_in_the_error_shape(self):
        self.client.force_login(self.leader)
        response = self.client.post(
            "/api/v1/units/", "{not json", content_type="application/json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.json()), {"detail", "errors"})

    def test_session_writes_need_csrf(self):
        from rest_framework.test import APIClient

        client = APIClient(enforce_csrf_checks=True)
        client.force_login(self.leader)
        response = client.post("/api/v1/units/", {"code": "Z"}, format="json")
        self.assertEqual(response.status_code, 403)


def test_flatten_errors_names_nested_fields_by_path():
    nested = {"answers": [{}, {"level": ["未知选项"]}], "nonce": ["必填"]}
    assert flatten_errors(nested) == {
        "answers.1.level": ["未知选项"],
        "nonce": ["必填"],
    }
    assert flatten_errors(["整体错误"]) == {"non_field_errors": ["整体错误"]}

    def test_an_empty_choice_filter_means_all_and_the_schema_says_so(self):
        client = self.api(self.leader)
        everything = client.get("/api/v1/questionnaires/").json()["count"]
        self.assertGreater(everything, 1)
        empty = client.get("/api/v1/questionnaires/?target_kind=")
        self.assertEqual(empty.status_code, 200)
        self.assertEqual(empty.json()["count"], everything)
        schema = client.get("/api/schema/?format=json").json()
        (parameter,) = [
            p
            for p in schema["paths"]["/api/v1/questionnaires/"]["get"]["parameters"]
            if p["name"] == "target_kind"
        ]
        self.assertIn("", parameter["schema"]["enum"])
        self.assertIn("branch", parameter["schema"]["enum"])
