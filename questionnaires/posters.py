"""Printable PDFs: QR posters for collection points and sheets of ballot slips.

Pure layout: plain dataclasses in, PDF bytes out; no database, no settings.

- Pages are A4 portrait. QR codes are drawn as filled vector rectangles (one
  path per code, dark runs merged per row), so they stay sharp at any print size
  and cost little per code: a poster's from ``qr.qr_modules``, a ballot slip's
  from ``ballot_symbol`` (zxing-cpp, made by the hundred thousand).
- Posters are drawn with reportlab's Canvas. Ballot sheets are written page by
  page through ``questionnaires.pdfstream`` (``ballot_sheets_write``), so a run
  of 100,000 slips never holds its 12,500 pages; the texts they share are laid
  out once per slip position, not once per slip.
- Text uses the vendored WenQuanYi Micro Hei font (``fonts/``), embedded as a
  TrueType subset with a ToUnicode map: Chinese text is selectable and
  extractable, and the PDF needs no fonts on the reader's machine. The font covers
  ASCII, Latin-1 punctuation, all 6,763 GB2312 hanzi and the whole CJK Unified
  Ideographs block (U+4E00–U+9FA5). A character outside it (say an extension-B
  hanzi in a name) is drawn as ``MISSING_GLYPH`` (□) rather than as an invisible
  blank; line breaks and control characters become spaces.
- Text that is too long shrinks, down to a per-field minimum size, and wraps onto a
  fixed number of lines; whatever still does not fit is cut with "…". Nothing is
  drawn outside its box, so one poster is always one page.
"""

import functools
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import zxingcpp
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from questionnaires.pdfstream import PdfStream, number
from questionnaires.qr import QUIET_ZONE, qr_modules, qr_version

FONT_NAME = "WenQuanYiMicroHei"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"
MISSING_GLYPH = "□"
FOOTER = "匿名评议 · 不记录个人身份"
BALLOT_NOTE = "每张选票仅可使用一次，匿名作答"
# Scored over random ballot URLs, mask 2 had the lowest ISO 18004 penalty for
# most of them; a fixed mask makes each code about six times cheaper to build.
BALLOT_MASK_PATTERN = 2

POSTER_QR_SIZE = 10 * cm  # the symbol without its quiet zone
SLIP_QR_SIZE = 3.2 * cm
SLIP_COLUMNS, SLIP_ROWS = 2, 4

_RED = HexColor("#B71C1C")
_INK = HexColor("#222222")
_GREY = HexColor("#666666")
_CUT = HexColor("#999999")


@dataclass(frozen=True)
class _Style:
    size: float
    min_size: float
    max_lines: int = 1
    color: Color = _INK
    bold: bool = False
    centre: bool = True


_BAND = _Style(20, 11, color=white, bold=True)
_UNIT = _Style(36, 18, 2, bold=True)
_TITLE = _Style(22, 12, 2)
_INSTRUCTION = _Style(16, 10, 2, color=_RED)
_PERIOD = _Style(14, 9, 1, bold=True)
_SHORT_URL = _Style(14, 8, 2, color=_GREY)
_FOOTER = _Style(10, 6, color=_GREY)
_SLIP_TITLE = _Style(9, 6, 2, color=_GREY)
_SLIP_UNIT = _Style(14, 8, 2, bold=True)
_SLIP_LABEL = _Style(8, 6, color=_GREY, centre=False)
_SLIP_CODE = _Style(13, 7, centre=False)
_SLIP_NOTE = _Style(8.5, 6, 2, color=_RED, centre=False)
_NO_BREAK_BEFORE = set("，。、；：？！）》」』〉】”’,.;:?!)]}…·%")
_TOKEN = re.compile(r"[!-~]+|.", re.DOTALL)  # runs of visible ASCII, else one char
_WORD = re.compile(r"[!-~]+")


