"""Printable QR posters for collection points: one A4 page per poster.

Pure layout: plain dataclasses in, PDF bytes out; no database, no settings.

- Pages are A4 portrait, drawn with reportlab's Canvas. The QR code is drawn as
  filled vector rectangles (one path, dark runs merged per row) from
  ``qr.qr_modules``, so it stays sharp at any print size.
- Text is fitted as ``questionnaires.pdftext`` says (the vendored font, embedded;
  shrink, wrap, cut with "…"): nothing is drawn outside its box, so one poster is
  always one page. Ballot slips are in ``questionnaires.ballot_sheets``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from questionnaires.pdftext import CUT, GREY, RED, Style, fit, font
from questionnaires.qr import QUIET_ZONE, qr_modules

FOOTER = "匿名评议 · 不记录个人身份"
POSTER_QR_SIZE = 10 * cm  # the symbol without its quiet zone

_BAND = Style(20, 11, color=white, bold=True)
_UNIT = Style(36, 18, 2, bold=True)
_TITLE = Style(22, 12, 2)
_INSTRUCTION = Style(16, 10, 2, color=RED)
_PERIOD = Style(14, 9, 1, bold=True)
_SHORT_URL = Style(14, 8, 2, color=GREY)
_FOOTER = Style(10, 6, color=GREY)


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


# Layout ---------------------------------------------------------------------


def _draw_poster(canvas: Canvas, poster: Poster, *, band: str) -> None:
    page_width, page_height = A4
    middle, width = page_width / 2, page_width - 4 * cm
    canvas.setFillColor(RED)
    canvas.rect(0, page_height - 2.2 * cm, page_width, 2.2 * cm, stroke=0, fill=1)
    _text(canvas, band, _BAND, middle, page_height - 0.75 * cm, width)

    top = _text(canvas, poster.unit_name, _UNIT, middle, page_height - 3.5 * cm, width)
    top = _text(canvas, poster.campaign_title, _TITLE, middle, top - 0.5 * cm, width)
    if poster.period:
        top = _text(canvas, poster.period, _PERIOD, middle, top - 0.3 * cm, width)
    top = _text(canvas, poster.instruction, _INSTRUCTION, middle, top - 0.4 * cm, width)

    modules = qr_modules(poster.url)
    quiet = POSTER_QR_SIZE / (len(modules) - 2 * QUIET_ZONE) * QUIET_ZONE
    url_size, url_lines = fit(poster.short_url, _SHORT_URL, width)
    # Centre QR (with its quiet zone) and short URL between text and footer;
    # the worst case (every field at its line limit) still leaves about 2.5 cm.
    group = 2 * quiet + POSTER_QR_SIZE + len(url_lines) * url_size * 1.3
    qr_bottom = top - max(0.0, (top - 2.2 * cm - group) / 2) - quiet - POSTER_QR_SIZE
    _draw_qr(canvas, modules, middle - POSTER_QR_SIZE / 2, qr_bottom, POSTER_QR_SIZE)
    _text(canvas, poster.short_url, _SHORT_URL, middle, qr_bottom - quiet, width)

    canvas.setStrokeColor(CUT)
    canvas.setLineWidth(0.5)
    canvas.line(2 * cm, 1.8 * cm, page_width - 2 * cm, 1.8 * cm)
    _text(canvas, FOOTER, _FOOTER, middle, 1.6 * cm, width)


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


def _text(
    canvas: Canvas, text: str, style: Style, x: float, top: float, width: float
) -> float:
    """Fit ``text`` to ``width`` (see ``_fit``) and draw it hanging from ``top``,
    centred on ``x`` or, for a left-aligned style, starting at it; return the y
    just below the last line."""
    size, lines = fit(text, style, width)
    name, leading = font(), size * 1.3
    # Render mode and line width are graphics state that outlives the text
    # object: save and restore it so bold does not leak into later text.
    canvas.saveState()
    pen = canvas.beginText()
    pen.setFont(name, size)
    pen.setFillColor(style.color)
    if style.bold:  # no bold face is vendored: fill and stroke the outline
        pen.setTextRenderMode(2)
        pen.setStrokeColor(style.color)
        canvas.setLineWidth(size * 0.03)
    for index, line in enumerate(lines):
        left = x - pdfmetrics.stringWidth(line, name, size) / 2 if style.centre else x
        pen.setTextOrigin(left, top - size * 0.95 - index * leading)
        pen.textOut(line)
    canvas.drawText(pen)
    canvas.restoreState()
    return top - leading * len(lines)


def _canvas(title: str) -> tuple[Canvas, io.BytesIO]:
    buffer = io.BytesIO()
    # Our font as the initial one, so no unembedded Helvetica is referenced.
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font())
    canvas.setTitle(title)
    canvas.setAuthor("")
    canvas.setSubject("")
    canvas.setCreator("survey-service")
    return canvas, buffer
