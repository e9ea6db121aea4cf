"""Anonymity by construction: after submissions that carry everything a client
could give away, no table of the questionnaires app and no log line holds it."""

from __future__ import annotations

import re
import uuid

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection, models
from django.test import Client, override_settings
from rest_framework.test import APIClient

from questionnaires import ballots
from questionnaires.forms_spec import form_spec
from questionnaires.models import (
    Answer,
    BallotCode,
    PendingSubmission,
    Response,
    SubmissionNonce,
)
from questionnaires.services import ballots_issue, response_submit
from tests.base import PersonaTestCase, make_user

from .helpers import (
    accepted,
    full_answers,
    make_round,
    point_of,
    question,
    write_out,
)

ADDRESS = "203.0.113.77"
FORWARDED = "198.51.100.23"
AGENT = "ProbeAgent/7.3 (anonymity-check; Android 14)"
REFERRER = "https://referrer.example/probe-page?from=wechat-group"
USERNAME = "probe_user_zq"
COMMENT = "匿名探针意见：窗口下午排队较长"
CLIENT_HEADERS = {
    "REMOTE_ADDR": ADDRESS,
    "HTTP_USER_AGENT": AGENT,
    "HTTP_REFERER": REFERRER,
    "HTTP_X_FORWARDED_FOR": FORWARDED,
}


def questionnaires_tables() -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(name for name in names if name.startswith("questionnaires_"))


