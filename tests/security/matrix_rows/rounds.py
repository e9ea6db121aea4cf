"""Rows of a round's office pages added with issue 10: the respondent page's
preview per unit kind and the ballots of all points at once.

Both are the organiser's office's: a role that sees the round gets 403, one that
does not 404 (a draft is seen by those whose units take part in it). Ballots
are refused (409) for a round that is not a ballot round, past the access check.
"""

from __future__ import annotations

from tests.security.matrix import S, case

OFFICE_OF_A = S(302, 403, 404, 403, 200, 200)

# fmt: off
ROWS = [
    case("manage-campaign-preview", "/manage/campaigns/{c.draft.pk}/preview/branch/",
         get=S(302, 403, 403, 403, 403, 200),
         note="the school's draft; a draft round: its participating units' "
         "managers see it (commitments)"),
    case("manage-campaign-preview",
         "/manage/campaigns/{c.round_a.pk}/preview/branch/", get=OFFICE_OF_A,
         note="A's open round: both offices"),
    case("manage-campaign-ballots",
         "/manage/campaigns/{c.ballot_point.campaign_id}/ballots/",
         get=S(302, 403, 403, 403, 403, 200), post=S(302, 403, 403, 403, 403, 200),
         body={"count": "1"}, note="the school's ballot round: its office; a PDF"),
    case("manage-campaign-ballots", "/manage/campaigns/{c.round_a.pk}/ballots/",
         get=OFFICE_OF_A, post=S(302, 403, 404, 403, 409, 409),
         body={"count": "1"}, note="not a ballot round: the page says why"),
]
# fmt: on
