"""Personal data out of free-text comments (METHODS.md §6): numbers and addresses
by pattern (:func:`mask_personal`), and the names of units and people the service
knows (:class:`NameMask`).

Pure computation: no database and no Django. The caller reads the names from the
database (analysis.comments.known_names) and masks comments before they are
shown or grouped into themes (analysis.themes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PHONE = "［电话］"
ID_NUMBER = "［证件号］"
STUDENT_NUMBER = "［学号］"
LONG_NUMBER = "［号码］"
EMAIL = "［邮箱］"
QQ = "［QQ号］"
WECHAT = "［微信号］"
UNIT_NAME = "［单位］"
PERSON_NAME = "［姓名］"
MASK_TOKENS = (
    PHONE,
    ID_NUMBER,
    STUDENT_NUMBER,
    LONG_NUMBER,
    EMAIL,
    QQ,
    WECHAT,
    UNIT_NAME,
    PERSON_NAME,
)

# Applied in order: each later rule sees the tokens of the earlier ones, so an
# e-mail "12345678@qq.com" is never half-masked as a QQ number, and an ID card
# never as a phone. Lookarounds keep a run of digits whole: a rule matches only
# where the number starts and ends.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+[@＠]"
            r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
        ),
        EMAIL,
    ),
    # The label stays ("QQ：［QQ号］"), the number goes; 5–11 digits is the
    # range QQ numbers have had.
    (
        re.compile(r"(?i)((?:qq|扣扣)\s*(?:号码|号)?\s*[:：]?\s*)\d{5,11}(?!\d)"),
        rf"\1{QQ}",
    ),
    # WeChat IDs: a letter, then 5–19 letters, digits, "-" or "_".
    (
        re.compile(
            r"(?i)((?<![a-z])(?:微信号?|vx|wx|wechat|weixin)\s*(?:号)?\s*[:：]?\s*)"
            r"[a-z][-_a-z0-9]{5,19}(?![-_a-z0-9])"
        ),
        rf"\1{WECHAT}",
    ),
    # 居民身份证: 18 characters, the last a digit or X, optionally written 6-8-4.
    (re.compile(r"(?<!\d)\d{6}[\s-]?\d{8}[\s-]?\d{3}[\dXx](?!\d)"), ID_NUMBER),
    # Mainland mobile, optionally +86 / 0086 / 86, optionally 3-4-4 with spaces
    # or dashes.
    (
        re.compile(
            r"(?<!\d)(?:\(?(?:\+|00)?86\)?[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"
        ),
        PHONE,
    ),
    # Landline: area code 0xx(x), optionally in brackets, then 7–8 digits.
    (
        re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3})[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)"),
        PHONE,
    ),
    # Student and staff numbers: any remaining run of 8–12 digits. Years (2026),
    # rooms (502), buildings (3号楼) and times (8点) are far shorter; the cost is
    # that a date written without separators (20260315) is masked too.
    (re.compile(r"(?<!\d)\d{8,12}(?!\d)"), STUDENT_NUMBER),
    # Longer runs that are none of the above: bank cards, passport-like numbers.
    (re.compile(r"(?<!\d)\d{13,}(?!\d)"), LONG_NUMBER),
)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
MASK_TOKEN_RE = re.compile("|".join(re.escape(token) for token in MASK_TOKENS))


def mask_personal(text: str) -> str:
    """Return ``text`` with personal numbers and addresses replaced by tokens.

    Masked: e-mail addresses (［邮箱］); QQ numbers after "QQ"/"qq号"/"扣扣" and
    WeChat IDs after "微信"/"vx"/"wx" (the label stays, the value becomes ［QQ号］
    / ［微信号］); 18-character ID card numbers (［证件号］); mainland mobile
    numbers with or without +86 and separators, and landlines with an area code
    (［电话］); any other run of 8–12 digits, taken for a student or staff number
    (［学号］); any run of 13 or more digits (［号码］). Shorter numbers stay.
    Full-width digits are returned as ASCII digits.
    """
    # Chinese IMEs often type full-width digits (１３８…); they come back as
    # ASCII digits, so that one set of rules sees every number.
    text = text.translate(_FULL_WIDTH_DIGITS)
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


MIN_NAME_LENGTH = 2  # one character (a surname alone, "楼") would mask half a text
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _name_key(name: str) -> str:
    # Only ASCII letters are folded: the key keeps the length of the name, so a
    # match in the folded text is a match at the same place in the original.
    return " ".join(name.split()).translate(_ASCII_LOWER)


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class NameMask:
    """Masks the names of units (［单位］) and people (［姓名］) the service knows.

    Chinese has no spaces between words, so names match as substrings, the
    longest name first at each place ("甲学院党委" before "甲学院"); names of
    fewer than ``MIN_NAME_LENGTH`` characters are ignored. A name in Latin
    letters matches regardless of case, only as a whole word ("Ann" is not
    masked inside "Annual"). Build it once per set of comments: the index costs
    a pass over every name, a text then costs about one dictionary look-up per
    character.
    """

    def __init__(self, *, units: Iterable[str] = (), people: Iterable[str] = ()):
        tokens: dict[str, str] = {}
        # A name that is both a unit's and a person's is masked as the unit's.
        for token, names in ((UNIT_NAME, units), (PERSON_NAME, people)):
            for name in names:
                key = _name_key(name or "")
                if len(key) >= MIN_NAME_LENGTH:
                    tokens.setdefault(key, token)
        index: dict[str, list[tuple[str, str]]] = {}
        for key, token in tokens.items():
            index.setdefault(key[0], []).append((key, token))
        for candidates in index.values():
            candidates.sort(key=lambda item: (-len(item[0]), item[0]))
        self._index = index

    def mask(self, text: str) -> str:
        if not self._index:
            return text
        folded = text.translate(_ASCII_LOWER)
        parts: list[str] = []
        start = position = 0
        while position < len(text):
            for key, token in self._index.get(folded[position], ()):
                end = position + len(key)
                if folded.startswith(key, position) and self._whole(
                    folded, position, end
                ):
                    parts += [text[start:position], token]
                    start = position = end
                    break
            else:
                position += 1
        parts.append(text[start:])
        return "".join(parts)

    @staticmethod
    def _whole(text: str, start: int, end: int) -> bool:
        """A Latin name must not start or end inside a word of letters or digits."""
        if _is_word_char(text[start]) and start > 0 and _is_word_char(text[start - 1]):
            return False
        return not (
            _is_word_char(text[end - 1])
            and end < len(text)
            and _is_word_char(text[end])
        )
