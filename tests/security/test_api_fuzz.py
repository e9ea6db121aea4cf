"""Schemathesis against our own OpenAPI: every operation, as the office and as a manager.

An app generated from ``/api/schema/`` must be able to trust it. Schemathesis
generates requests from the schema (valid ones and ones that break it), sends them
to the WSGI app in process and runs all its checks on every answer: no server
error, a status code and content type the schema documents, a body and headers
that match the schema, schema-valid data accepted (2xx, or 401/403/404/409/429)
and schema-invalid data refused (4xx).

Ids in a valid request are mapped onto objects that exist (the schema says "an
integer", not which integers exist); a request that breaks the schema keeps what
schemathesis made. Each example runs in a transaction that is rolled back, so every
example sees the world the fixture built and nothing an earlier example wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, models, transaction
from django.test import override_settings
from django.urls import resolve
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory, force_authenticate

from analysis.models import Finding
from organizations.models import Membership, Unit
from questionnaires.models import (
    Campaign,
    CollectionPoint,
    Commitment,
    Questionnaire,
    Scale,
)
from rectification.models import ExtensionRequest, Task
from rectification.services import task_create
from survey_service.wsgi import application
from tests.base import make_unit, make_user
from tests.questionnaires.helpers import make_round

# The world is built once (see tokens); the mark makes pytest-django set up the test
# database and wrap each test in a savepoint of its own.
pytestmark = pytest.mark.django_db

# Per operation and persona: the file stays near two minutes per database.
MAX_EXAMPLES = 10

# Body fields and query parameters that name an object by its id.
REFERENCES: dict[str, type[models.Model]] = {
    "organizer": Unit,
    "unit": Unit,
    "lead_unit": Unit,
    "parent": Unit,
    "cooperating_units": Unit,
    "campaign": Campaign,
    "baseline": Campaign,
    "finding": Finding,
    "questionnaire": Questionnaire,
}
# Path parameters: ``{id}`` is an object of the collection it follows.
COLLECTIONS: dict[str, type[models.Model]] = {
    "units": Unit,
    "scales": Scale,
    "questionnaires": Questionnaire,
    "campaigns": Campaign,
    "commitments": Commitment,
    "findings": Finding,
    "tasks": Task,
}
PATH_REFERENCES: dict[str, type[models.Model]] = {
    "campaign_pk": Campaign,
    "extension_id": ExtensionRequest,
}

# Operations whose valid bodies may still be refused (400) by a rule OpenAPI 3.0
# cannot state: a relation between two fields, the state of another object, or the
# content of a file. Every other check still runs on them.
SEMANTIC_RULES: dict[str, str] = {
    "POST /api/v1/campaigns/": "closes_at after opens_at; a baseline that may be one",
    "PUT /api/v1/campaigns/{id}/": "as POST; and only a draft round changes",
    "PATCH /api/v1/campaigns/{id}/": "as PUT",
    "POST /api/v1/commitments/": "a unit this user acts for, in a round not ended",
    "PUT /api/v1/commitments/{id}/": "as POST",
    "PATCH /api/v1/commitments/{id}/": "as POST",
    "POST /api/v1/questionnaires/": "scale questions name an existing scale",
    "PUT /api/v1/questionnaires/{id}/": "as POST",
    "POST /api/v1/scales/": "a score on every level but 不了解; distinct codes",
    "PUT /api/v1/scales/{id}/": "levels and the key stay as they are",
    "PATCH /api/v1/scales/{id}/": "as PUT",
    "POST /api/v1/units/": "a category that fits the kind; a parent of a higher kind",
    "PUT /api/v1/units/{id}/": "as POST",
    "PATCH /api/v1/units/{id}/": "as POST",
    "POST /api/v1/units/import/": "the file's rows",
    "POST /api/v1/tasks/": "a finding, or a title and a lead unit",
    "PATCH /api/v1/tasks/{id}/": "the fields this user's role may change",
    "POST /api/v1/tasks/{id}/transitions/": "the fields an action takes",
    "POST /api/v1/tasks/{id}/evidence/": "the file's content, sniffed",
    "POST /api/v1/findings/{id}/dismiss/": "a dismissal gives its reason",
    "POST /api/v1/public/points/{token}/": "answers that fit the point's questionnaire",
}


def served_schema() -> dict:
    """The document ``/api/schema/`` serves, read at import time without the database
    (the view runs for an unsaved staff user: the schema is the same for everyone)."""
    request = APIRequestFactory().get("/api/schema/", {"format": "json"})
    force_authenticate(request, user=get_user_model()(username="schema", is_staff=True))
    response = resolve("/api/schema/").func(request)
    response.render()
    return json.loads(response.content)


def load(document: dict, *, coverage: bool):
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    # The coverage phase (boundary values, undeclared methods) is deterministic and
    # long; it runs once, as the office.
    loaded.config.phases.coverage.enabled = coverage
    return loaded


DOCUMENT = served_schema()
schema = load(DOCUMENT, coverage=True)
manager_schema = load(DOCUMENT, coverage=False)


@contextmanager
def connection_kept() -> Iterator[None]:
    """Requests through the WSGI app keep the test's database connection, as in
    Django's test client: the handler would otherwise close it after each request
    (on PostgreSQL, in the middle of the test's transaction)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def build_world() -> dict[str, str]:
    """The personas' tree with an open round, a finding, a task with an extension
    request and a commitment in it; returns each persona's API token."""
    school = make_unit("S", Unit.Kind.SCHOOL, name="测试大学")
    unit_a = make_unit("A", Unit.Kind.COMMITTEE, school, "teaching", name="甲学院党委")
    branch_a = make_unit("A-1", Unit.Kind.BRANCH, unit_a, "student", name="甲支部")
    make_unit("A-W", Unit.Kind.WINDOW, branch_a, name="甲学院服务窗口")
    unit_b = make_unit("B", Unit.Kind.COMMITTEE, school, "administration")
    make_unit("B-1", Unit.Kind.BRANCH, unit_b, "staff")
    leader = make_user("leader", Membership.Role.OFFICE, school)
    manager = make_user("manager_a", Membership.Role.MANAGER, unit_a)
    campaign = make_round(school, kinds={"branch": "wuhao-branch"})
    finding = Finding.objects.create(
        campaign=campaign,
        unit=branch_a,
        trigger="statistical",
        title="甲支部满意率偏低",
        status="confirmed",
    )
    task = task_create(user=leader, finding=finding, fields={})
    ExtensionRequest.objects.create(
        task=task,
        reason="寒假",
        new_due_date=campaign.closes_at.date(),
        requested_by=manager,
    )
    Commitment.objects.create(campaign=campaign, unit=branch_a, text="每月公示")
    return {
        "office": Token.objects.create(user=leader).key,
        "manager": Token.objects.create(user=manager).key,
    }


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker) -> Iterator[dict[str, str]]:
    """The world, built once for the module inside a transaction rolled back at its end."""
    with (
        django_db_blocker.unblock(),
        override_settings(ALLOWED_HOSTS=["localhost", "testserver"]),
        connection_kept(),
        rolled_back(),
    ):
        yield build_world()


