"""Rows of the rectification pages added with 待交办 and 连续两轮: a finding's page."""

from tests.security.matrix import S, case

# fmt: off
ROWS = [
    case("rectification-finding", "/manage/findings/{c.finding.pk}/",
         get=S(302, 200, 404, 200, 200, 200),
         note="a confirmed finding of a published round: its unit's readers too"),
    case("rectification-finding", "/manage/findings/{c.candidate.pk}/",
         get=S(302, 404, 404, 404, 404, 200), note="a candidate is the office's"),
]
# fmt: on
