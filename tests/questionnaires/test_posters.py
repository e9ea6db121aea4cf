"""questionnaires.posters and .ballot_sheets, checked as a reader and a phone would see the PDFs.

Pages are rendered with pdfium and every QR code on them is decoded with zxing-cpp;
text is extracted with pypdf. No database.
"""

import dataclasses
import io
import secrets

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from reportlab.lib.units import cm

from questionnaires.ballot_sheets import (
    BALLOT_MASK_PATTERN,
    BallotSlip,
    ballot_sheets_by_unit_pdf,
    ballot_sheets_pdf,
    group_code,
)
from questionnaires.pdftext import MISSING_GLYPH, printable
from questionnaires.posters import FOOTER, Poster, posters_pdf

BASE = "https://pingjia.example-univ.edu"  # 32 characters
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LONG_UNIT = "马克思主义学院教工第一党支部暨思想政治理论课教学研究中心联合党支部" * 3
LONG_TITLE = (
    "2026年秋季二级党组织、党支部、党员及服务窗口五好五个模范群众满意度测评" * 3
)
SCALE = 2  # render at 144 dpi: 2 pixels per point


def poster(
    unit: str = "土木工程学院党委", title: str = "2026年秋季群众满意度测评"
) -> Poster:
    token = secrets.token_urlsafe(9)
    return Poster(
        unit_name=unit,
        campaign_title=title,
        instruction="请用手机扫描二维码，匿名评价，约1分钟",
        url=f"{BASE}/s/{token}/",
        short_url=f"pingjia.example-univ.edu/s/{token}/",
    )


def slips(count: int, unit: str = "后勤服务集团第一服务窗口") -> list[BallotSlip]:
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(16)) for _ in range(count)]
    return [
        BallotSlip(
            code=code,
            url=f"{BASE}/b/{code}/",
            unit_name=unit,
            campaign_title="2026年秋季群众满意度测评",
        )
        for code in codes
    ]


def qr_codes(pdf: bytes) -> list[list[zxingcpp.Barcode]]:
    """The QR codes zxing finds on each rendered page, each checked to be upright
    and unmirrored (zxing decodes a mirror image too, reporting it as rotated)
    and to have a clear quiet zone of four modules."""
    document = pdfium.PdfDocument(pdf)
    found = []
    for page in document:
        image = page.render(scale=SCALE).to_pil().convert("L")
        page.close()
        codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        for barcode in codes:
            assert barcode.orientation == 0
            assert_quiet_zone(image, barcode)
        found.append(codes)
    document.close()
    return found


def assert_quiet_zone(image: Image.Image, barcode: zxingcpp.Barcode) -> None:
    """Nothing dark within four modules around the symbol (a pixel of slack on
    each edge for anti-aliasing)."""
    left, top = barcode.position.top_left.x, barcode.position.top_left.y
    right, bottom = barcode.position.bottom_right.x, barcode.position.bottom_right.y
    quiet = round((right - left) / (4 * int(barcode.extra["Version"]) + 17) * 4)
    around = image.crop(
        (left - quiet + 1, top - quiet + 1, right + quiet, bottom + quiet)
    )
    around.paste(
        255, (quiet - 3, quiet - 3, around.width - quiet + 3, around.height - quiet + 3)
    )
    assert around.getextrema()[0] > 200, "something is drawn in the quiet zone"


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text with line breaks removed, so wrapped names read whole."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [page.extract_text().replace("\n", "") for page in reader.pages]


def symbol_side_cm(barcode: zxingcpp.Barcode) -> float:
    """Printed width of the symbol."""
    position = barcode.position
    pixels = position.top_right.x - position.top_left.x
    return pixels / SCALE / cm


def test_it_prints_one_poster_per_page_that_decodes_to_its_url() -> None:
    posters = [poster(), poster("信息工程学院学生第二党支部"), poster("图书馆服务窗口")]
    pdf = posters_pdf(posters, title="某某大学群众评议")
    assert pdf.startswith(b"%PDF-")
    pages = qr_codes(pdf)
    assert len(pages) == 3
    for found, expected in zip(pages, posters, strict=True):
        assert [barcode.text for barcode in found] == [expected.url]
        assert found[0].ec_level == "M"
        assert symbol_side_cm(found[0]) >= 9


def test_its_poster_text_is_extractable() -> None:
    item = dataclasses.replace(
        poster(), period="评议时间：2026年11月1日 08:00 至 2026年11月30日 18:00"
    )
    (text,) = page_texts(posters_pdf([item], title="某某大学群众评议"))
    for expected in (
        "某某大学群众评议",
        item.unit_name,
        item.campaign_title,
        item.instruction,
        item.period,
        item.short_url,
        FOOTER,
    ):
        assert expected in text


def test_its_header_band_falls_back_to_a_generic_label() -> None:
    (text,) = page_texts(posters_pdf([poster()]))
    assert text.startswith("群众评议")


