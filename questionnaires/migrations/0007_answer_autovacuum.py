"""A closed round's answers all-visible soon, so that counting them reads the index.

PostgreSQL's autovacuum runs on a table after inserts reach 20 % of its rows
(autovacuum_vacuum_insert_scale_factor): on a table of several rounds that is a
round or two later, and until then the analysis's index-only scans fetch heap
pages (1.8 × slower in bench/partitioning.py). 1 % vacuums each round's answers
within its own round. Nothing changes on SQLite.
"""

from django.db import migrations

TABLE = "questionnaires_answer"


def insert_vacuum_sooner(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_insert_scale_factor = 0.01)"
        )


def insert_vacuum_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} RESET (autovacuum_vacuum_insert_scale_factor)"
        )


class Migration(migrations.Migration):
    dependencies = [("questionnaires", "0006_campaign_excluded_units")]

    operations = [migrations.RunPython(insert_vacuum_sooner, insert_vacuum_default)]