@dataclass(frozen=True)
class Poster:
    unit_name: str  # e.g. "土木工程学院党委"
    campaign_title: str  # e.g. "2026年秋季群众满意度测评"
    instruction: str  # one line, e.g. "请用手机扫描二维码，匿名评价，约1分钟"
    url: str  # full respondent URL encoded in the QR
    short_url: str  # printed under the QR (may equal url)
    # e.g. "评议时间：2026年11月1日 至 2026年11月30日 18:00", so an old poster
    # does not look live; the organiser is in the header band.
    period: str = ""


@dataclass(frozen=True)
class BallotSlip:
    code: str  # 16-char ballot code, plain or already grouped with hyphens
    url: str  # full ballot URL encoded in the QR
    unit_name: str
    campaign_title: str


def posters_pdf(posters: Sequence[Poster], *, title: str = "") -> bytes:
    """One A4 page per poster, in order.

    Each page: a red header band (``title``, or "群众评议" when empty), the unit
    name large, the round title, its ``period`` when given, the instruction, the QR code of ``url`` with a
    10 cm symbol, ``short_url`` under it and the footer "匿名评议 · 不记录个人身份".
    ``title`` is also the PDF's document title. Raises ``ValueError`` when
    ``posters`` is empty.
    """
    if not posters:
        raise ValueError("posters_pdf needs at least one poster")
    canvas, buffer = _canvas(title)
    for poster in posters:
        _draw_poster(canvas, poster, band=title or "群众评议")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def ballot_sheets_pdf(slips: Sequence[BallotSlip], *, title: str = "") -> bytes:
    """A4 sheets of 8 ballot slips (2 columns × 4 rows) with dashed cut lines.

    Slips fill each sheet row by row, left to right, in the order given. Each
    slip: the round title, the unit name, the QR code of its ``url`` (3.2 cm
    symbol, fixed mask ``BALLOT_MASK_PATTERN``), its code grouped as
    XXXX-XXXX-XXXX-XXXX and "每张选票仅可使用一次，匿名作答". ``title`` is the PDF's
    document title. Raises ``ValueError`` when ``slips`` is empty.
    """
    if not slips:
        raise ValueError("ballot_sheets_pdf needs at least one slip")
    return ballot_sheets_by_unit_pdf([slips], title=title)


def ballot_sheets_by_unit_pdf(
    groups: Sequence[Sequence[BallotSlip]], *, title: str = ""
) -> bytes:
    """As :func:`ballot_sheets_pdf`, each group (a unit's slips) starting on a
    sheet of its own, so a sheet is cut and handed to one unit. Raises
    ``ValueError`` when there is no slip at all."""
    if not any(groups):
        raise ValueError("ballot_sheets_by_unit_pdf needs at least one slip")
    buffer = io.BytesIO()
    ballot_sheets_write(buffer, groups, title=title)
    return buffer.getvalue()


def ballot_sheets_write(
    out: BinaryIO, groups: Iterable[Iterable[BallotSlip]], *, title: str = ""
) -> int:
    """Write the sheets of :func:`ballot_sheets_by_unit_pdf` to ``out`` as they
    are made and return the number of pages: the document is never held, so a
    run of 100,000 slips needs no more memory than one of 100. ``groups`` and
    their slips may be generators. Raises ``ValueError`` when there is no slip
    at all (``out`` then holds an unfinished document)."""
    pdf = PdfStream(
        out,
        font=pdfmetrics.getFont(_font()),
        page_size=A4,
        title=title,
        creator="survey-service",
    )
    per_page = SLIP_COLUMNS * SLIP_ROWS
    cut_lines, cells = _slip_grid()
    cache: dict = {}

    def sheet(slips: list[BallotSlip]) -> None:
        symbols = [ballot_symbol(slip.url) for slip in slips]
        texts, corners = zip(
            *(
                _slip_ops(pdf, cache, slip, cell, len(symbol))
                for slip, cell, symbol in zip(slips, cells, symbols, strict=False)
            ),
            strict=True,
        )
        pdf.page(b"\n".join([cut_lines, *texts, *_qr_ops(symbols, list(corners))]))

    for slips in groups:
        page: list[BallotSlip] = []
        for slip in slips:
            page.append(slip)
            if len(page) == per_page:
                sheet(page)
                page = []
        if page:
            sheet(page)
    if not pdf.page_count:
        raise ValueError("ballot_sheets_write needs at least one slip")
    pdf.close()
    return pdf.page_count


