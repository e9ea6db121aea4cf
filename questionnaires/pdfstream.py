"""A PDF written to a file page by page, for documents too long to hold.

reportlab's Canvas keeps every page until ``save()``: 100,000 ballot slips
(12,500 pages) would hold about 400 MB of page content. ``PdfStream`` writes
each page's compressed content and page object as soon as it is given, and at
the end the shared objects (fonts, the page tree, the cross-reference table),
so its memory does not grow with the page count beyond one offset per object.

It writes only what the ballot sheets need: A4-sized pages of raw content
operators, one TrueType font from reportlab (embedded as subsets of at most 256
glyphs, each with a ToUnicode map, so text stays selectable and extractable),
and the document information. Layout is the caller's: see
``questionnaires.ballot_sheets``.
"""

from __future__ import annotations

import secrets
import zlib
from typing import BinaryIO

from reportlab.pdfbase.ttfonts import SUBSETN, TTFont, makeToUnicodeCMap

# Object numbers fixed in advance: the catalog points at the page tree, and
# every page at the shared resources, before either is written at the end.
_CATALOG, _PAGES, _RESOURCES, _INFO = 1, 2, 3, 4
# zlib level 3: a sheet of slips compresses to 4.1 KB in 0.14 ms, against
# 3.3 KB in 0.34 ms at the default 6; on 12,500 sheets that is 2.5 s saved for
# 10 MB more.
_COMPRESSION = 3


def number(value: float) -> bytes:
    """A PDF number: at most 4 decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return (text if text not in ("-0", "") else "0").encode()


def _text_string(text: str) -> bytes:
    """A PDF text string (document information) in UTF-16BE, as hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


