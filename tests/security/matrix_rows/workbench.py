"""Rows of the workbench's pages: the commitments overview of a round (the
workbench itself, ``manage-home``, has its row in test_permission_matrix.py)."""

from tests.security.matrix import S, case

ROWS = [
    case(
        "manage-commitments-overview",
        "/manage/campaigns/{c.round_a.pk}/commitments/",
        get=S(302, 403, 404, 403, 200, 200),
        note="an office's page; A's round, which both offices run",
    ),
    case(
        "manage-commitments-overview",
        "/manage/campaigns/{c.draft.pk}/commitments/",
        get=S(302, 403, 403, 403, 200, 200),
        note="the school's draft; a draft round: its participating units' managers "
        "see it (commitments); a sub-office lists its own units",
    ),
    case(
        "manage-commitments-overview",
        "/manage/campaigns/{c.round.pk}/commitments/",
        get=S(302, 403, 403, 403, 200, 200),
        note="a sub-office lists its own units of the school's round",
    ),
]
