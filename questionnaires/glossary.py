"""One-line explanations of party-work terms a student may not know.

Shown under a question on the respondent page when its text uses the term. Kept
apart from the questionnaire versions (which are frozen once published): the
words asked stay the same, only the explanation beside them is added.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

TERMS = {
    "三会一课": _(
        "三会一课：定期召开支部党员大会、支部委员会、党小组会，按时上好党课。"
    ),
    "党务公开": _("党务公开：党组织把工作情况、决策和办事程序向党员和群众公开。"),
    "民主评议": _("民主评议：党员和群众对党组织、党员的表现进行评价和监督。"),
    "主题党日": _("主题党日：党支部每月固定一天组织党员集中学习、开展活动。"),
    "组织生活会": _("组织生活会：党支部党员开展批评和自我批评、查找问题的会议。"),
    "先锋模范作用": _("先锋模范作用：党员在学习和工作中走在前面、作出表率。"),
}


def notes_for(text: str) -> list[str]:
    """The explanations of the terms ``text`` uses, in the order they appear."""
    found = sorted(
        (text.index(term), str(note)) for term, note in TERMS.items() if term in text
    )
    return [note for _, note in found]
