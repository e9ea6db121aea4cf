from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuestionnairesConfig(AppConfig):
    name = "questionnaires"
    verbose_name = _("问卷与评议")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from organizations.models import Unit

        from . import page_cache
        from .models import Campaign, CollectionPoint, Commitment, Questionnaire

        # What a respondent page shows, saved in this process: its kept facts
        # are read again at once (other processes within RESPONDENT_FACTS_SECONDS).
        for model in (Campaign, CollectionPoint, Commitment, Questionnaire, Unit):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    page_cache.facts_saved,
                    sender=model,
                    dispatch_uid=f"respondent-facts-{name}-{model._meta.label}",
                )