def group_code(code: str) -> str:
    """``code`` in groups of four joined by hyphens: ABCD-EFGH-JKMN-PQRS.

    Hyphens and spaces already in ``code`` are dropped first, so a code that
    arrives grouped prints the same."""
    code = code.replace("-", "").replace(" ", "")
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# Layout ---------------------------------------------------------------------


def _draw_poster(canvas: Canvas, poster: Poster, *, band: str) -> None:
    page_width, page_height = A4
    middle, width = page_width / 2, page_width - 4 * cm
    canvas.setFillColor(_RED)
    canvas.rect(0, page_height - 2.2 * cm, page_width, 2.2 * cm, stroke=0, fill=1)
    _text(canvas, band, _BAND, middle, page_height - 0.75 * cm, width)

    top = _text(canvas, poster.unit_name, _UNIT, middle, page_height - 3.5 * cm, width)
    top = _text(canvas, poster.campaign_title, _TITLE, middle, top - 0.5 * cm, width)
    if poster.period:
        top = _text(canvas, poster.period, _PERIOD, middle, top - 0.3 * cm, width)
    top = _text(canvas, poster.instruction, _INSTRUCTION, middle, top - 0.4 * cm, width)

    modules = qr_modules(poster.url)
    quiet = POSTER_QR_SIZE / (len(modules) - 2 * QUIET_ZONE) * QUIET_ZONE
    url_size, url_lines = _fit(poster.short_url, _SHORT_URL, width)
    # Centre QR (with its quiet zone) and short URL between text and footer;
    # the worst case (every field at its line limit) still leaves about 2.5 cm.
    group = 2 * quiet + POSTER_QR_SIZE + len(url_lines) * url_size * 1.3
    qr_bottom = top - max(0.0, (top - 2.2 * cm - group) / 2) - quiet - POSTER_QR_SIZE
    _draw_qr(canvas, modules, middle - POSTER_QR_SIZE / 2, qr_bottom, POSTER_QR_SIZE)
    _text(canvas, poster.short_url, _SHORT_URL, middle, qr_bottom - quiet, width)

    canvas.setStrokeColor(_CUT)
    canvas.setLineWidth(0.5)
    canvas.line(2 * cm, 1.8 * cm, page_width - 2 * cm, 1.8 * cm)
    _text(canvas, FOOTER, _FOOTER, middle, 1.6 * cm, width)


def _slip_grid() -> tuple[bytes, list[tuple[float, float, float, float]]]:
    """The dashed cut lines of a sheet as operators, and each slip's cell
    (left, bottom, width, height), filled row by row from the top left."""
    page_width, page_height = A4
    margin = 1 * cm
    width = (page_width - 2 * margin) / SLIP_COLUMNS
    height = (page_height - 2 * margin) / SLIP_ROWS
    lines = [b"q %s RG 0.5 w [4 3] 0 d" % _rgb(_CUT)]
    for column in range(SLIP_COLUMNS + 1):
        x = number(margin + column * width)
        lines.append(
            b"%s %s m %s %s l S" % (x, number(margin), x, number(page_height - margin))
        )
    for row in range(SLIP_ROWS + 1):
        y = number(margin + row * height)
        lines.append(
            b"%s %s m %s %s l S" % (number(margin), y, number(page_width - margin), y)
        )
    lines.append(b"Q")
    cells = [
        (
            margin + column * width,
            margin + (SLIP_ROWS - 1 - row) * height,
            width,
            height,
        )
        for row in range(SLIP_ROWS)
        for column in range(SLIP_COLUMNS)
    ]
    return b"\n".join(lines), cells