def test_it_keeps_long_names_on_one_page_per_poster() -> None:
    posters = [poster(LONG_UNIT, LONG_TITLE), poster(), poster(LONG_UNIT * 3, "")]
    pdf = posters_pdf(posters)
    pages = qr_codes(pdf)
    assert [[b.text for b in found] for found in pages] == [[p.url] for p in posters]
    # Every character lies inside the page; long texts were cut with an ellipsis.
    document = pdfium.PdfDocument(pdf)
    for page in document:
        width, height = page.get_size()
        text = page.get_textpage()
        for index in range(text.count_chars()):
            left, bottom, right, top = text.get_charbox(index)
            if right > left:  # skip zero-size boxes of spaces
                assert 0 <= left and right <= width and 0 <= bottom and top <= height
        text.close()
        page.close()
    document.close()
    first = page_texts(pdf)[0]
    assert first.count("…") == 2
    assert LONG_UNIT[:10] in first


def test_it_prints_eight_slips_per_sheet_each_decoding_to_its_url() -> None:
    items = slips(20)
    pdf = ballot_sheets_pdf(items, title="选票")
    pages = qr_codes(pdf)
    assert len(pages) == 3
    for number, found in enumerate(pages):
        expected = {slip.url for slip in items[number * 8 : number * 8 + 8]}
        assert len(found) == len(expected)
        assert {barcode.text for barcode in found} == expected
        for barcode in found:
            assert barcode.extra["DataMask"] == BALLOT_MASK_PATTERN
            assert symbol_side_cm(barcode) >= 3


def test_its_slips_carry_the_grouped_code_and_names_as_text() -> None:
    items = slips(9)
    texts = page_texts(ballot_sheets_pdf(items))
    for slip, text in zip(items, [texts[0]] * 8 + [texts[1]], strict=True):
        grouped = "-".join(slip.code[i : i + 4] for i in range(0, 16, 4))
        assert grouped in text
        assert slip.code not in text
    for text in texts:
        assert text.count("后勤服务集团第一服务窗口") == text.count(
            "每张选票仅可使用一次，匿名作答"
        )
        assert "2026年秋季群众满意度测评" in text
    assert texts[0].count("每张选票仅可使用一次，匿名作答") == 8
    assert texts[1].count("每张选票仅可使用一次，匿名作答") == 1


def test_each_units_slips_start_a_sheet_of_their_own() -> None:
    first, second = slips(3, unit="甲学院学生党支部"), slips(9, unit="乙机关教工党支部")
    pdf = ballot_sheets_by_unit_pdf([first, second], title="选票")
    pages = qr_codes(pdf)
    assert [len(found) for found in pages] == [3, 8, 1]
    assert {barcode.text for barcode in pages[0]} == {slip.url for slip in first}
    texts = page_texts(pdf)
    assert "乙机关教工党支部" not in texts[0]
    assert "甲学院学生党支部" not in texts[1] + texts[2]
    with pytest.raises(ValueError):
        ballot_sheets_by_unit_pdf([[], []])


def test_it_prints_an_already_grouped_code_the_same() -> None:
    assert group_code("ABCDEFGHJKMNPQRS") == "ABCD-EFGH-JKMN-PQRS"
    assert group_code("ABCD-EFGH-JKMN-PQRS") == "ABCD-EFGH-JKMN-PQRS"
    (slip,) = slips(1)
    grouped = BallotSlip(group_code(slip.code), slip.url, slip.unit_name, "")
    (text,) = page_texts(ballot_sheets_pdf([grouped]))
    assert group_code(slip.code) in text


def test_it_keeps_long_names_inside_their_slips() -> None:
    items = slips(8, unit=LONG_UNIT)
    items[3] = BallotSlip(items[3].code, items[3].url, "党委", LONG_TITLE)
    pdf = ballot_sheets_pdf(items)
    (found,) = qr_codes(pdf)
    assert {barcode.text for barcode in found} == {slip.url for slip in items}
    (text,) = page_texts(pdf)
    assert text.count("…") == 8


@pytest.mark.parametrize("build", ["posters", "ballots"])
def test_it_embeds_its_font_and_nothing_else(build: str) -> None:
    pdf = posters_pdf([poster()]) if build == "posters" else ballot_sheets_pdf(slips(3))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        resources = page["/Resources"]
        assert "/XObject" not in resources  # QR codes are vector paths, no images
        fonts = [font.get_object() for font in resources["/Font"].values()]
        assert fonts
        for font in fonts:
            assert font["/Subtype"] == "/TrueType"
            assert "WenQuanYiMicroHei" in font["/BaseFont"]
            assert "/FontFile2" in font["/FontDescriptor"]
            assert "/ToUnicode" in font


def test_it_draws_characters_outside_the_font_as_a_visible_box() -> None:
    assert printable("张𠮷 \n\t明") == f"张{MISSING_GLYPH} 明"
    assert (
        printable("吴喆 欧阳堃 王昇 李燊 赵珺 钱婧 孙頔")
        == "吴喆 欧阳堃 王昇 李燊 赵珺 钱婧 孙頔"
    )
    (text,) = page_texts(posters_pdf([poster("张𠮷书记工作室")]))
    assert f"张{MISSING_GLYPH}书记工作室" in text


def test_it_refuses_to_print_nothing() -> None:
    with pytest.raises(ValueError):
        posters_pdf([])
    with pytest.raises(ValueError):
        ballot_sheets_pdf([])
