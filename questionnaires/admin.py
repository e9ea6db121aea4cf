"""Admin for scales, questionnaires and rounds, scoped like everything else.

Responses and answers are registered read-only for superusers' inspection only:
raw rows never leave the office (DESIGN.md), and nobody edits them.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from organizations.access import scope_for
from organizations.admin import UnitScopedAdmin

from .access import baseline_refusal
from .models import (
    Answer,
    BallotCode,
    Campaign,
    CampaignQuestionnaire,
    CollectionPoint,
    Commitment,
    Dimension,
    Option,
    PendingSubmission,
    Question,
    Questionnaire,
    Response,
    Scale,
    ScaleLevel,
    SubmissionNonce,
)
from .round_settings import baseline_options


class OfficeOnlyAdmin(admin.ModelAdmin):
    """School-wide configuration: visible to staff, changed by the school's office
    only (not by the office of one 二级党组织)."""

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return (
            super().has_change_permission(request, obj)
            and scope_for(request.user).administers_all()
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return (
            super().has_add_permission(request)
            and scope_for(request.user).administers_all()
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        frozen = isinstance(obj, Questionnaire) and obj.is_published
        return (
            not frozen
            and super().has_delete_permission(request, obj)
            and scope_for(request.user).administers_all()
        )


class ScaleLevelInline(admin.TabularInline):
    model = ScaleLevel
    extra = 0


@admin.register(Scale)
class ScaleAdmin(OfficeOnlyAdmin):
    list_display = ["key", "name"]
    inlines = [ScaleLevelInline]


class DimensionInline(admin.TabularInline):
    model = Dimension
    extra = 0


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = [
        "order",
        "code",
        "dimension",
        "kind",
        "text",
        "help_text",
        "scale",
        "required",
        "headline",
    ]


@admin.register(Questionnaire)
class QuestionnaireAdmin(OfficeOnlyAdmin):
    list_display = ["key", "version", "title", "target_kind", "published_at"]
    list_filter = ["target_kind", "key"]
    inlines = [DimensionInline, QuestionInline]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Published versions are frozen (the database refuses changes anyway).
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)


@admin.register(Option)
class OptionAdmin(OfficeOnlyAdmin):
    list_display = ["label", "question", "order"]


class CampaignQuestionnaireInline(admin.TabularInline):
    model = CampaignQuestionnaire
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(UnitScopedAdmin):
    unit_path = "organizer"
    list_display = ["title", "status", "access_mode", "opens_at", "closes_at"]
    list_filter = ["status", "access_mode"]
    readonly_fields = ["status", "opened_at", "closed_at", "published_at"]
    inlines = [CampaignQuestionnaireInline]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "baseline":
            # Only rounds that may be a baseline, as the round pages offer them.
            kwargs["queryset"] = baseline_options(scope_for(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        scope = scope_for(request.user)

        class BaselineChecked(form):
            def clean(self):
                data = super().clean()
                baseline, organizer = data.get("baseline"), data.get("organizer")
                if baseline is not None and organizer is not None:
                    refusal = baseline_refusal(
                        scope,
                        organizer_id=organizer.pk,
                        baseline=baseline,
                        campaign=obj,
                    )
                    if refusal:
                        self.add_error("baseline", refusal)
                return data

        return BaselineChecked


@admin.register(CollectionPoint)
class CollectionPointAdmin(UnitScopedAdmin):
    list_display = ["campaign", "unit", "questionnaire", "token"]
    list_filter = ["campaign"]
    readonly_fields = ["campaign", "unit", "questionnaire", "token", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # points are made by opening a round


@admin.register(Commitment)
class CommitmentAdmin(UnitScopedAdmin):
    list_display = ["text", "unit", "campaign", "order"]
    list_filter = ["campaign"]


class SuperuserReadOnlyAdmin(admin.ModelAdmin):
    """Anonymous data: never edited, and shown to superusers only."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Response)
class ResponseAdmin(SuperuserReadOnlyAdmin):
    list_display = ["id", "point", "submitted_on"]


@admin.register(Answer)
class AnswerAdmin(SuperuserReadOnlyAdmin):
    list_display = ["id", "question", "level", "option"]


@admin.register(BallotCode)
class BallotCodeAdmin(SuperuserReadOnlyAdmin):
    list_display = ["point", "issued_on", "used_on"]


@admin.register(SubmissionNonce)
class SubmissionNonceAdmin(SuperuserReadOnlyAdmin):
    list_display = ["nonce", "seen_on"]


@admin.register(PendingSubmission)
class PendingSubmissionAdmin(SuperuserReadOnlyAdmin):
    """How many wait at which point; the sealed answers are not shown."""

    list_display = ["id", "point"]
    fields = ["id", "point"]


@admin.register(ScaleLevel)
class ScaleLevelAdmin(OfficeOnlyAdmin):
    list_display = ["scale", "code", "label", "polarity", "score"]


@admin.register(Dimension)
class DimensionAdmin(OfficeOnlyAdmin):
    list_display = ["questionnaire", "code", "title"]


@admin.register(Question)
class QuestionAdmin(OfficeOnlyAdmin):
    list_display = ["questionnaire", "code", "kind", "text"]
    list_filter = ["kind"]


@admin.register(CampaignQuestionnaire)
class CampaignQuestionnaireAdmin(UnitScopedAdmin):
    unit_path = "campaign__organizer"
    list_display = ["campaign", "unit_kind", "questionnaire"]
