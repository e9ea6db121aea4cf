"""QR codes for respondent and ballot URLs: version, SVG, PNG and module matrix.

Every code here is built the same way, so the version reported by ``qr_version``
is the version drawn by the other functions:

- error correction level M (about 15% of the symbol may be damaged);
- the URL as one byte-mode segment (UTF-8), no mixed-mode optimisation, so the
  capacity does not depend on the letters in a token: version 4-M holds 62 bytes,
  enough for ``PUBLIC_BASE_URL`` of up to 32 characters plus ``/s/<12>/`` (16)
  or ``/b/#<16>`` (20);
- a quiet zone of 4 modules on every side, as ISO/IEC 18004 asks.

A URL longer than version 40 holds (2,331 bytes at level M) raises
``qrcode.exceptions.DataOverflowError``.
"""

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathFillImage
from qrcode.util import MODE_8BIT_BYTE, QRData

QUIET_ZONE = 4


def _code(
    url: str, *, mask_pattern: int | None = None, box_size: int = 10
) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M,
        box_size=box_size,
        border=QUIET_ZONE,
        mask_pattern=mask_pattern,
    )
    code.add_data(QRData(url.encode(), mode=MODE_8BIT_BYTE))
    return code


def qr_version(url: str) -> int:
    """The smallest QR version (1–40) holding ``url`` at level M in byte mode."""
    return _code(url).best_fit()


def qr_svg(url: str) -> bytes:
    """A standalone SVG document (UTF-8, with XML declaration) encoding ``url``.

    One ``<path>`` of dark modules over a white background rectangle that covers
    the quiet zone; the ``viewBox`` counts modules, the printed size is 1 mm per
    module.
    """
    code = _code(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(image_factory=SvgPathFillImage).save(buffer)
    return buffer.getvalue()


def qr_png(url: str, *, box_size: int = 10) -> bytes:
    """A black-and-white PNG encoding ``url``, ``box_size`` pixels per module."""
    if box_size < 1:
        raise ValueError(f"box_size must be at least 1, got {box_size}")
    code = _code(url, box_size=box_size)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(image_factory=PilImage).save(buffer, kind="PNG")
    return buffer.getvalue()


def qr_modules(url: str, *, mask_pattern: int | None = None) -> list[list[bool]]:
    """The module matrix of ``url``, quiet zone included, ``True`` for dark.

    Rows run top to bottom, columns left to right; the matrix is square with side
    ``4 * version + 17 + 2 * QUIET_ZONE``. Each row is a fresh list.

    ``mask_pattern`` (0–7) fixes the data mask instead of scoring all eight,
    which is most of qrcode's work: bulk jobs such as ballot sheets pass one.
    Any mask decodes; the chosen one only avoids patterns that are harder to
    scan.
    """
    code = _code(url, mask_pattern=mask_pattern)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]
