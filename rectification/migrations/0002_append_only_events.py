"""On PostgreSQL the audit trail refuses UPDATE and DELETE (append-only).

TRUNCATE is not refused: it is what test databases are reset with, and it needs
table ownership that the application's role should not have in production.
"""

from django.db import migrations

CREATE = [
    """
CREATE OR REPLACE FUNCTION rectification_refuse_event_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the rectification audit trail is append-only (%% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER taskevent_append_only BEFORE UPDATE OR DELETE ON rectification_taskevent
    FOR EACH ROW EXECUTE FUNCTION rectification_refuse_event_change()""",
]
DROP = [
    "DROP TRIGGER IF EXISTS taskevent_append_only ON rectification_taskevent",
    "DROP FUNCTION IF EXISTS rectification_refuse_event_change()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # elsewhere no code path updates or deletes events
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("rectification", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