def existing(model: type[models.Model], value: Any) -> Any:
    """An id that exists in place of a generated integer (any other value is kept)."""
    if isinstance(value, list):
        return [existing(model, item) for item in value]
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit():
        return str(existing(model, int(value)))  # a query parameter as sent
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    ids = sorted(model.objects.values_list("pk", flat=True))
    return ids[value % len(ids)] if ids else value


def with_existing_ids(case) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    path = case.operation.path
    for name, value in (case.path_parameters or {}).items():
        if name == "id":
            model = COLLECTIONS[path.split("/")[3]]
        elif name == "token":
            tokens = sorted(CollectionPoint.objects.values_list("token", flat=True))
            case.path_parameters[name] = tokens[len(str(value)) % len(tokens)]
            continue
        else:
            model = PATH_REFERENCES[name]
        case.path_parameters[name] = existing(model, value)
    for name, value in (case.query or {}).items():
        if name in REFERENCES:
            case.query[name] = existing(REFERENCES[name], value)
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            if name in REFERENCES:
                case.body[name] = existing(REFERENCES[name], value)
            elif name == "questionnaires" and isinstance(value, dict):
                case.body[name] = {
                    kind: existing(Questionnaire, item) for kind, item in value.items()
                }


def _collection_actions() -> dict[str, set[str]]:
    """Each router prefix's actions on the collection (/tasks/ledger/, /units/export/)."""
    from survey_service.urls import router

    return {
        prefix: {
            action.url_path
            for action in viewset.get_extra_actions()
            if not action.detail
        }
        for prefix, viewset, _basename in router.registry
    }


COLLECTION_ACTIONS = _collection_actions()


def spells_a_collection_action(case) -> bool:
    """Whether a case that breaks the schema put the name of a collection action
    where an id goes (PATCH /api/v1/tasks/ledger/): that path is the action's, which
    answers for itself (405 for a method it lacks), not the operation's."""
    parts = case.operation.path.strip("/").split("/")  # api, v1, tasks, {id}, …
    if len(parts) < 4 or parts[3] != "{id}":
        return False
    value = (case.path_parameters or {}).get("id")
    return str(value) in COLLECTION_ACTIONS.get(parts[2], set())


def call(case, token: str) -> None:
    cache.clear()  # throttles and flood limits count per test run, not per example
    excluded = []
    if f"{case.method.upper()} {case.operation.path}" in SEMANTIC_RULES:
        excluded.append(schemathesis.checks.positive_data_acceptance)
    if spells_a_collection_action(case):
        excluded.append(schemathesis.checks.status_code_conformance)
    with rolled_back():
        with_existing_ids(case)
        case.call_and_validate(
            headers={"Authorization": f"Token {token}"}, excluded_checks=excluded
        )


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@schema.parametrize()
@FUZZ
def test_it_keeps_its_schema_for_the_office(case, tokens):
    call(case, tokens["office"])


@manager_schema.parametrize()
@FUZZ
def test_it_keeps_its_schema_for_a_manager(case, tokens):
    call(case, tokens["manager"])
