"""The database itself refuses changes to a published questionnaire version.

Triggers on the questionnaire and on its dimensions, questions and options raise an
integrity error (SQLSTATE 23000 on PostgreSQL, a constraint failure on SQLite) for
any INSERT, UPDATE or DELETE that touches a published version. Publishing itself
(setting published_at on a draft) is the one update allowed.
"""

from django.db import migrations

MESSAGE = "published questionnaire versions are frozen; create a new version"

SQLITE = [
    f"""CREATE TRIGGER questionnaire_frozen_update BEFORE UPDATE ON questionnaires_questionnaire
    WHEN OLD.published_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER questionnaire_frozen_delete BEFORE DELETE ON questionnaires_questionnaire
    WHEN OLD.published_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
for table, parent in (("dimension", "questionnaire_id"), ("question", "questionnaire_id")):
    published = "(SELECT published_at FROM questionnaires_questionnaire WHERE id = {row}.%s) IS NOT NULL" % parent
    SQLITE += [
        f"""CREATE TRIGGER {table}_frozen_insert BEFORE INSERT ON questionnaires_{table}
        WHEN {published.format(row='NEW')} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER {table}_frozen_update BEFORE UPDATE ON questionnaires_{table}
        WHEN {published.format(row='OLD')} OR {published.format(row='NEW')}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER {table}_frozen_delete BEFORE DELETE ON questionnaires_{table}
        WHEN {published.format(row='OLD')} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    ]
OPTION_PUBLISHED = (
    "(SELECT q.published_at FROM questionnaires_questionnaire q JOIN questionnaires_question qu"
    " ON qu.questionnaire_id = q.id WHERE qu.id = {row}.question_id) IS NOT NULL"
)
SQLITE += [
    f"""CREATE TRIGGER option_frozen_insert BEFORE INSERT ON questionnaires_option
    WHEN {OPTION_PUBLISHED.format(row='NEW')} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER option_frozen_update BEFORE UPDATE ON questionnaires_option
    WHEN {OPTION_PUBLISHED.format(row='OLD')} OR {OPTION_PUBLISHED.format(row='NEW')}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER option_frozen_delete BEFORE DELETE ON questionnaires_option
    WHEN {OPTION_PUBLISHED.format(row='OLD')} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in [
        "questionnaire_frozen_update",
        "questionnaire_frozen_delete",
        *[f"{t}_frozen_{op}" for t in ("dimension", "question", "option") for op in ("insert", "update", "delete")],
    ]
]

POSTGRES = [
    f"""
CREATE OR REPLACE FUNCTION questionnaires_refuse_frozen() RETURNS trigger AS $$
DECLARE
    frozen boolean;
BEGIN
    IF TG_TABLE_NAME = 'questionnaires_questionnaire' THEN
        frozen := OLD.published_at IS NOT NULL;
    ELSIF TG_TABLE_NAME = 'questionnaires_option' THEN
        SELECT bool_or(q.published_at IS NOT NULL) INTO frozen
          FROM questionnaires_questionnaire q
          JOIN questionnaires_question qu ON qu.questionnaire_id = q.id
         WHERE (TG_OP <> 'INSERT' AND qu.id = OLD.question_id)
            OR (TG_OP <> 'DELETE' AND qu.id = NEW.question_id);
    ELSE
        SELECT bool_or(q.published_at IS NOT NULL) INTO frozen
          FROM questionnaires_questionnaire q
         WHERE (TG_OP <> 'INSERT' AND q.id = OLD.questionnaire_id)
            OR (TG_OP <> 'DELETE' AND q.id = NEW.questionnaire_id);
    END IF;
    IF coalesce(frozen, false) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER questionnaire_frozen BEFORE UPDATE OR DELETE ON questionnaires_questionnaire
    FOR EACH ROW EXECUTE FUNCTION questionnaires_refuse_frozen()""",
    *[
        f"""CREATE TRIGGER {t}_frozen BEFORE INSERT OR UPDATE OR DELETE ON questionnaires_{t}
        FOR EACH ROW EXECUTE FUNCTION questionnaires_refuse_frozen()"""
        for t in ("dimension", "question", "option")
    ],
]
POSTGRES_DROP = [
    *[f"DROP TRIGGER IF EXISTS {t}_frozen ON questionnaires_{t}" for t in ("dimension", "question", "option")],
    "DROP TRIGGER IF EXISTS questionnaire_frozen ON questionnaires_questionnaire",
    "DROP FUNCTION IF EXISTS questionnaires_refuse_frozen()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"no freeze triggers for {schema_editor.connection.vendor}")
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("questionnaires", "0002_builtin_scales_and_templates")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
