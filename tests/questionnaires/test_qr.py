"""questionnaires.qr, checked by decoding its output with a real decoder (zxing-cpp).

No database: these are plain functions.
"""

import io
import re
import secrets
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from questionnaires.qr import qr_modules, qr_png, qr_svg, qr_version

BALLOT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE_32 = "https://pingjia.example-univ.edu"  # 32 characters
SVG = "{http://www.w3.org/2000/svg}"
QUIET_ZONE = 4  # modules on every side, as ISO/IEC 18004 asks


def respondent_url(base: str = BASE_32) -> str:
    token = secrets.token_urlsafe(9)  # 12 URL-safe characters
    return f"{base}/s/{token}/"


def ballot_url(base: str = BASE_32) -> str:
    code = "".join(secrets.choice(BALLOT_ALPHABET) for _ in range(16))
    return f"{base}/b/{code}/"


def decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)


def image_of(modules: list[list[bool]], scale: int = 8) -> Image.Image:
    image = Image.new("L", (len(modules) * scale,) * 2, 255)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(modules):
        for column, dark in enumerate(line):
            if dark:
                box = (column * scale, row * scale)
                draw.rectangle([box, (box[0] + scale - 1, box[1] + scale - 1)], 0)
    return image


def rasterise_svg(svg: bytes, scale: int = 8) -> Image.Image:
    """Rasterise exactly what qrcode's path SVG uses: a white background rect and
    one path of absolute ``M x,y H x V y H x z`` squares; anything else fails."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    x0, y0, width, height = (float(v) for v in root.attrib["viewBox"].split())
    assert (x0, y0) == (0, 0) and width == height
    image = Image.new("L", (round(width * scale),) * 2, 0)  # black: must be covered
    draw = ImageDraw.Draw(image)
    (background,) = root.findall(f"{SVG}rect")
    assert background.attrib["fill"] == "white"
    assert background.attrib["width"] == background.attrib["height"] == "100%"
    draw.rectangle([(0, 0), image.size], fill=255)
    (path,) = root.findall(f"{SVG}path")
    square = r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H([\d.]+)z"
    assert re.fullmatch(f"(?:{square})+", path.attrib["d"])
    for match in re.finditer(square, path.attrib["d"]):
        left, top, right, bottom, back = (float(v) * scale for v in match.groups())
        assert back == left
        draw.rectangle([(left, top), (right - 1, bottom - 1)], fill=0)
    return image


@pytest.mark.parametrize("make_url", [respondent_url, ballot_url])
def test_it_fits_both_url_shapes_in_version_4_at_level_m(make_url) -> None:
    for _ in range(20):
        url = make_url()
        assert len(url) == 32 + (16 if make_url is respondent_url else 20)
        assert qr_version(url) <= 4
        # The decoder reads version and level from the symbol itself.
        (barcode,) = decode(Image.open(io.BytesIO(qr_png(url, box_size=4))))
        assert barcode.text == url
        assert barcode.ec_level == "M"
        assert int(barcode.extra["Version"]) == qr_version(url)


def test_it_needs_version_5_once_the_url_passes_62_bytes() -> None:
    # 62 bytes is the byte-mode capacity of 4-M: the boundary pins both the level
    # and the mode (4-L would hold 78 bytes, alphanumeric mode far more).
    assert qr_version("https://" + "a" * 54) == 4
    assert qr_version("https://" + "a" * 55) == 5
    assert qr_version("HTTPS://" + "A" * 55) == 5


def test_it_decodes_its_png_to_the_url() -> None:
    url = ballot_url()
    png = qr_png(url)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    side = 4 * qr_version(url) + 17 + 2 * QUIET_ZONE
    assert image.size == (side * 10, side * 10)
    (barcode,) = decode(image)
    assert barcode.text == url


def test_it_scales_the_png_by_box_size() -> None:
    url = respondent_url()
    small = Image.open(io.BytesIO(qr_png(url, box_size=3)))
    assert small.size[0] == len(qr_modules(url)) * 3
    assert decode(small)[0].text == url
    with pytest.raises(ValueError):
        qr_png(url, box_size=0)


def test_it_decodes_its_svg_to_the_url() -> None:
    url = respondent_url()
    svg = qr_svg(url)
    assert svg.startswith(b"<?xml")
    root = ET.fromstring(svg)
    side = len(qr_modules(url))
    assert root.attrib["viewBox"] == f"0 0 {side} {side}"
    assert root.attrib["width"] == f"{side}mm"
    (barcode,) = decode(rasterise_svg(svg))
    assert barcode.text == url


def test_its_svg_keeps_the_quiet_zone_clear() -> None:
    image = rasterise_svg(qr_svg(ballot_url()), scale=1)
    side = image.size[0]
    inner = (QUIET_ZONE, QUIET_ZONE, side - QUIET_ZONE, side - QUIET_ZONE)
    whole = image.copy()
    whole.paste(255, inner)
    assert whole.getextrema() == (255, 255)  # only the symbol has dark modules
    assert image.crop(inner).getextrema() == (0, 255)


def test_its_modules_include_a_light_quiet_zone() -> None:
    url = ballot_url()
    modules = qr_modules(url)
    side = 4 * qr_version(url) + 17 + 2 * QUIET_ZONE
    assert len(modules) == side
    assert all(len(row) == side for row in modules)
    for index in range(QUIET_ZONE):
        for line in (modules[index], modules[-1 - index]):
            assert not any(line)
        assert not any(row[index] or row[-1 - index] for row in modules)
    # Finder pattern: the top-left 7x7 starts with a dark row of seven.
    assert modules[QUIET_ZONE][QUIET_ZONE : QUIET_ZONE + 7] == [True] * 7


def test_its_module_rows_are_independent_lists() -> None:
    modules = qr_modules(respondent_url())
    modules[0][0] = True
    assert not modules[1][0]


@pytest.mark.parametrize("mask", range(8))
def test_it_decodes_with_every_fixed_mask(mask: int) -> None:
    url = ballot_url()
    (barcode,) = decode(image_of(qr_modules(url, mask_pattern=mask)))
    assert barcode.text == url
    assert barcode.extra["DataMask"] == mask


def test_it_refuses_an_unknown_mask() -> None:
    with pytest.raises(ValueError):
        qr_modules(ballot_url(), mask_pattern=8)


def test_it_encodes_non_ascii_urls_as_utf8() -> None:
    url = f"{BASE_32}/s/评议/"
    (barcode,) = decode(image_of(qr_modules(url)))
    assert barcode.bytes == url.encode()