def _slip_ops(
    pdf: PdfStream,
    cache: dict,
    slip: BallotSlip,
    cell: tuple[float, float, float, float],
    count: int,
) -> tuple[bytes, tuple[float, float]]:
    """One slip's texts in ``cell`` (left, bottom, width, height) and the
    bottom-left corner of its QR symbol of ``count`` modules a side. The code
    is the slip's own; the texts around it are the same on every slip of a
    unit, so they are made once per cell and kept in ``cache``."""
    x, y, width, height = cell
    quiet = SLIP_QR_SIZE / count * QUIET_ZONE
    # Keep the quiet zone clear of the cut line, with room for a sloppy cut.
    qr_x, qr_y = x + quiet + 3, y + quiet + 3
    left = qr_x + SLIP_QR_SIZE + quiet + 2
    column = x + width - 10 - left

    key = (slip.campaign_title, slip.unit_name, cell, count)
    if key not in cache:
        if len(cache) > 512:  # many units in one document: keep the latest
            cache.clear()
        middle, inner = x + width / 2, width - 20
        title, top = _text_ops(
            pdf, slip.campaign_title, _SLIP_TITLE, middle, y + height - 10, inner
        )
        unit, _ = _text_ops(pdf, slip.unit_name, _SLIP_UNIT, middle, top - 2, inner)
        label, top = _text_ops(
            pdf, "选票码", _SLIP_LABEL, left, qr_y + SLIP_QR_SIZE, column
        )
        cache[key] = b"\n".join([title, unit, label]), top - 5
    fixed, code_top = cache[key]
    code = group_code(slip.code)
    code, top = _text_ops(
        pdf, code, _SLIP_CODE, left, code_top, column, _fit_word(code, column)
    )
    # The note hangs below the code, whose size depends on its letters.
    note_key = (key, top)
    if note_key not in cache:
        cache[note_key] = _text_ops(
            pdf, BALLOT_NOTE, _SLIP_NOTE, left, top - 5, column
        )[0]
    return b"\n".join([fixed, code, cache[note_key]]), (qr_x, qr_y)


def ballot_symbol(url: str) -> np.ndarray:
    """The QR symbol of a ballot ``url`` without its quiet zone, ``True`` for
    dark: level M, the version ``qr.qr_version`` gives (byte mode), mask
    ``BALLOT_MASK_PATTERN``.

    Made by zxing-cpp (zint), about 15 times faster than qrcode: at 100,000
    slips, 3 s of CPU instead of 46 s. zint may choose
    another segmentation than qrcode's single byte segment, so the modules can
    differ from ``qr.qr_modules``; the version, level, mask and content do not.
    """
    version = _byte_mode_version(len(url.encode()))
    barcode = zxingcpp.create_barcode(
        url,
        zxingcpp.BarcodeFormat.QRCode,
        ec_level="M",
        version=version,
        data_mask=BALLOT_MASK_PATTERN,
    )
    dark = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128
    side = 4 * version + 17
    if dark.shape != (side, side):  # an encoder that ignored the version
        raise RuntimeError(f"QR symbol of {dark.shape}, expected version {version}")
    return dark


@functools.lru_cache(maxsize=64)
def _byte_mode_version(length: int) -> int:
    # In byte mode the version depends only on the number of bytes.
    return qr_version("x" * length)


