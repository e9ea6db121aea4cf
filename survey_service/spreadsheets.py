"""Reading and writing the CSV and XLSX files offices exchange with Excel.

Reading detects the encoding: UTF-8 with or without a byte-order mark, or
GB18030 (a superset of the GBK that Chinese Excel writes). Writing neutralises
cells that a spreadsheet would run as a formula (CWE-1236).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class TableError(ValueError):
    """The file as a whole cannot be read; the message says why, in words for people."""


@dataclass(frozen=True)
class Table:
    headers: list[str]
    # (row number as a spreadsheet shows it, cell values) — the header is row 1.
    rows: list[tuple[int, list[str]]]
    encoding: str


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes; returns (text, encoding name)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TableError(
            _("文件是 UTF-16 编码，请在 Excel 中另存为“CSV UTF-8”或“CSV”格式后再导入。")
        )
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise TableError(
                _("文件声明为 UTF-8，但内容不是有效的 UTF-8 编码。")
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise TableError(
            _("无法识别文件编码：只接受 UTF-8（可带 BOM）或 GBK/GB18030 编码的 CSV。")
        ) from None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores a code typed as 1001 as the number 1001.0.
        return str(int(value))
    return str(value).strip()


def _unescape(value: str) -> str:
    # Undo our own neutralisation so an exported file re-imports unchanged.
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


def read_table(data: bytes, filename: str) -> Table:
    """Read the first sheet of an .xlsx file, or a .csv file, into a Table."""
    if not data:
        raise TableError(_("文件为空。"))
    if len(data) > MAX_FILE_BYTES:
        raise TableError(_("文件超过 10 MB。"))
    name = filename.lower()
    if name.endswith(".xlsx"):
        raw_rows, encoding = _read_xlsx(data), "xlsx"
    elif name.endswith(".csv"):
        if b"\x00" in data and not data.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        ):
            raise TableError(_("文件不是文本格式的 CSV（含有二进制内容）。"))
        text, encoding = decode_text(data)
        raw_rows = list(csv.reader(io.StringIO(text, newline="")))
    else:
        raise TableError(_("只接受 .csv 或 .xlsx 文件。"))
    numbered = [
        (number, [_unescape(_cell_text(cell)) for cell in row])
        for number, row in enumerate(raw_rows, start=1)
    ]
    numbered = [(number, row) for number, row in numbered if any(row)]
    if not numbered:
        raise TableError(_("文件中没有内容。"))
    if len(numbered) > MAX_ROWS + 1:
        raise TableError(_("文件行数过多（最多 %(max)d 行）。") % {"max": MAX_ROWS})
    header_number, headers = numbered[0]
    if header_number != 1:
        numbered[0] = (1, headers)
    return Table(
        headers=[header.strip().lower() for header in headers],
        rows=numbered[1:],
        encoding=encoding,
    )


def _read_xlsx(data: bytes) -> list[list[object]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError):
        raise TableError(_("不是有效的 XLSX 文件。")) from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def neutralise(value: object) -> object:
    """Prefix text that Excel would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV as UTF-8 with a byte-order mark, which Excel opens with Chinese intact."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else neutralise(cell) for cell in row])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def write_xlsx(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "Sheet1"
) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(headers))
    for row in rows:
        # openpyxl turns any string starting with "=" into a formula: neutralise first.
        sheet.append([neutralise(cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
