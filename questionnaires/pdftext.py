"""Text on the printed pages (posters, ballot slips): the vendored font, text
styles, and fitting text into a box.

- Text uses the vendored WenQuanYi Micro Hei font (``fonts/``), embedded as a
  TrueType subset with a ToUnicode map: Chinese text is selectable and
  extractable, and the PDF needs no fonts on the reader's machine. The font covers
  ASCII, Latin-1 punctuation, all 6,763 GB2312 hanzi and the whole CJK Unified
  Ideographs block (U+4E00–U+9FA5). A character outside it (say an extension-B
  hanzi in a name) is drawn as ``MISSING_GLYPH`` (□) rather than as an invisible
  blank; line breaks and control characters become spaces.
- Text that is too long shrinks, down to a per-field minimum size, and wraps onto a
  fixed number of lines; whatever still does not fit is cut with "…" (``fit``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.colors import Color, HexColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from questionnaires.pdfstream import number

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
MISSING_GLYPH = "□"

RED = HexColor("#B71C1C")
INK = HexColor("#222222")
GREY = HexColor("#666666")
CUT = HexColor("#999999")
ASCII_WORD = re.compile(r"[!-~]+")
_NO_BREAK_BEFORE = set("，。、；：？！）》」』〉】”’,.;:?!)]}…·%")
_TOKEN = re.compile(r"[!-~]+|.", re.DOTALL)  # runs of visible ASCII, else one char


@dataclass(frozen=True)
class Style:
    size: float
    min_size: float
    max_lines: int = 1
    color: Color = INK
    bold: bool = False
    centre: bool = True


@functools.cache
def font() -> str:
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME


@functools.cache
def _covered() -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(font()).face.charToGlyph)


def printable(text: str) -> str:
    """``text`` as it is drawn: whitespace and control characters as single
    spaces, characters missing from the font as ``MISSING_GLYPH``."""
    covered = _covered()
    out = []
    for char in text:
        if char.isspace() or not char.isprintable():
            char = " "
        elif ord(char) not in covered:
            char = MISSING_GLYPH
        out.append(char)
    return re.sub(" +", " ", "".join(out)).strip()


@functools.lru_cache(maxsize=1024)
def fit(text: str, style: Style, width: float) -> tuple[float, tuple[str, ...]]:
    """The largest size (in 0.5 pt steps from ``style.size`` down to
    ``style.min_size``) at which ``text`` wraps into at most ``style.max_lines``
    lines of ``width``, and those lines, balanced so the last one is not a stray
    character. At the minimum size the excess is cut and marked with "…"."""
    text = printable(text)
    size, min_size, max_lines = style.size, style.min_size, style.max_lines
    steps = max(0, int((size - min_size) * 2))
    for step in range(steps + 1):
        current = size - step / 2
        lines = _wrap(text, current, width)
        if len(lines) <= max_lines:
            return current, tuple(_balance(text, current, width, len(lines)))
    lines = _wrap(text, min_size, width)
    kept = lines[: max_lines - 1]
    rest = "".join(lines[max_lines - 1 :])
    while rest and text_width(rest + "…", min_size) > width:
        rest = rest[:-1]
    return min_size, (*kept, rest + "…")


def _balance(text: str, size: float, width: float, count: int) -> list[str]:
    """Wrap into ``count`` lines using the narrowest width that still works."""
    if count <= 1:
        return _wrap(text, size, width)
    low, high = text_width(text, size) / count, width
    for _ in range(10):
        middle = (low + high) / 2
        if len(_wrap(text, size, middle)) <= count:
            high = middle
        else:
            low = middle
    return _wrap(text, size, high)


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking: CJK between any two characters, ASCII runs (words,
    URLs, codes) kept whole unless longer than a line, and no closing
    punctuation at the start of a line."""
    lines: list[str] = []
    line: list[str] = []
    used = 0.0
    for token in _TOKEN.findall(text):
        if token == " " and not line:
            continue
        token_width = text_width(token, size)
        if used + token_width <= width:
            line.append(token)
            used += token_width
            continue
        if token == " ":
            lines.append("".join(line))
            line, used = [], 0.0
            continue
        carried = []
        if token[0] in _NO_BREAK_BEFORE and len(line) > 1 and line[-1] != " ":
            carried = [line.pop()]
        if line:
            lines.append("".join(line).rstrip())
        line = carried
        used = sum(text_width(part, size) for part in line)
        for char in token if token_width > width else [token]:
            char_width = text_width(char, size)
            if line and used + char_width > width:
                lines.append("".join(line))
                line, used = [], 0.0
            line.append(char)
            used += char_width
    if line:
        lines.append("".join(line).rstrip())
    return lines or [""]


def text_width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font(), size)


def rgb(color: Color) -> bytes:
    return b"%s %s %s" % (number(color.red), number(color.green), number(color.blue))