class PdfStream:
    """Write ``page()`` after ``page()`` to ``out``, then ``close()``.

    ``font``: the registered reportlab TTFont all text is set in; ``show()``
    encodes a string for it. Nothing is buffered but the current object.
    """

    def __init__(
        self,
        out: BinaryIO,
        *,
        font: TTFont,
        page_size: tuple[float, float],
        title: str = "",
        creator: str = "",
    ) -> None:
        self._out = out
        self._font = font
        self._offsets: dict[int, int] = {}
        self._position = 0
        self._next = _INFO + 1
        self._pages: list[int] = []
        self._closed = False
        self._encoded: dict[str, tuple[int, int]] = {}
        width, height = page_size
        self._media_box = b"[0 0 %s %s]" % (number(width), number(height))
        self._write(b"%PDF-1.4\n%\x93\x8c\x8b\x9e\n")
        self._object(_CATALOG, b"<< /Type /Catalog /Pages 2 0 R >>")
        self._object(
            _INFO,
            b"<< /Title %s /Author <FEFF> /Subject <FEFF> /Creator %s /Producer %s >>"
            % (_text_string(title), _text_string(creator), _text_string(creator)),
        )

    @property
    def page_count(self) -> int:
        return len(self._pages)

    def show(self, text: str, size: float) -> bytes:
        """Operators that select the font at ``size`` and show ``text``, for use
        inside ``BT … ET``; a string that spans font subsets switches between
        them. Characters the font lacks show as its .notdef glyph: callers pass
        text through ``pdftext.printable`` first."""
        runs: list[tuple[int, bytearray]] = []
        for char in text:
            encoded = self._encoded.get(char)
            if encoded is None:  # the font's own subset assignment, once per char
                ((subset, code),) = self._font.splitString(char, self)
                encoded = self._encoded[char] = (subset, code[0])
            if runs and runs[-1][0] == encoded[0]:
                runs[-1][1].append(encoded[1])
            else:
                runs.append((encoded[0], bytearray([encoded[1]])))
        size_ = number(size)
        return b" ".join(
            b"/F%d %s Tf <%s> Tj" % (subset, size_, codes.hex().encode())
            for subset, codes in runs
        )

    def page(self, content: bytes) -> None:
        """Add one page whose content stream is ``content`` (uncompressed)."""
        stream = self._allocate()
        self._stream(stream, content, compress=True)
        page = self._allocate()
        self._object(
            page,
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources 3 0 R "
            b"/Contents %d 0 R >>" % (self._media_box, stream),
        )
        self._pages.append(page)

    def close(self) -> None:
        """Write the fonts, the page tree and the cross-reference table. The
        file object stays open: it is the caller's."""
        if self._closed:
            return
        self._closed = True
        fonts = self._font_objects()
        self._object(
            _RESOURCES,
            b"<< /Font << %s >> /ProcSet [/PDF /Text] >>"
            % b" ".join(b"/F%d %d 0 R" % (n, ref) for n, ref in enumerate(fonts)),
        )
        kids = b" ".join(b"%d 0 R" % page for page in self._pages)
        self._object(
            _PAGES,
            b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(self._pages), kids),
        )
        size = self._next
        xref = self._position
        rows = [b"xref\n0 %d\n0000000000 65535 f \n" % size]
        rows += [b"%010d 00000 n \n" % self._offsets[n] for n in range(1, size)]
        self._write(b"".join(rows))
        identifier = secrets.token_hex(16).encode()
        self._write(
            b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R /ID [<%s> <%s>] >>\n"
            b"startxref\n%d\n%%%%EOF\n" % (size, identifier, identifier, xref)
        )

    # Objects --------------------------------------------------------------

    def _font_objects(self) -> list[int]:
        """One simple TrueType font per subset of the characters shown, as
        reportlab's own ``TTFont.addObjects`` makes them; their numbers."""
        face = self._font.face
        state = self._font.state.get(self)
        subsets = state.subsets if state is not None else [[0]]
        refs = []
        for n, subset in enumerate(subsets):
            name = b"%s+%s%s" % (SUBSETN(n), face.name, face.subfontNameX)
            program = face.makeSubset(subset)
            font_file = self._allocate()
            self._stream(
                font_file, program, compress=True, extra=b"/Length1 %d " % len(program)
            )
            descriptor = self._allocate()
            self._object(
                descriptor,
                b"<< /Type /FontDescriptor /FontName /%s /Ascent %s /CapHeight %s "
                b"/Descent %s /Flags %d /FontBBox [%s] /ItalicAngle %s /StemV %s "
                b"/MissingWidth %s /FontFile2 %d 0 R >>"
                % (
                    name,
                    number(face.ascent),
                    number(face.capHeight),
                    number(face.descent),
                    # Symbolic (4), not non-symbolic (32): the glyphs are
                    # addressed through the subset's own codes.
                    (face.flags & ~32) | 4,
                    b" ".join(number(v) for v in face.bbox),
                    number(face.italicAngle),
                    number(face.stemV),
                    number(face.defaultWidth),
                    font_file,
                ),
            )
            to_unicode = self._allocate()
            self._stream(
                to_unicode,
                makeToUnicodeCMap(name.decode(), subset).encode(),
                compress=True,
            )
            font = self._allocate()
            widths = b" ".join(number(face.getCharWidth(code)) for code in subset)
            self._object(
                font,
                b"<< /Type /Font /Subtype /TrueType /Name /F%d /BaseFont /%s "
                b"/FirstChar 0 /LastChar %d /Widths [%s] /FontDescriptor %d 0 R "
                b"/ToUnicode %d 0 R >>"
                % (n, name, len(subset) - 1, widths, descriptor, to_unicode),
            )
            refs.append(font)
        if state is not None:
            del self._font.state[self]
        return refs

    def _allocate(self) -> int:
        self._next += 1
        return self._next - 1

    def _object(self, number_: int, body: bytes) -> None:
        self._offsets[number_] = self._position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number_, body))

    def _stream(
        self, number_: int, data: bytes, *, compress: bool, extra: bytes = b""
    ) -> None:
        if compress:
            data = zlib.compress(data, _COMPRESSION)
            extra += b"/Filter /FlateDecode "
        self._offsets[number_] = self._position
        self._write(
            b"%d 0 obj\n<< %s/Length %d >>\nstream\n" % (number_, extra, len(data))
        )
        self._write(data)
        self._write(b"\nendstream\nendobj\n")

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)
