from collections.abc import Iterator

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def responsible_people() -> Iterator[str]:
    """The responsible leaders and people written on tasks: names that comments
    may carry, masked like the users' (analysis.comments.known_names)."""
    from .models import Task

    for leader, person in Task.objects.values_list(
        "responsible_leader", "responsible_person"
    ).iterator():
        yield from (value for value in (leader, person) if value)


class RectificationConfig(AppConfig):
    name = "rectification"
    verbose_name = _("整改")

    def ready(self) -> None:
        from analysis.comments import PERSON_NAME_SOURCES

        if responsible_people not in PERSON_NAME_SOURCES:
            PERSON_NAME_SOURCES.append(responsible_people)
