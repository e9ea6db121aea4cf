"""The answer table asks PostgreSQL to vacuum after inserts of 1 % of its rows
(questionnaires/migrations/0007_answer_autovacuum.py)."""

from unittest import skipUnless

from django.db import connection
from django.test import TestCase


@skipUnless(connection.vendor == "postgresql", "a PostgreSQL storage parameter")
class AnswerAutovacuumTests(TestCase):
    def test_the_answer_table_is_vacuumed_after_one_percent_new_rows(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reloptions FROM pg_class WHERE relname = %s",
                ["questionnaires_answer"],
            )
            (options,) = cursor.fetchone()
        self.assertIn("autovacuum_vacuum_insert_scale_factor=0.01", options or [])
