"""Problems found again (连续两轮): the same unit, the same dimension or comment
theme, confirmed in the round before.

"The round before" of a round is its baseline (the round the office chose to
compare it with) and the organiser's previous finished round; usually they are
the same. It is computed, not stored: it follows a baseline changed later and a
finding of the earlier round confirmed late, and costs two queries per page.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from questionnaires.models import Campaign

from .models import Finding

FINISHED = (Campaign.Status.CLOSED, Campaign.Status.PUBLISHED)


def match_key(finding: Finding) -> tuple[str, str] | None:
    """What makes two findings of one unit "the same problem": the dimension a
    statistical finding (or a manual one naming a dimension) is about ("" is the
    unit's overall rate), or the theme of a comment finding."""
    if finding.trigger == Finding.Trigger.THEME:
        return ("theme", finding.theme_key) if finding.theme_key else None
    if finding.trigger == Finding.Trigger.STATISTICAL or finding.dimension_code:
        return ("dimension", finding.dimension_code)
    return None


def rounds_before(campaign: Campaign) -> list[Campaign]:
    """The baseline, then the organiser's previous finished round (once)."""
    rounds = [campaign.baseline] if campaign.baseline_id else []
    previous = (
        Campaign.objects.filter(
            organizer_id=campaign.organizer_id,
            opens_at__lt=campaign.opens_at,
            status__in=FINISHED,
        )
        .exclude(pk=campaign.pk)
        .order_by("-opens_at", "-id")
        .first()
    )
    if previous is not None and previous.pk != campaign.baseline_id:
        rounds.append(previous)
    return rounds


def earlier_findings(
    findings: Iterable[Finding], *, among: QuerySet[Finding]
) -> dict[int, Finding]:
    """For each finding found again, the earlier one, by the finding's id.

    ``among`` is what the reader may see (``analysis.access.visible_findings``):
    an earlier finding the reader may not see is not linked, and not marked. The
    earlier finding must have been confirmed and not judged 不属实."""
    findings = [f for f in findings if match_key(f) is not None]
    before: dict[int, list[int]] = {}
    rounds = Campaign.objects.in_bulk({f.campaign_id for f in findings})
    for campaign in rounds.values():
        before[campaign.pk] = [c.pk for c in rounds_before(campaign)]
    campaigns = {pk for pks in before.values() for pk in pks}
    if not campaigns:
        return {}
    candidates = (
        among.filter(
            campaign__in=campaigns,
            unit__in={f.unit_id for f in findings},
            status=Finding.Status.CONFIRMED,
        )
        .exclude(verification=Finding.Verification.FALSE)
        .select_related("campaign", "unit")
        .order_by("id")
    )
    by_key: dict[tuple[int, int, tuple[str, str] | None], Finding] = {}
    for earlier in candidates:
        by_key.setdefault(
            (earlier.campaign_id, earlier.unit_id, match_key(earlier)), earlier
        )
    found = {}
    for finding in findings:
        for campaign_id in before[finding.campaign_id]:
            earlier = by_key.get((campaign_id, finding.unit_id, match_key(finding)))
            if earlier is not None:
                found[finding.pk] = earlier
                break
    return found
