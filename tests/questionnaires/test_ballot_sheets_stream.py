"""Ballot sheets written page by page (questionnaires.ballot_sheets.ballot_sheets_write,
questionnaires.pdfstream), the QR symbols they draw, and the fast code helpers of
questionnaires.ballots. No database: each is checked as a reader would see it or
against the slower definition it replaces."""

import io
import itertools
import random

import pypdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from django.test import override_settings
from django.utils.crypto import salted_hmac
from PIL import Image

from questionnaires import ballots
from questionnaires.ballot_sheets import (
    BALLOT_MASK_PATTERN,
    SLIP_CODE,
    BallotSlip,
    ballot_sheets_write,
    ballot_symbol,
    fit_word,
    group_code,
)
from questionnaires.pdftext import fit
from questionnaires.qr import qr_version

from .test_posters import SCALE, assert_quiet_zone, slips


def decoded_pages(pdf: bytes, pages: list[int]) -> dict[int, list[zxingcpp.Barcode]]:
    """The QR codes on the given pages (0-based), as in test_posters.qr_codes."""
    document = pdfium.PdfDocument(pdf)
    found = {}
    for number in pages:
        page = document[number]
        image = page.render(scale=SCALE).to_pil().convert("L")
        page.close()
        codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        for barcode in codes:
            assert barcode.orientation == 0
            assert_quiet_zone(image, barcode)
        found[number] = codes
    document.close()
    return found


def test_it_streams_several_units_over_many_sheets_that_all_decode() -> None:
    # 3 units whose slips end mid-sheet, given as generators.
    groups = [slips(8 * 40 + 3, unit="甲学院学生党支部"), slips(5), slips(8 * 12)]
    out = io.BytesIO()
    pages = ballot_sheets_write(out, (iter(group) for group in groups), title="选票")
    assert pages == 41 + 1 + 12
    pdf = out.getvalue()
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == pages
    first, second, third = groups
    expected = {
        0: first[:8],
        17: first[136:144],
        40: first[320:],  # the 3 left over, alone on their sheet
        41: second,
        42: third[:8],
        53: third[88:],
    }
    found = decoded_pages(pdf, list(expected))
    for number, slips_on_page in expected.items():
        assert {b.text for b in found[number]} == {s.url for s in slips_on_page}
        for barcode in found[number]:
            assert barcode.extra["DataMask"] == BALLOT_MASK_PATTERN
            assert barcode.ec_level == "M"


def test_it_writes_each_sheet_before_it_draws_the_next() -> None:
    out = io.BytesIO()
    written_when_asked = []

    def tracked(items):
        for index, item in enumerate(items):
            if index % 8 == 0:
                written_when_asked.append(out.tell())
            yield item

    ballot_sheets_write(out, [tracked(slips(8 * 5))])
    # Before each new sheet's first slip, the previous sheet is in the file.
    assert len(written_when_asked) == 5
    assert all(b > a for a, b in itertools.pairwise(written_when_asked))


def test_its_text_survives_as_one_document_with_one_font() -> None:
    items = slips(17, unit="后勤服务集团第一服务窗口")
    out = io.BytesIO()
    ballot_sheets_write(out, [items], title="2026年秋季评议 选票")
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    assert reader.metadata.title == "2026年秋季评议 选票"
    texts = [page.extract_text() for page in reader.pages]
    for index, slip in enumerate(items):
        assert group_code(slip.code) in texts[index // 8]
    assert [text.count("每张选票仅可使用一次，匿名作答") for text in texts] == [8, 8, 1]


def test_it_refuses_to_print_nothing() -> None:
    with pytest.raises(ValueError):
        ballot_sheets_write(io.BytesIO(), [iter([]), iter([])])


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:8000",
        "https://pingjia.example-univ.edu",
        "https://survey.a-rather-long-host-name.example-university.edu.cn",
    ],
)
def test_its_symbols_have_the_version_level_and_mask_of_the_spec(base: str) -> None:
    code = ballots.new_code()
    url = f"{base}/b/#{code}"
    symbol = ballot_symbol(url)
    version = qr_version(url)
    assert symbol.shape == (4 * version + 17, 4 * version + 17)
    # Drawn 8 pixels a module with a 4-module quiet zone, as a phone sees it.
    side = len(symbol) + 8
    image = Image.new("L", (side, side), 255)
    for row, line in enumerate(symbol):
        for column, dark in enumerate(line):
            if dark:
                image.putpixel((column + 4, row + 4), 0)
    image = image.resize((side * 8, side * 8), Image.NEAREST)
    (barcode,) = zxingcpp.read_barcodes(image)
    assert barcode.text == url
    assert barcode.ec_level == "M"
    assert barcode.extra["DataMask"] == BALLOT_MASK_PATTERN
    assert int(barcode.extra["Version"]) == version


def test_a_codes_fit_is_the_general_fit() -> None:
    rng = random.Random(11)
    for _ in range(300):
        code = group_code("".join(rng.choice(ballots.ALPHABET) for _ in range(16)))
        width = rng.uniform(20, 200)
        assert fit_word(code, width) == fit(code, SLIP_CODE, width)


def test_new_codes_are_16_uniform_digits_of_the_alphabet() -> None:
    codes = [ballots.new_code() for _ in range(4000)]
    assert all(len(code) == ballots.CODE_LENGTH for code in codes)
    assert all(ballots.normalise(code) == code for code in codes)
    assert len(set(codes)) == len(codes)
    counts = {digit: 0 for digit in ballots.ALPHABET}
    for code in codes:
        for digit in code:
            counts[digit] += 1
    expected = 4000 * 16 / 32  # 2,000 each; 5 standard deviations ≈ 220
    assert all(abs(n - expected) < 250 for n in counts.values()), counts


@override_settings(SECRET_KEY="another-secret-key-for-this-test")
def test_code_hashes_are_the_keyed_hash_of_each_code() -> None:
    codes = [ballots.new_code() for _ in range(50)]
    assert list(ballots.code_hashes(codes)) == [
        salted_hmac("ballot-code", code, algorithm="sha256").hexdigest()
        for code in codes
    ]
    assert list(ballots.code_hashes(codes)) == [ballots.code_hash(c) for c in codes]


def test_it_prints_slips_of_mixed_url_lengths_on_one_sheet() -> None:
    items = slips(3)
    longer = BallotSlip(
        code=items[1].code,
        url=f"https://a-much-longer-public-host.example-university.edu.cn/b/#{items[1].code}",
        unit_name=items[1].unit_name,
        campaign_title=items[1].campaign_title,
    )
    items[1] = longer
    out = io.BytesIO()
    ballot_sheets_write(out, [items])
    (found,) = decoded_pages(out.getvalue(), [0]).values()
    assert {b.text for b in found} == {s.url for s in items}
    assert {int(b.extra["Version"]) for b in found} == {
        qr_version(s.url) for s in items
    }
    assert len({qr_version(s.url) for s in items}) == 2


def test_it_embeds_as_many_font_subsets_as_the_names_need() -> None:
    # 600 distinct hanzi: three subsets of at most 256 glyphs.
    names = ["".join(chr(0x4E00 + 20 * n + i) for i in range(20)) for n in range(30)]
    groups = [slips(1, unit=name) for name in names]
    out = io.BytesIO()
    ballot_sheets_write(out, groups)
    reader = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert len(fonts) >= 3
    for page, name in zip(reader.pages, names, strict=True):
        assert name in page.extract_text().replace("\n", "")