def _qr_ops(
    symbols: list[np.ndarray], corners: list[tuple[float, float]]
) -> list[bytes]:
    """For each symbol, fill its dark modules, ``SLIP_QR_SIZE`` a side, with its
    bottom-left corner at the matching corner: one rectangle per horizontal run,
    in module units with integer coordinates. The quiet zone is not drawn: the
    caller keeps that margin free.

    The runs of a page's symbols are found in one pass of array operations,
    and each run's operator is looked up ready-made: formatting ~200 runs per
    code one by one was most of the drawing."""
    count = len(symbols[0])
    if any(len(symbol) != count for symbol in symbols):  # mixed versions
        return [
            _qr_ops([symbol], [corner])[0]
            for symbol, corner in zip(symbols, corners, strict=True)
        ]
    ops = []
    padded = np.zeros((len(symbols), count, count + 2), dtype=np.int8)
    padded[:, :, 1:-1] = symbols
    edges = np.diff(padded, axis=2)
    which, rows, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[2]
    side = count + 1
    keys = (((count - 1 - rows) * side + starts) * side + (ends - starts)).tolist()
    bounds = np.searchsorted(which, np.arange(len(symbols) + 1)).tolist()
    table = _rect_ops(count).__getitem__
    scale = number(SLIP_QR_SIZE / count)
    for index, (x, y) in enumerate(corners):
        rects = b"".join(map(table, keys[bounds[index] : bounds[index + 1]]))
        ops.append(
            b"q %s 0 0 %s %s %s cm 0 0 0 rg\n%sf Q"
            % (scale, scale, number(x), number(y), rects)
        )
    return ops


