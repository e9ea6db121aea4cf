from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from organizations.access import scope_for
from organizations.models import Unit

from .access import progress_visible
from .models import (
    BallotCode,
    Campaign,
    CollectionPoint,
    Commitment,
    Question,
    Questionnaire,
    Scale,
    ScaleLevel,
)
from .round_settings import API_RULES, CAMPAIGN_SETTINGS, campaign_errors
from .services import questionnaire_spec


class ScaleLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScaleLevel
        fields = ["code", "label", "polarity", "score", "order"]


class ScaleSerializer(serializers.ModelSerializer):
    levels = ScaleLevelSerializer(many=True, min_length=2)

    class Meta:
        model = Scale
        fields = ["id", "key", "name", "description", "levels"]

    def validate_levels(self, levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(levels) < 2:
            raise serializers.ValidationError(_("量表至少需要两个选项。"))
        codes = [level["code"] for level in levels]
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError(_("选项编码不能重复。"))
        for level in levels:
            if (
                level["polarity"] != ScaleLevel.Polarity.DONT_KNOW
                and level.get("score") is None
            ):
                raise serializers.ValidationError(
                    _("除“不了解”外，每个选项都需要分值。")
                )
        return levels


class QuestionSpecSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = serializers.CharField(max_length=300)
    help_text = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    required = serializers.BooleanField(default=False)
    headline = serializers.BooleanField(default=False)
    scale = serializers.SlugField(required=False, allow_null=True, default=None)
    options = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == Question.Kind.SCALE:
            if (
                not attrs.get("scale")
                or not Scale.objects.filter(key=attrs["scale"]).exists()
            ):
                raise serializers.ValidationError(
                    {"scale": [_("量表题需要一个已有的量表。")]}
                )
        elif attrs.get("scale"):
            raise serializers.ValidationError({"scale": [_("只有量表题使用量表。")]})
        if attrs["kind"] in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            if len(attrs.get("options") or []) < 2:
                raise serializers.ValidationError(
                    {"options": [_("选择题至少需要两个选项。")]}
                )
        elif attrs.get("options"):
            raise serializers.ValidationError({"options": [_("只有选择题有选项。")]})
        return attrs


class DimensionSpecSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    title = serializers.CharField(max_length=100)
    questions = QuestionSpecSerializer(many=True)


class QuestionnaireSpecSerializer(serializers.Serializer):
    """A whole questionnaire version as one nested document."""

    key = serializers.SlugField(max_length=60)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    target_kind = serializers.ChoiceField(choices=Unit.Kind.choices)
    dimensions = DimensionSpecSerializer(many=True, required=False, default=list)
    questions = QuestionSpecSerializer(many=True, required=False, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        questions = [
            *attrs["questions"],
            *[q for d in attrs["dimensions"] for q in d["questions"]],
        ]
        if not questions:
            raise serializers.ValidationError(_("问卷至少需要一道题。"))
        codes = [q["code"] for q in questions]
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError({"questions": [_("题目编码不能重复。")]})
        dim_codes = [d["code"] for d in attrs["dimensions"]]
        if len(set(dim_codes)) != len(dim_codes):
            raise serializers.ValidationError({"dimensions": [_("维度编码不能重复。")]})
        if sum(1 for q in questions if q["headline"]) > 1:
            raise serializers.ValidationError(
                {"questions": [_("只能有一道总体评价题。")]}
            )
        return attrs


class QuestionnaireSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    content = serializers.SerializerMethodField()

    class Meta:
        model = Questionnaire
        fields = [
            "id",
            "key",
            "version",
            "title",
            "description",
            "target_kind",
            "status",
            "created_at",
            "published_at",
            "content",
        ]

    def get_status(self, obj: Questionnaire) -> str:
        return "published" if obj.is_published else "draft"

    def get_content(self, obj: Questionnaire) -> dict[str, Any]:
        spec = questionnaire_spec(obj)
        ids = {q.code: q.id for q in obj.questions.all()}
        for question in [
            *spec["questions"],
            *[q for d in spec["dimensions"] for q in d["questions"]],
        ]:
            question["id"] = ids[question["code"]]
        return {"dimensions": spec["dimensions"], "questions": spec["questions"]}


@extend_schema_field(
    {
        "type": "object",
        "properties": {
            kind: {"type": "integer"}
            for kind in Unit.Kind.values
            if kind != Unit.Kind.SCHOOL
        },
        "additionalProperties": False,
    }
)
class QuestionnaireChoicesField(serializers.DictField):
    """Unit kind → questionnaire id; the schema names the kinds."""


class CampaignSerializer(serializers.ModelSerializer):
    questionnaires = QuestionnaireChoicesField(
        child=serializers.PrimaryKeyRelatedField(queryset=Questionnaire.objects.all()),
        required=False,
        help_text=_('每类单位使用的问卷：{"committee": 问卷ID, …}'),
    )
    rate_levels = serializers.ListField(
        child=serializers.SlugField(max_length=40),
        required=False,
        help_text=_("口径为“指定选项”时使用。"),
    )

    class Meta:
        model = Campaign
        # The settings are round_settings' list, so a new one reaches the API too.
        fields = [
            "id",
            "organizer",
            *CAMPAIGN_SETTINGS,
            "status",
            "questionnaires",
            "opened_at",
            "closed_at",
            "published_at",
        ]
        read_only_fields = ["status", "opened_at", "closed_at", "published_at"]
        # The database's check constraint, stated where the schema shows it.
        extra_kwargs = {
            "min_group_size": {
                "min_value": 3,
                "error_messages": {"min_value": _("不得低于 3。")},
            }
        }

    def to_representation(self, instance: Campaign) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["questionnaires"] = {
            choice.unit_kind: choice.questionnaire_id
            for choice in instance.questionnaire_choices.all()
        }
        return data

    def validate_organizer(self, organizer: Unit) -> Unit:
        if not scope_for(self.context["request"].user).can_administer(organizer):
            raise serializers.ValidationError(_("您不能为该单位组织评议。"))
        return organizer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The rules are the pages' (questionnaires.round_settings), with the
        API's target and optional questionnaires (API_RULES)."""
        if self.instance is not None and self.instance.status != Campaign.Status.DRAFT:
            raise serializers.ValidationError(_("轮次开启后不能再修改设置。"))
        fields = self.service_fields(attrs)
        errors = campaign_errors(
            scope_for(self.context["request"].user),
            organizer=attrs.get("organizer") or self.instance.organizer,
            fields=fields,
            campaign=self.instance,
            rules=API_RULES,
        )
        if errors:
            shaped: dict[str, list[str]] = {}
            for name, messages in errors.items():
                # The pages name a kind's questionnaire field; here it is one map.
                key = "questionnaires" if name.startswith("questionnaire") else name
                shaped.setdefault(key, []).extend(messages)
            raise serializers.ValidationError(shaped)
        return attrs

    def service_fields(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Every setting, sent or the round's own (a new round's defaults), as
        round_settings takes them; the questionnaires only when sent."""
        current = self.instance or Campaign()
        fields = {
            name: attrs.get(name, getattr(current, name)) for name in CAMPAIGN_SETTINGS
        }
        if "questionnaires" in attrs:
            fields["questionnaires"] = attrs["questionnaires"]
        return fields


class PointSerializer(serializers.ModelSerializer):
    unit_code = serializers.CharField(source="unit.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    url = serializers.CharField(source="public_url", read_only=True)
    qr_svg = serializers.SerializerMethodField()
    qr_png = serializers.SerializerMethodField()
    poster_pdf = serializers.SerializerMethodField()
    ballots_issued = serializers.SerializerMethodField()
    ballots_used = serializers.SerializerMethodField()

    class Meta:
        model = CollectionPoint
        fields = [
            "id",
            "campaign",
            "unit",
            "unit_code",
            "unit_name",
            "questionnaire",
            "token",
            "url",
            "qr_svg",
            "qr_png",
            "poster_pdf",
            "ballots_issued",
            "ballots_used",
        ]

    def _absolute(self, name: str, obj: CollectionPoint) -> str:
        return self.context["request"].build_absolute_uri(reverse(name, args=[obj.pk]))

    def get_qr_svg(self, obj: CollectionPoint) -> str:
        return self._absolute("manage-point-qr-svg", obj)

    def get_qr_png(self, obj: CollectionPoint) -> str:
        return self._absolute("manage-point-qr-png", obj)

    def get_poster_pdf(self, obj: CollectionPoint) -> str:
        return self._absolute("manage-point-poster", obj)

    def get_ballots_issued(self, obj: CollectionPoint) -> int:
        return (
            getattr(obj, "n_ballots", None)
            or BallotCode.objects.filter(point=obj).count()
        )

    @extend_schema_field(
        serializers.IntegerField(
            allow_null=True,
            help_text=_(
                "已使用的选票数；仅领导小组办公室可见，其他人为 null（参与率见统计结果）。"
            ),
        )
    )
    def get_ballots_used(self, obj: CollectionPoint) -> int | None:
        # One answer per round, not one query per point.
        visible = self.context.setdefault("progress_visible", {})
        if obj.campaign_id not in visible:
            visible[obj.campaign_id] = progress_visible(
                scope_for(self.context["request"].user), obj.campaign
            )
        if not visible[obj.campaign_id]:
            return None
        used = getattr(obj, "n_used", None)
        if used is None:
            used = BallotCode.objects.filter(point=obj, used_on__isnull=False).count()
        return used


class CommitmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Commitment
        fields = ["id", "campaign", "unit", "text", "order"]

    def validate_unit(self, unit: Unit) -> Unit:
        if not scope_for(self.context["request"].user).can_act(unit):
            raise serializers.ValidationError(_("您不能为该单位填写承诺。"))
        return unit

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The round's state counts whether or not the body names the round: a
        # PATCH of the text alone must not change a finished round's promises.
        campaign = attrs.get("campaign") or getattr(self.instance, "campaign", None)
        if campaign is not None and campaign.status not in (
            Campaign.Status.DRAFT,
            Campaign.Status.OPEN,
        ):
            raise serializers.ValidationError(
                {"campaign": [_("轮次已结束，承诺不能再修改。")]}
            )
        # As on the page (questionnaires.views.commitments_edit): only a unit taking
        # part in the round may promise anything for it.
        unit = attrs.get("unit") or getattr(self.instance, "unit", None)
        if (
            campaign is not None
            and unit is not None
            and not campaign.participants().filter(pk=unit.pk).exists()
        ):
            raise serializers.ValidationError(
                {"unit": [_("该单位不参加本轮评议，不能为其填写承诺。")]}
            )
        return attrs
