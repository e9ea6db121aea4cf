"""Two offices editing one draft at the same moment lose neither edit silently.

An edit locks the draft, rewrites its rows and commits; an edit that waited for
the lock finds the rows renewed and is refused ("刚被修改过") rather than writing
its older copy over the first. Real threads with their own connections, on
PostgreSQL (SQLite's test database fails a second writer at once).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import skipUnless

from django.db import connection
from django.test import TransactionTestCase

from questionnaires import editor
from questionnaires.models import Questionnaire
from questionnaires.services import StateError, questionnaire_spec
from tests.browser import empty_tables
from tests.questionnaires.helpers import builtin

WORKERS = 6


@skipUnless(connection.vendor == "postgresql", "PostgreSQL's concurrency")
class EditorConcurrencyTests(TransactionTestCase):
    def _fixture_teardown(self) -> None:
        Questionnaire.objects.drafts().filter(key="race-draft").delete()
        empty_tables()  # not Django's flush: see tests.browser.empty_tables

    def test_simultaneous_edits_are_applied_or_refused_never_lost(self):
        draft = editor.questionnaire_copy(
            source=builtin("wuhao-branch"),
            key="race-draft",
            title="并发草稿",
            target_kind="branch",
        )
        barrier = threading.Barrier(WORKERS)

        def add(index: int) -> object:
            barrier.wait(timeout=30)
            try:
                return editor.question_add(
                    draft=draft,
                    fields=editor.QuestionFields(
                        text=f"并发题目{index}",
                        kind="scale",
                        scale="three_dk",
                        code=f"race{index}",
                    ),
                )
            except Exception as exc:  # reported by the assertions below
                return exc
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            outcomes = list(pool.map(add, range(WORKERS)))
        added = {
            f"race{i}" for i, o in enumerate(outcomes) if isinstance(o, Questionnaire)
        }
        refused = [o for o in outcomes if not isinstance(o, Questionnaire)]
        self.assertTrue(added, outcomes)
        for outcome in refused:
            self.assertIsInstance(outcome, StateError)
            self.assertEqual(outcome.code, "changed")
        final = Questionnaire.objects.get(key="race-draft", version=1)
        codes = {q["code"] for q in editor.all_questions(questionnaire_spec(final))}
        self.assertEqual({c for c in codes if c.startswith("race")}, added)
        self.assertEqual(len(codes), 12 + len(added))