class _RectTable(dict):
    """``re`` operators of a symbol ``count`` modules a side, by run number
    ``(bottom * (count + 1) + start) * (count + 1) + width``, made on first use."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.side = count + 1

    def __missing__(self, key: int) -> bytes:
        rest, width = divmod(key, self.side)
        bottom, start = divmod(rest, self.side)
        self[key] = ops = b"%d %d %d 1 re\n" % (start, bottom, width)
        return ops


@functools.lru_cache(maxsize=8)
def _rect_ops(count: int) -> _RectTable:
    return _RectTable(count)


def _text_ops(
    pdf: PdfStream,
    text: str,
    style: _Style,
    x: float,
    top: float,
    width: float,
    fitted: tuple[float, tuple[str, ...]] | None = None,
) -> tuple[bytes, float]:
    """As :func:`_text`, as operators for ``pdf``: ``text`` fitted to ``width``
    (or as ``fitted`` already) hanging from ``top``; returns them and the y just
    below the last line."""
    size, lines = fitted or _fit(text, style, width)
    leading = size * 1.3
    color = _rgb(style.color)
    ops = [b"q"]
    if style.bold:  # no bold face is vendored: fill and stroke the outline
        ops.append(b"%s w BT %s rg 2 Tr %s RG" % (number(size * 0.03), color, color))
    else:
        ops.append(b"BT %s rg" % color)
    for index, line in enumerate(lines):
        left = x - _width(line, size) / 2 if style.centre else x
        bottom = top - size * 0.95 - index * leading
        ops.append(
            b"1 0 0 1 %s %s Tm %s"
            % (number(left), number(bottom), pdf.show(line, size))
        )
    ops.append(b"ET Q")
    return b" ".join(ops), top - leading * len(lines)


def _fit_word(code: str, width: float) -> tuple[float, tuple[str, ...]]:
    """``_fit(code, _SLIP_CODE, width)`` for a code, with one sum of its glyph
    widths instead of a wrap per size: a code is one run of visible ASCII in a
    one-line style, so it fits at a size exactly when its width does."""
    style = _SLIP_CODE
    if style.max_lines != 1 or not _WORD.fullmatch(code):
        return _fit(code, style, width)
    face = pdfmetrics.getFont(_font()).face
    units = sum(face.charWidths.get(ord(char), face.defaultWidth) for char in code)
    for step in range(max(0, int((style.size - style.min_size) * 2)) + 1):
        size = style.size - step / 2
        if 0.001 * size * units <= width:  # as reportlab's stringWidth computes it
            return size, (code,)
    return _fit(code, style, width)


def _rgb(color: Color) -> bytes:
    return b"%s %s %s" % (number(color.red), number(color.green), number(color.blue))


def _draw_qr(
    canvas: Canvas,
    modules: list[list[bool]],
    x: float,
    y: float,
    size: float,
) -> None:
    """Fill the dark modules of the symbol whose bottom-left corner is (x, y).

    The quiet zone is not drawn: the caller keeps that margin free.
    """
    symbol = [row[QUIET_ZONE:-QUIET_ZONE] for row in modules[QUIET_ZONE:-QUIET_ZONE]]
    count = len(symbol)
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(size / count, size / count)  # one unit is one module
    canvas.setFillColor(Color(0, 0, 0))
    # One rectangle per horizontal run of dark modules, written as PDF operators
    # with integer coordinates: the path API formats every number through a
    # slow pure-Python float formatter, which dominated bulk ballot sheets.
    rects = []
    for index, row in enumerate(symbol):
        bottom = count - 1 - index
        start = None
        for column, dark in enumerate([*row, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                rects.append(f"{start} {bottom} {column - start} 1 re")
                start = None
    canvas.addLiteral("\n".join([*rects, "f"]))
    canvas.restoreState()


# Text -----------------------------------------------------------------------


def _text(
    canvas: Canvas, text: str, style: _Style, x: float, top: float, width: float
) -> float:
    """Fit ``text`` to ``width`` (see ``_fit``) and draw it hanging from ``top``,
    centred on ``x`` or, for a left-aligned style, starting at it; return the y
    just below the last line."""
    size, lines = _fit(text, style, width)
    font, leading = _font(), size * 1.3
    # Render mode and line width are graphics state that outlives the text
    # object: save and restore it so bold does not leak into later text.
    canvas.saveState()
    pen = canvas.beginText()
    pen.setFont(font, size)
    pen.setFillColor(style.color)
    if style.bold:  # no bold face is vendored: fill and stroke the outline
        pen.setTextRenderMode(2)
        pen.setStrokeColor(style.color)
        canvas.setLineWidth(size * 0.03)
    for index, line in enumerate(lines):
        left = x - pdfmetrics.stringWidth(line, font, size) / 2 if style.centre else x
        pen.setTextOrigin(left, top - size * 0.95 - index * leading)
        pen.textOut(line)
    canvas.drawText(pen)
    canvas.restoreState()
    return top - leading * len(lines)


@functools.cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME


@functools.cache
def _covered() -> frozenset[int]:
    font = pdfmetrics.getFont(_font())
    return frozenset(font.face.charToGlyph)


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
def _fit(text: str, style: _Style, width: float) -> tuple[float, tuple[str, ...]]:
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
    while rest and _width(rest + "…", min_size) > width:
        rest = rest[:-1]
    return min_size, (*kept, rest + "…")


def _balance(text: str, size: float, width: float, count: int) -> list[str]:
    """Wrap into ``count`` lines using the narrowest width that still works."""
    if count <= 1:
        return _wrap(text, size, width)
    low, high = _width(text, size) / count, width
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
        token_width = _width(token, size)
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
        used = sum(_width(part, size) for part in line)
        for char in token if token_width > width else [token]:
            char_width = _width(char, size)
            if line and used + char_width > width:
                lines.append("".join(line))
                line, used = [], 0.0
            line.append(char)
            used += char_width
    if line:
        lines.append("".join(line).rstrip())
    return lines or [""]


def _width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, _font(), size)


def _canvas(title: str) -> tuple[Canvas, io.BytesIO]:
    buffer = io.BytesIO()
    # Our font as the initial one, so no unembedded Helvetica is referenced.
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=_font())
    canvas.setTitle(title)
    canvas.setAuthor("")
    canvas.setSubject("")
    canvas.setCreator("survey-service")
    return canvas, buffer