def table_dump(table: str) -> tuple[int, str]:
    """Every value of every column of a table, as one string, and the row count."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        rows = cursor.fetchall()
    values = []
    for row in rows:
        for value in row:
            if isinstance(value, memoryview):
                value = value.tobytes()
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            values.append(str(value))
    return len(rows), "\n".join(values)


def filled_form(point, page: str) -> dict:
    data = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    for q in form_spec(point.questionnaire).questions:
        if q.kind == "scale":
            data[f"q{q.id}"] = q.levels[0].code
        elif q.kind in ("single", "multiple"):
            data[f"q{q.id}"] = str(q.options[0].id)
        else:
            data[f"q{q.id}"] = COMMENT
    return data


@override_settings(SUBMIT_RATE_LIMIT=None)
class AnonymityTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.open_point = point_of(make_round(cls.school), cls.window_a)
        cls.ballot_point = point_of(
            make_round(
                cls.school,
                mode="ballot",
                title="党员评议",
                kinds={"branch": "wugemofan"},
            ),
            cls.branch_a,
        )
        cls.probe_user = make_user(USERNAME)

    def setUp(self) -> None:
        cache.clear()
        self.codes = ballots_issue(point=self.ballot_point, count=4)
        self.browser = Client(enforce_csrf_checks=True, **CLIENT_HEADERS)
        self.browser.force_login(self.probe_user)
        self.app = APIClient(**CLIENT_HEADERS)
        self.app.force_login(self.probe_user)

    def session_keys(self) -> list[str]:
        name = settings.SESSION_COOKIE_NAME
        return [self.browser.cookies[name].value, self.app.cookies[name].value]

    def submit_everywhere(self) -> None:
        """Every way in: the open form, a ballot slip, a typed ballot, the API."""
        url = f"/s/{self.open_point.token}/"
        data = filled_form(self.open_point, self.browser.get(url).content.decode())
        # A refused attempt first, so the log has something to say.
        headline = question(self.open_point, "scale", headline=True)
        refused = {k: v for k, v in data.items() if k != f"q{headline.id}"}
        self.assertEqual(self.browser.post(url, refused).status_code, 400)
        self.assertEqual(self.browser.post(url, data).status_code, 302)

        slip = f"/b/{self.codes[0]}/"
        data = filled_form(self.ballot_point, self.browser.get(slip).content.decode())
        self.assertEqual(self.browser.post(slip, data).status_code, 302)

        url = f"/s/{self.ballot_point.token}/"
        data = filled_form(self.ballot_point, self.browser.get(url).content.decode())
        data["ballot"] = ballots.grouped(self.codes[1])
        self.assertEqual(self.browser.post(url, data).status_code, 302)

        api = "/api/v1/public/points/{}/"
        for point, ballot, nonce in (
            (self.open_point, None, "anonymity-api-open-0001"),
            (self.ballot_point, self.codes[2], "anonymity-api-ballot-01"),
        ):
            body = {"answers": full_answers(point), "nonce": nonce}
            if ballot:
                body["ballot"] = ballot
            response = self.app.post(api.format(point.token), body, format="json")
            self.assertEqual(response.status_code, 201, response.content)
        replay = {
            "answers": full_answers(self.ballot_point),
            "nonce": "anonymity-api-replay-01",
            "ballot": self.codes[2],
        }
        response = self.app.post(
            api.format(self.ballot_point.token), replay, format="json"
        )
        self.assertEqual(response.status_code, 409)

    def test_no_table_of_the_app_holds_anything_that_identifies_the_client(self):
        self.submit_everywhere()
        self.assertEqual(accepted(), 5)
        self.assertEqual(BallotCode.objects.filter(used_on__isnull=False).count(), 3)
        secrets = {
            "client address": ADDRESS,
            "forwarded address": FORWARDED,
            "user agent": "ProbeAgent",
            "referrer": "referrer.example",
            "username": USERNAME,
            **{f"session key {i}": key for i, key in enumerate(self.session_keys())},
        }
        for i, code in enumerate(self.codes[:3]):
            secrets[f"ballot {i}"] = code
            secrets[f"ballot {i} grouped"] = ballots.grouped(code)

        tables = questionnaires_tables()
        app_tables = {
            model._meta.db_table
            for model in apps.get_app_config("questionnaires").get_models(
                include_auto_created=True
            )
        }
        self.assertLessEqual(app_tables, set(tables))
        # Scanned twice: while the answers wait sealed in the pool, when even the
        # comment is nowhere to be read, and once they are written out.
        for phase in ("waiting", "written"):
            if phase == "written":
                write_out(self.open_point, self.ballot_point)
            found_comment = False
            for table in tables:
                rows, dump = table_dump(table)
                found_comment = found_comment or COMMENT in dump
                for name, secret in secrets.items():
                    with self.subTest(phase=phase, table=table, secret=name):
                        self.assertNotIn(secret.lower(), dump.lower())
            # The scan does see what was submitted, once it is written.
            self.assertEqual(found_comment, phase == "written", phase)

    def test_the_log_of_a_submission_names_no_client(self):
        with self.assertLogs(level="DEBUG") as captured:
            self.submit_everywhere()
        lines = []
        for record in captured.records:
            extras = [
                str(value)
                for key, value in vars(record).items()
                if key not in ("msg", "args") and isinstance(value, str)
            ]
            lines.append(" ".join([record.getMessage(), *extras]))
        # The capture is real: the refused attempt was logged with its path.
        self.assertTrue(any(self.open_point.token in line for line in lines), lines)
        for line in lines:
            for secret in (ADDRESS, FORWARDED, "ProbeAgent", "referrer.example"):
                self.assertNotIn(secret, line)
            for key in self.session_keys():
                self.assertNotIn(key, line)


class AnonymousModelTests(PersonaTestCase):
    FORBIDDEN_WORDS = {
        "user",
        "session",
        "ballot",
        "ip",
        "address",
        "agent",
        "referrer",
        "referer",
        "cookie",
        "nonce",
        "device",
    }

    def test_responses_and_answers_have_random_uuid_keys(self):
        point = point_of(make_round(self.school), self.window_a)
        for i in range(2):
            response_submit(
                point=point,
                answers=full_answers(point),
                nonce=f"uuid-check-{i:012d}",
                client_address="x",
            )
        self.assertIsInstance(PendingSubmission._meta.pk, models.UUIDField)
        for pk in PendingSubmission.objects.values_list("pk", flat=True):
            self.assertEqual(pk.version, 4)
        write_out(point)
        for model in (Response, Answer):
            with self.subTest(model=model.__name__):
                self.assertIsInstance(model._meta.pk, models.UUIDField)
                ids = list(model.objects.values_list("pk", flat=True))
                self.assertTrue(ids)
                for pk in ids:
                    self.assertIsInstance(pk, uuid.UUID)
                    self.assertEqual(pk.version, 4)

    def test_a_response_relates_to_no_user_session_ballot_or_nonce(self):
        identifying = {
            get_user_model(),
            Session,
            BallotCode,
            SubmissionNonce,
        }
        for field in Response._meta.get_fields():
            with self.subTest(field=field.name):
                self.assertNotIn(field.related_model, identifying)
                self.assertFalse(
                    set(field.name.split("_")) & self.FORBIDDEN_WORDS, field.name
                )

    def test_responses_and_answers_keep_no_time_of_day(self):
        for model in (Response, Answer, PendingSubmission):
            for field in model._meta.get_fields():
                with self.subTest(model=model.__name__, field=field.name):
                    self.assertNotIsInstance(field, models.DateTimeField)

    def test_an_answer_relates_to_nothing_that_identifies_the_client(self):
        allowed = {"response", "point", "question", "level", "option"}
        for field in Answer._meta.get_fields():
            if field.is_relation:
                with self.subTest(field=field.name):
                    self.assertIn(field.name, allowed)

    def test_ballots_and_nonces_have_no_relation_to_responses(self):
        for model in (BallotCode, SubmissionNonce):
            for field in model._meta.get_fields():
                with self.subTest(model=model.__name__, field=field.name):
                    self.assertNotIn(field.related_model, {Response, Answer})
        self.assertFalse(
            [
                f
                for f in BallotCode._meta.get_fields()
                if f.is_relation and f.name != "point"
            ]
        )
        self.assertFalse(
            [f for f in SubmissionNonce._meta.get_fields() if f.is_relation]
        )
