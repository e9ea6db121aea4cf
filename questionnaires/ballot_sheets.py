"""Sheets of ballot slips: A4 pages of 8 slips, each with its QR code and code.

Pure layout: plain dataclasses in, PDF bytes out; no database, no settings.

- QR codes are drawn as filled vector rectangles (one path per code, dark runs
  merged per row), so they stay sharp at any print size and cost little per code:
  ``ballot_symbol`` (zxing-cpp) makes them by the hundred thousand.
- Sheets are written page by page through ``questionnaires.pdfstream``
  (``ballot_sheets_write``), so a run of 100,000 slips never holds its 12,500
  pages; the texts they share are laid out once per slip position, not once per
  slip. Text is fitted as ``questionnaires.pdftext`` says: nothing is drawn
  outside its box.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import zxingcpp
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics

from questionnaires.pdfstream import PdfStream, number
from questionnaires.pdftext import (
    ASCII_WORD,
    CUT,
    GREY,
    RED,
    Style,
    fit,
    font,
    rgb,
    text_width,
)
from questionnaires.qr import QUIET_ZONE, qr_version

BALLOT_NOTE = "每张选票仅可使用一次，匿名作答"
# Scored over random ballot URLs, mask 2 had the lowest ISO 18004 penalty for
# most of them; a fixed mask makes each code about six times cheaper to build.
BALLOT_MASK_PATTERN = 2
SLIP_QR_SIZE = 3.2 * cm  # the symbol without its quiet zone
SLIP_COLUMNS, SLIP_ROWS = 2, 4

_SLIP_TITLE = Style(9, 6, 2, color=GREY)
_SLIP_UNIT = Style(14, 8, 2, bold=True)
_SLIP_LABEL = Style(8, 6, color=GREY, centre=False)
SLIP_CODE = Style(13, 7, centre=False)
_SLIP_NOTE = Style(8.5, 6, 2, color=RED, centre=False)


@dataclass(frozen=True)
class BallotSlip:
    code: str  # 16-char ballot code, plain or already grouped with hyphens
    url: str  # full ballot URL encoded in the QR
    unit_name: str
    campaign_title: str


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
        font=pdfmetrics.getFont(font()),
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


def _slip_grid() -> tuple[bytes, list[tuple[float, float, float, float]]]:
    """The dashed cut lines of a sheet as operators, and each slip's cell
    (left, bottom, width, height), filled row by row from the top left."""
    page_width, page_height = A4
    margin = 1 * cm
    width = (page_width - 2 * margin) / SLIP_COLUMNS
    height = (page_height - 2 * margin) / SLIP_ROWS
    lines = [b"q %s RG 0.5 w [4 3] 0 d" % rgb(CUT)]
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
        pdf, code, SLIP_CODE, left, code_top, column, fit_word(code, column)
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
    style: Style,
    x: float,
    top: float,
    width: float,
    fitted: tuple[float, tuple[str, ...]] | None = None,
) -> tuple[bytes, float]:
    """As :func:`_text`, as operators for ``pdf``: ``text`` fitted to ``width``
    (or as ``fitted`` already) hanging from ``top``; returns them and the y just
    below the last line."""
    size, lines = fitted or fit(text, style, width)
    leading = size * 1.3
    color = rgb(style.color)
    ops = [b"q"]
    if style.bold:  # no bold face is vendored: fill and stroke the outline
        ops.append(b"%s w BT %s rg 2 Tr %s RG" % (number(size * 0.03), color, color))
    else:
        ops.append(b"BT %s rg" % color)
    for index, line in enumerate(lines):
        left = x - text_width(line, size) / 2 if style.centre else x
        bottom = top - size * 0.95 - index * leading
        ops.append(
            b"1 0 0 1 %s %s Tm %s"
            % (number(left), number(bottom), pdf.show(line, size))
        )
    ops.append(b"ET Q")
    return b" ".join(ops), top - leading * len(lines)


def fit_word(code: str, width: float) -> tuple[float, tuple[str, ...]]:
    """``fit(code, SLIP_CODE, width)`` for a code, with one sum of its glyph
    widths instead of a wrap per size: a code is one run of visible ASCII in a
    one-line style, so it fits at a size exactly when its width does."""
    style = SLIP_CODE
    if style.max_lines != 1 or not ASCII_WORD.fullmatch(code):
        return fit(code, style, width)
    face = pdfmetrics.getFont(font()).face
    units = sum(face.charWidths.get(ord(char), face.defaultWidth) for char in code)
    for step in range(max(0, int((style.size - style.min_size) * 2)) + 1):
        size = style.size - step / 2
        if 0.001 * size * units <= width:  # as reportlab's stringWidth computes it
            return size, (code,)
    return fit(code, style, width)
