"""Install the built-in scales and questionnaire templates (published version 1)."""

from django.db import migrations
from django.utils import timezone

from questionnaires.builtin import SCALES, TEMPLATES


def install(apps, schema_editor):
    Scale = apps.get_model("questionnaires", "Scale")
    ScaleLevel = apps.get_model("questionnaires", "ScaleLevel")
    Questionnaire = apps.get_model("questionnaires", "Questionnaire")
    Dimension = apps.get_model("questionnaires", "Dimension")
    Question = apps.get_model("questionnaires", "Question")
    Option = apps.get_model("questionnaires", "Option")

    scales = {}
    for key, name, levels in SCALES:
        scale, created = Scale.objects.get_or_create(key=key, defaults={"name": name})
        scales[key] = scale
        if created:
            for order, (code, label, polarity, score) in enumerate(levels):
                ScaleLevel.objects.create(
                    scale=scale, code=code, label=label, polarity=polarity, score=score, order=order
                )

    for template in TEMPLATES:
        if Questionnaire.objects.filter(key=template["key"]).exists():
            continue
        questionnaire = Questionnaire.objects.create(
            key=template["key"],
            version=1,
            title=template["title"],
            description=template["description"],
            target_kind=template["target_kind"],
        )
        order = 0
        groups = [(None, template.get("questions", []))]
        for d_order, dim in enumerate(template["dimensions"]):
            dimension = Dimension.objects.create(
                questionnaire=questionnaire, code=dim["code"], title=dim["title"], order=d_order
            )
            groups.insert(len(groups) - 1, (dimension, dim["questions"]))
        for dimension, questions in groups:
            for item in questions:
                order += 1
                question = Question.objects.create(
                    questionnaire=questionnaire,
                    dimension=dimension,
                    code=item["code"],
                    kind=item["kind"],
                    text=item["text"],
                    help_text=item.get("help_text", ""),
                    required=item.get("required", False),
                    headline=item.get("headline", False),
                    scale=scales[item["scale"]] if item["kind"] == "scale" else None,
                    order=order,
                )
                for o_order, label in enumerate(item.get("options", [])):
                    Option.objects.create(question=question, label=label, order=o_order)
        questionnaire.published_at = timezone.now()
        questionnaire.save(update_fields=["published_at"])


class Migration(migrations.Migration):
    dependencies = [("questionnaires", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
