"""A round's settings, as the office enters them on its pages or sends them to the
API: one validation for creating a draft round and editing it, and nothing
half-saved. The pages and the API differ only where :class:`RoundRules` says."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from organizations.access import Scope, scope_for
from organizations.models import Unit

from .access import FINISHED, baseline_refusal
from .models import Campaign, CampaignQuestionnaire
from .services import ServiceError, StateError

# Unit kinds a round evaluates, each with its own questionnaire (the school is
# the organiser, never evaluated).
EVALUATED_KINDS = (Unit.Kind.COMMITTEE, Unit.Kind.BRANCH, Unit.Kind.WINDOW)
TARGET_MIN, TARGET_MAX = Decimal("0.5"), Decimal("1")
THRESHOLD_MAX = 32767  # the columns are PositiveSmallIntegerField
CAMPAIGN_SETTINGS = (
    "title",
    "description",
    "opens_at",
    "closes_at",
    "access_mode",
    "target",
    "rate_definition",
    "rate_levels",
    "neutral_counts_as_satisfied",
    "min_group_size",
    "min_flag_size",
    "min_comment_responses",
    "min_comments",
    "baseline",
)


@dataclass(frozen=True)
class RoundRules:
    """Where a caller's rules differ: the pages ask a target of at least 50% and a
    questionnaire; the API, as documented, any target above 0 and lets a draft
    round wait for its questionnaires (opening it still needs one)."""

    target_min: Decimal
    target_message: str
    questionnaires_required: bool


PAGE_RULES = RoundRules(
    target_min=TARGET_MIN,
    target_message=_lazy("目标满意率应在 50% 到 100% 之间。"),
    questionnaires_required=True,
)
API_RULES = RoundRules(
    target_min=Decimal("0.001"),  # above 0: the column keeps three decimals
    target_message=_lazy("目标应在 0 到 1 之间。"),
    questionnaires_required=False,
)


def baseline_options(
    scope: Scope, *, campaign: Campaign | None = None
) -> QuerySet[Campaign]:
    """The rounds ``scope`` may choose as a baseline: finished rounds it runs,
    and for an existing round only its organiser's, itself excepted (the rules
    of access.baseline_refusal, which judges what is posted)."""
    options = Campaign.objects.administered_by(scope).filter(status__in=FINISHED)
    if campaign is not None:
        options = options.filter(organizer=campaign.organizer_id).exclude(
            pk=campaign.pk
        )
    return options.select_related("organizer").order_by("-opens_at")


class CampaignInvalid(ServiceError):
    """A round's settings refused, with the reasons per field (``errors``);
    ``questionnaires`` is the key of a refusal of the choice as a whole."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("；".join(m for messages in errors.values() for m in messages))
        self.errors = errors


def _target(value: Any) -> Decimal | None:
    """A target as the column stores it (a float through its shortest text)."""
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def campaign_errors(
    scope: Scope,
    *,
    organizer: Unit,
    fields: dict[str, Any],
    campaign: Campaign | None,
    rules: RoundRules = PAGE_RULES,
) -> dict[str, list[str]]:
    """Why ``fields`` may not be the settings of a round; empty when they may.
    The rules are the database's check constraints and ``rules``; a missing
    ``questionnaires`` or ``excluded_units`` keeps the round's own."""
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    title = (fields.get("title") or "").strip()
    if not title:
        refuse("title", _("请填写标题。"))
    elif len(title) > 200:
        refuse("title", _("标题最多 200 个字。"))
    opens, closes = fields.get("opens_at"), fields.get("closes_at")
    for name, moment in (("opens_at", opens), ("closes_at", closes)):
        if moment is None:
            refuse(name, _("请填写时间。"))
        elif not 2000 <= moment.year <= 9998:
            # As the API: before 1901 Shanghai's offset had seconds.
            refuse(name, _("时间应在 2000 年到 9998 年之间。"))
    if opens and closes and "opens_at" not in errors and closes <= opens:
        refuse("closes_at", _("结束时间必须晚于开始时间。"))
    if fields.get("access_mode") not in Campaign.AccessMode.values:
        refuse("access_mode", _("请选择作答方式。"))
    target = _target(fields.get("target"))
    if target is None or not rules.target_min <= target <= TARGET_MAX:
        refuse("target", str(rules.target_message))
    elif target == TARGET_MAX:
        # The flag rules refuse it (analysis.stats.check_target, docs/methods.md §3).
        refuse(
            "target",
            _(
                "目标不能是 100%：目标为 100% 时，只要有一个不满意，检验的 p 值就为 0，"
                "单位会被判为显著低于目标。最高可设 99.9%。"
            ),
        )
    elif target != target.quantize(Decimal("0.001")):
        refuse("target", _("目标满意率最多精确到 0.1%。"))
    definition = fields.get("rate_definition", Campaign.RateDefinition.BROAD)
    if definition not in Campaign.RateDefinition.values:
        refuse("rate_definition", _("请选择满意率口径。"))
    if definition == Campaign.RateDefinition.LEVELS and not fields.get("rate_levels"):
        refuse("rate_levels", _("口径为“指定选项”时，请填写计为满意的选项编码。"))
    for name, low in (
        ("min_group_size", 3),
        ("min_flag_size", 0),
        ("min_comment_responses", 0),
        ("min_comments", 0),
    ):
        value = fields.get(name)
        if value is None or not low <= value <= THRESHOLD_MAX:
            refuse(
                name,
                _("应为 %(low)s 到 %(high)s 之间的整数。")
                % {"low": low, "high": THRESHOLD_MAX},
            )
    baseline = fields.get("baseline")
    if baseline is not None:
        refusal = baseline_refusal(
            scope, organizer_id=organizer.pk, baseline=baseline, campaign=campaign
        )
        if refusal:
            refuse("baseline", refusal)
    if "questionnaires" in fields:
        choices = fields["questionnaires"] or {}
    elif campaign is not None:
        choices = {
            c.unit_kind: c.questionnaire for c in campaign.questionnaire_choices.all()
        }
    else:
        choices = {}
    for kind, questionnaire in choices.items():
        if kind not in EVALUATED_KINDS:
            refuse("questionnaires", _("未知的单位类型：%(k)s。") % {"k": kind})
        elif not questionnaire.is_published:
            refuse(f"questionnaire_{kind}", _("只能使用已发布的问卷版本。"))
        elif questionnaire.target_kind != kind:
            refuse(f"questionnaire_{kind}", _("该问卷不适用于这类单位。"))
    if not choices and rules.questionnaires_required:
        refuse("questionnaires", _("请至少为一类单位指定问卷。"))
    if "excluded_units" in fields:
        excluded = list(fields["excluded_units"] or [])
    elif campaign is not None:
        excluded = list(campaign.excluded_units.all())
    else:
        excluded = []
    if excluded:
        for message in _exclusion_errors(organizer, excluded, kinds=list(choices)):
            refuse("excluded_units", message)
    return errors


