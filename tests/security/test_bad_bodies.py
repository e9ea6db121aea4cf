"""Bad bodies, generated: the respondent's JSON API and form, and a few API creates.

Whatever arrives, the answer is a success or a 4xx, never a 5xx; and a refusal
stores nothing: no row of any questionnaires model (responses, answers, nonces,
the pool of accepted submissions, ballots…) nor of the object an API create makes.
Bodies are random JSON, and near-valid ones: a valid submission with one part
dropped, replaced or duplicated. Each example runs in its own transaction (the
Hypothesis Django TestCase), so nothing one example stores changes the next.
"""

from __future__ import annotations

import json
import string
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import models
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from analysis.models import Finding
from questionnaires.models import Scale
from questionnaires.services import ballots_issue
from rectification.models import Task, TaskEvent
from tests.base import PersonaTestCase
from tests.questionnaires.helpers import full_answers, make_round, point_of

NONCE = "n" * 24
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# Any JSON document, nested a few levels.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)
# Keys the endpoints read, so random documents reach past the first check.
submission_keys = st.sampled_from(
    ["answers", "nonce", "ballot", "question", "level", "options", "text"]
)
json_objects = st.dictionaries(submission_keys | st.text(max_size=8), json_values)
form_values = st.text(max_size=30) | st.sampled_from(["", "0", "-1", "1" * 30, "²"])


def row_counts(*extra: type[models.Model]) -> dict[str, int]:
    """Rows of every questionnaires model (whatever storage the submission uses),
    plus the given ones."""
    tracked = [*apps.get_app_config("questionnaires").get_models(), *extra]
    return {model._meta.label: model.objects.count() for model in tracked}


@st.composite
def mutated(draw, document: Any) -> Any:
    """The document with one part dropped, replaced, duplicated or added to."""
    if isinstance(document, dict) and document:
        key = draw(st.sampled_from(sorted(document)))
        change = draw(st.sampled_from(["drop", "replace", "mutate", "add"]))
        copy = dict(document)
        if change == "drop":
            del copy[key]
        elif change == "replace":
            copy[key] = draw(json_values)
        elif change == "mutate":
            copy[key] = draw(mutated(document[key]))
        else:
            copy[draw(st.text(max_size=8))] = draw(json_values)
        return copy
    if isinstance(document, list) and document:
        index = draw(st.integers(0, len(document) - 1))
        change = draw(st.sampled_from(["drop", "mutate", "duplicate", "add"]))
        copy = list(document)
        if change == "drop":
            del copy[index]
        elif change == "mutate":
            copy[index] = draw(mutated(document[index]))
        elif change == "duplicate":
            copy.insert(index, document[index])
        else:
            copy.append(draw(json_values))
        return copy
    if isinstance(document, int) and not isinstance(document, bool):
        return draw(
            st.sampled_from([0, -1, document + 1, 2**63, 2**64, str(document)])
            | json_values
        )
    return draw(json_values)


@st.composite
def mutated_form(draw, data: dict[str, Any]) -> dict[str, Any]:
    """The form with up to three fields dropped, replaced, repeated or added."""
    copy = dict(data)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(copy) or ["nonce"]))
        change = draw(st.sampled_from(["drop", "replace", "list", "add"]))
        if change == "drop":
            copy.pop(key, None)
        elif change == "replace":
            copy[key] = draw(form_values)
        elif change == "list":
            copy[key] = draw(st.lists(form_values, max_size=4))
        else:
            name = draw(
                st.text(string.ascii_letters + string.digits, min_size=1, max_size=6)
            )
            copy[name] = draw(form_values)
    return copy


