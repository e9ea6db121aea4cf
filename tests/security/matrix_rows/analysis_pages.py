"""Rows of the results pages' own exports (a page address, not the API): as the
overview, they follow analysis.access; an unknown level or file type is 404."""

from __future__ import annotations

from tests.security.matrix import PAGE, S, case, every

# fmt: off
ROWS = [
    case("analysis-results-download",
         "/manage/campaigns/{c.round.pk}/results/export.csv?level=unit", get=PAGE,
         note="published: every reader, within its scope"),
    case("analysis-results-download",
         "/manage/campaigns/{c.round_a.pk}/results/export.xlsx",
         get=S(302, 403, 404, 403, 200, 200),
         note="open: the offices get the page saying it is not analysed yet"),
    case("analysis-results-download",
         "/manage/campaigns/{c.round.pk}/results/export.pdf",
         get=every(404, anonymous=302), note="no such file type"),
]
# fmt: on