def _exclusion_errors(
    organizer: Unit, excluded: list[Unit], *, kinds: list[str]
) -> list[str]:
    """Excluded units must be the organiser's, and leave the round some unit."""
    under = set(Unit.objects.subtree_of([organizer.pk]).values_list("pk", flat=True))
    outside = [unit for unit in excluded if unit.pk not in under]
    if outside:
        return [
            _("这些单位不在组织单位之下：%(units)s。")
            % {"units": "、".join(f"{u.name}（{u.code}）" for u in outside)}
        ]
    candidates = set(
        Campaign(organizer=organizer)
        .candidate_units(kinds)
        .values_list("pk", flat=True)
    )
    if candidates and candidates <= {unit.pk for unit in excluded}:
        return [_("不能排除本轮的全部单位：至少要有一个单位参加评议。")]
    return []


def _campaign_save(
    campaign: Campaign, *, organizer: Unit, fields: dict[str, Any]
) -> Campaign:
    """Write validated settings and questionnaire choices (inside a transaction)."""
    campaign.organizer = organizer
    for name in CAMPAIGN_SETTINGS:
        if name in fields:
            setattr(campaign, name, fields[name])
    campaign.target = _target(campaign.target)
    campaign.title = campaign.title.strip()
    if campaign.rate_definition != Campaign.RateDefinition.LEVELS:
        campaign.rate_levels = []
    campaign.full_clean(exclude=["baseline", "organizer"], validate_unique=False)
    campaign.save()
    if "questionnaires" in fields:
        campaign.questionnaire_choices.all().delete()
        CampaignQuestionnaire.objects.bulk_create(
            CampaignQuestionnaire(campaign=campaign, unit_kind=kind, questionnaire=q)
            for kind, q in (fields["questionnaires"] or {}).items()
        )
    if "excluded_units" in fields:
        campaign.excluded_units.set(fields["excluded_units"] or [])
    return campaign


def campaign_create(
    *,
    organizer: Unit,
    user,
    fields: dict[str, Any],
    rules: RoundRules = PAGE_RULES,
) -> Campaign:
    """A draft round of ``organizer`` set up by ``user``, its office.

    ``fields``: the settings in ``CAMPAIGN_SETTINGS`` (``target`` a fraction,
    ``baseline`` a Campaign or None), ``questionnaires``: {unit kind: a
    published Questionnaire of that kind} and ``excluded_units``: units under
    the organiser that do not take part. Refused whole (CampaignInvalid), or
    ServiceError "forbidden" when ``user`` is not the organiser's office."""
    scope = scope_for(user)
    if not scope.can_administer(organizer):
        raise ServiceError(_("您不能为该单位组织评议。"), code="forbidden")
    errors = campaign_errors(
        scope, organizer=organizer, fields=fields, campaign=None, rules=rules
    )
    if errors:
        raise CampaignInvalid(errors)
    with transaction.atomic():
        return _campaign_save(Campaign(), organizer=organizer, fields=fields)


def campaign_update(
    *,
    campaign: Campaign,
    user,
    fields: dict[str, Any],
    organizer: Unit | None = None,
    rules: RoundRules = PAGE_RULES,
) -> Campaign:
    """Change a draft round's settings, as :func:`campaign_create`; StateError
    once it has opened."""
    scope = scope_for(user)
    organizer = organizer or campaign.organizer
    if not (
        scope.can_administer(campaign.organizer_id) and scope.can_administer(organizer)
    ):
        raise ServiceError(_("您不能为该单位组织评议。"), code="forbidden")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Campaign.Status.DRAFT:
            raise StateError(
                _("轮次开启后不能再修改设置（当前：%(s)s）。")
                % {"s": locked.get_status_display()}
            )
        errors = campaign_errors(
            scope, organizer=organizer, fields=fields, campaign=locked, rules=rules
        )
        if errors:
            raise CampaignInvalid(errors)
        return _campaign_save(locked, organizer=organizer, fields=fields)