class BadBodyCase(HypothesisTestCase, PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.campaign = make_round(cls.school)
        cls.point = point_of(cls.campaign, cls.window_a)
        cls.ballot_round = make_round(
            cls.school, mode="ballot", title="选票轮次", kinds={"window": "window"}
        )
        cls.ballot_point = point_of(cls.ballot_round, cls.window_a)
        cls.ballots = ballots_issue(point=cls.ballot_point, count=3)

    def setUp(self) -> None:
        cache.clear()  # the flood limit lives in the cache

    def assert_refusal_stores_nothing(self, send, *extra: type[models.Model]) -> None:
        before = row_counts(*extra)
        response = send()
        self.assertLess(response.status_code, 500, response.content[:500])
        if response.status_code >= 400:
            self.assertEqual(row_counts(*extra), before, response.content[:500])


class PublicSubmissionTests(BadBodyCase):
    def url(self, point=None) -> str:
        return f"/api/v1/public/points/{(point or self.point).token}/"

    def post(self, body: Any, point=None):
        return Client().post(
            self.url(point), json.dumps(body), content_type="application/json"
        )

    def valid(self) -> dict:
        return {"answers": full_answers(self.point), "nonce": NONCE}

    def test_the_valid_submission_is_stored(self):
        """The baseline of the mutations below: unmutated, it is accepted."""
        before = row_counts()
        self.assertEqual(self.post(self.valid()).status_code, 201)
        self.assertNotEqual(row_counts(), before)

    @EXAMPLES
    @given(body=json_values | json_objects)
    def test_any_json_is_answered_without_a_server_error(self, body):
        self.assert_refusal_stores_nothing(lambda: self.post(body))

    @EXAMPLES
    @given(data=st.data())
    def test_a_near_valid_submission_is_stored_whole_or_not_at_all(self, data):
        body = data.draw(mutated(self.valid()))
        self.assert_refusal_stores_nothing(lambda: self.post(body))

    @EXAMPLES
    @given(data=st.data())
    def test_a_near_valid_ballot_submission_too(self, data):
        valid = {
            "answers": full_answers(self.ballot_point),
            "nonce": NONCE,
            "ballot": self.ballots[0],
        }
        body = data.draw(mutated(valid))
        self.assert_refusal_stores_nothing(lambda: self.post(body, self.ballot_point))

    @EXAMPLES
    @given(body=st.binary(max_size=200))
    def test_a_body_that_is_not_json_is_refused(self, body):
        self.assert_refusal_stores_nothing(
            lambda: Client().post(self.url(), body, content_type="application/json")
        )


class FormSubmissionTests(BadBodyCase):
    def valid(self, point=None) -> dict[str, Any]:
        """The form's fields as a browser sends them, from the API's valid answers."""
        data: dict[str, Any] = {"nonce": NONCE}
        for answer in full_answers(point or self.point):
            name = f"q{answer['question']}"
            if "level" in answer:
                data[name] = answer["level"]
            elif "options" in answer:
                data[name] = [str(option) for option in answer["options"]]
            else:
                data[name] = answer["text"]
        return data

    def test_the_valid_form_is_stored(self):
        before = row_counts()
        response = Client().post(f"/s/{self.point.token}/", self.valid())
        self.assertEqual(response.status_code, 302, response.content[:300])
        self.assertNotEqual(row_counts(), before)

    @EXAMPLES
    @given(data=st.data())
    def test_a_near_valid_form_is_stored_whole_or_not_at_all(self, data):
        form = data.draw(mutated_form(self.valid()))
        self.assert_refusal_stores_nothing(
            lambda: Client().post(f"/s/{self.point.token}/", form)
        )

    @EXAMPLES
    @given(data=st.data())
    def test_a_near_valid_ballot_form_too(self, data):
        form = data.draw(
            mutated_form({**self.valid(self.ballot_point), "ballot": self.ballots[1]})
        )
        self.assert_refusal_stores_nothing(lambda: Client().post("/b/", form))


class ApiCreateTests(BadBodyCase):
    """Random bodies to a few creates, as the office: 201 or 4xx, and 4xx writes nothing."""

    def setUp(self) -> None:
        super().setUp()
        self.office = self.api(self.leader)

    def create(self, url: str, body: Any, *tables: type[models.Model]) -> None:
        self.assert_refusal_stores_nothing(
            lambda: self.office.post(url, body, format="json"), *tables
        )

    @EXAMPLES
    @given(data=st.data())
    def test_scales(self, data):
        valid = {
            "key": "fuzz",
            "name": "量表",
            "levels": [
                {"code": "a", "label": "好", "polarity": "positive", "score": "1.00"},
                {"code": "b", "label": "差", "polarity": "negative", "score": "0.00"},
            ],
        }
        body = data.draw(mutated(valid) | json_objects)
        self.create("/api/v1/scales/", body, Scale)

    @EXAMPLES
    @given(data=st.data())
    def test_tasks(self, data):
        valid = {"title": "整改", "lead_unit": self.branch_a.pk, "due_date": None}
        body = data.draw(mutated(valid) | json_objects)
        self.create("/api/v1/tasks/", body, Task, TaskEvent, Finding)

    @EXAMPLES
    @given(data=st.data())
    def test_commitments(self, data):
        valid = {"campaign": self.campaign.pk, "unit": self.branch_a.pk, "text": "承诺"}
        body = data.draw(mutated(valid) | json_objects)
        self.create("/api/v1/commitments/", body)
