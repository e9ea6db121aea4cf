"""Who may see how a round is going while it runs.

A live counter of a small unit (responses, or ballots used, of a 支部 with a
dozen members) tells whoever watches it who has just answered. After the close
the same count is the unit's number of responses, which the results hide for a
group under the anonymity threshold (and for a sibling that would give it away
by subtraction). So counts per point are the office's, always; everyone else
reads participation in the published results, where ``analysis.access`` applies
the thresholds.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from organizations.access import Scope

from .models import Campaign

FINISHED = (Campaign.Status.CLOSED, Campaign.Status.PUBLISHED)


def baseline_refusal(
    scope: Scope, *, organizer_id: int, baseline: Campaign, campaign: Campaign | None
) -> str:
    """Why ``baseline`` may not be the baseline of a round of ``organizer_id`` set
    by ``scope``; empty when it may.

    A baseline's figures are shown beside the round's, so it must be a finished
    round of the same organiser, run by the same office: otherwise a sub-office
    could read the school's unpublished round through its own comparison."""
    if campaign is not None and baseline.pk == campaign.pk:
        return _("轮次不能以自身为基线。")
    if baseline.organizer_id != organizer_id:
        return _("基线必须是同一组织单位的轮次。")
    if not scope.can_administer(baseline.organizer_id):
        return _("您不能使用该轮次作为基线。")
    if baseline.status not in FINISHED:
        return _("基线必须是已结束或已发布结果的轮次。")
    return ""


def progress_visible(scope: Scope, campaign: Campaign) -> bool:
    """Whether ``scope`` may read ballots used per point of ``campaign``: its
    office only (see the module's docstring)."""
    return scope.can_administer(campaign.organizer_id)
