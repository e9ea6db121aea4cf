"""Finding and task titles made by the analysis carried the unit's rate
("总体满意率 70.0%，显著低于目标 95%"); titles travel where figures may not, so the
figures come out. Titles someone has rewritten are left alone."""

import re

from django.db import migrations

UNIT = re.compile(r"^总体满意率 \d+(?:\.\d)?%，显著低于目标 \d+%$")
DIMENSION = re.compile(r"^“(.+)”满意率 \d+(?:\.\d)?%，显著低于目标$")


def without_figures(title: str) -> str:
    if UNIT.match(title):
        return "总体满意率显著低于目标"
    match = DIMENSION.match(title)
    if match:
        return f"“{match.group(1)}”满意率显著低于目标"
    return title


def forwards(apps, schema_editor):
    for model in (apps.get_model("analysis", "Finding"), apps.get_model("rectification", "Task")):
        for row in model.objects.filter(title__contains="满意率 ").only("pk", "title"):
            title = without_figures(row.title)
            if title != row.title:
                model.objects.filter(pk=row.pk).update(title=title)


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0001_initial"),
        ("rectification", "0003_evidence"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
