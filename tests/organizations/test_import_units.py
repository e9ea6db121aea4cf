import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from organizations.models import Unit
from organizations.services import ImportRefused, units_export, units_import
from tests.base import PersonaTestCase

HEADER = "code,name,kind,category,parent_code\n"
GOOD = (
    HEADER
    + "C,丙学院党委,committee,teaching,S\n"
    + "C-1,丙学院教工党支部,branch,staff,C\n"
    + "C-W,丙学院办事窗口,window,,C-1\n"
)


def snapshot():
    return sorted(
        Unit.objects.values_list("code", "name", "kind", "category", "parent__code")
    )


class ImportTests(PersonaTestCase):
    def refused(
        self, text: str, *, encoding: str = "utf-8", filename: str = "units.csv"
    ) -> ImportRefused:
        before = snapshot()
        with self.assertRaises(ImportRefused) as caught:
            units_import(data=text.encode(encoding), filename=filename)
        self.assertEqual(snapshot(), before, "a refused import must write nothing")
        return caught.exception

    def messages_for(self, refused: ImportRefused, row: int) -> str:
        return " ".join(
            m for error in refused.errors if error.row == row for m in error.messages
        )

    def test_it_imports_a_good_file(self):
        result = units_import(data=GOOD.encode(), filename="units.csv")
        self.assertEqual(result.created, ["C", "C-1", "C-W"])
        window = Unit.objects.get(code="C-W")
        self.assertEqual(window.parent.code, "C-1")
        self.assertEqual(window.kind, Unit.Kind.WINDOW)

    def test_reimporting_the_same_file_changes_nothing(self):
        units_import(data=GOOD.encode(), filename="units.csv")
        before = snapshot()
        result = units_import(data=GOOD.encode(), filename="units.csv")
        self.assertEqual((result.created, result.updated), ([], []))
        self.assertEqual(len(result.unchanged), 3)
        self.assertEqual(snapshot(), before)

    def test_it_updates_an_existing_unit_by_code(self):
        result = units_import(
            data=(HEADER + "A,甲学院党委（更名）,committee,teaching,S\n").encode(),
            filename="u.csv",
        )
        self.assertEqual(result.updated, ["A"])
        self.assertEqual(Unit.objects.get(code="A").name, "甲学院党委（更名）")

    def test_it_accepts_children_listed_before_their_parents(self):
        text = (
            HEADER
            + "C-W,窗口,window,,C-1\nC-1,支部,branch,staff,C\nC,学院,committee,teaching,S\n"
        )
        units_import(data=text.encode(), filename="units.csv")
        self.assertEqual(Unit.objects.get(code="C-W").parent.parent.code, "C")

    def test_it_refuses_an_unknown_parent_and_names_the_row(self):
        refused = self.refused(GOOD + "D,丁学院党委,committee,teaching,NOPE\n")
        self.assertEqual([e.row for e in refused.errors], [5])
        self.assertIn("NOPE", self.messages_for(refused, 5))
        self.assertIn("不存在", self.messages_for(refused, 5))

    def test_it_refuses_a_duplicate_code_in_the_file(self):
        refused = self.refused(GOOD + "C,丙学院党委again,committee,teaching,S\n")
        self.assertIn("与第 2 行重复", self.messages_for(refused, 5))

    def test_it_refuses_an_unknown_kind(self):
        refused = self.refused(HEADER + "C,丙学院,faculty,teaching,S\n")
        self.assertIn("faculty", self.messages_for(refused, 2))

    def test_it_refuses_a_cycle_in_the_file(self):
        text = HEADER + "P,甲,committee,teaching,Q\nQ,乙,committee,teaching,P\n"
        refused = self.refused(text)
        self.assertIn("循环", self.messages_for(refused, 2))
        self.assertIn("循环", self.messages_for(refused, 3))

    def test_it_refuses_a_cycle_through_existing_units(self):
        # Moving committee A under its own branch A-1 closes a loop A → A-1 → A.
        refused = self.refused(HEADER + "A,甲学院党委,committee,teaching,A-1\n")
        self.assertIn("A → A-1 → A", self.messages_for(refused, 2))

    def test_it_refuses_an_empty_name(self):
        refused = self.refused(HEADER + "C,,committee,teaching,S\n")
        self.assertIn("名称为空", self.messages_for(refused, 2))

    def test_it_refuses_a_kind_under_the_wrong_parent_kind(self):
        refused = self.refused(HEADER + "C-1,支部,branch,staff,S\n")
        self.assertIn("不能隶属于", self.messages_for(refused, 2))

    def test_it_refuses_a_kind_change_that_strands_existing_children(self):
        # Turning committee A into a window would leave branch A-1 under a window.
        refused = self.refused(HEADER + "A,甲,window,,S\n")
        self.assertTrue(refused.errors)

    def test_it_refuses_a_file_in_an_unknown_encoding(self):
        refused = self.refused(GOOD, encoding="utf-16")
        self.assertEqual(refused.errors[0].row, None)
        self.assertIn("UTF-16", str(refused.errors[0]))

    def test_it_refuses_bytes_that_are_neither_utf8_nor_gb18030(self):
        before = snapshot()
        with self.assertRaises(ImportRefused) as caught:
            units_import(
                data=HEADER.encode() + b"C,\xff\xfe\xff,committee,teaching,S\n",
                filename="u.csv",
            )
        self.assertIn("编码", str(caught.exception))
        self.assertEqual(snapshot(), before)

    def test_it_lists_every_bad_row_and_writes_none_of_the_good_ones(self):
        text = (
            GOOD
            + "D,,committee,teaching,S\nE,戊,nonsense,,S\nF,己,committee,teaching,ZZZ\n"
        )
        refused = self.refused(text)
        self.assertEqual([e.row for e in refused.errors], [5, 6, 7])
        self.assertFalse(Unit.objects.filter(code="C").exists())

    def test_it_refuses_a_file_without_the_required_columns(self):
        refused = self.refused("code,name\nC,丙\n")
        self.assertIn("kind", str(refused))

    def test_it_reads_a_gb18030_csv_from_excel(self):
        # 㐀 is outside GBK: only a real GB18030 decoder reads it back.
        text = (
            HEADER
            + "C,丙学院㐀党委,二级党组织,教学院部,S\nC-1,丙学院学生党支部,党支部,学生,C\n"
        )
        result = units_import(data=text.encode("gb18030"), filename="units.csv")
        self.assertEqual(result.encoding, "gb18030")
        self.assertEqual(Unit.objects.get(code="C").name, "丙学院㐀党委")
        self.assertEqual(Unit.objects.get(code="C-1").category, Unit.Category.STUDENT)

    def test_it_reads_utf8_with_a_byte_order_mark_and_chinese_headers(self):
        text = "编码,名称,类型,类别,上级编码\r\nC,丙学院党委,二级党组织,教学院部,S\r\n"
        result = units_import(data=text.encode("utf-8-sig"), filename="UNITS.CSV")
        self.assertEqual(result.encoding, "utf-8-sig")
        self.assertEqual(Unit.objects.get(code="C").kind, Unit.Kind.COMMITTEE)

    def test_it_reads_xlsx_with_numeric_codes(self):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["code", "name", "kind", "category", "parent_code"])
        sheet.append([1001, "丙学院党委", "committee", "teaching", "S"])
        sheet.append([1002, "丙学院教工党支部", "branch", "staff", 1001])
        buffer = io.BytesIO()
        workbook.save(buffer)
        units_import(data=buffer.getvalue(), filename="units.xlsx")
        self.assertEqual(Unit.objects.get(code="1002").parent.code, "1001")

    def test_it_refuses_a_broken_xlsx(self):
        before = snapshot()
        with self.assertRaises(ImportRefused) as caught:
            units_import(
                data=b"PK\x03\x04 not really a workbook", filename="units.xlsx"
            )
        self.assertIn("XLSX", str(caught.exception))
        self.assertEqual(snapshot(), before)

    def test_export_reimports_without_changes_csv_and_xlsx(self):
        Unit.objects.filter(code="A").update(name='=HYPERLINK("x")甲')
        before = snapshot()
        for fmt in ("csv", "xlsx"):
            data = units_export(Unit.objects.all(), fmt=fmt)
            result = units_import(data=data, filename=f"units.{fmt}")
            self.assertEqual((result.created, result.updated), ([], []), fmt)
            self.assertEqual(snapshot(), before)

    def test_export_neutralises_formulas(self):
        Unit.objects.filter(code="A").update(name="=1+1")
        csv_text = units_export(Unit.objects.all(), fmt="csv").decode("utf-8-sig")
        self.assertIn("'=1+1", csv_text)
        sheet = load_workbook(
            io.BytesIO(units_export(Unit.objects.all(), fmt="xlsx"))
        ).active
        names = [row[1] for row in sheet.iter_rows(values_only=True)]
        self.assertIn("'=1+1", names)

    def test_export_lists_parents_before_children_with_the_import_columns(self):
        lines = (
            units_export(Unit.objects.all(), fmt="csv").decode("utf-8-sig").splitlines()
        )
        self.assertEqual(lines[0], "code,name,kind,category,parent_code")
        codes = [line.split(",")[0] for line in lines[1:]]
        self.assertLess(codes.index("A"), codes.index("A-1"))
        self.assertLess(codes.index("A-1"), codes.index("A-W"))


class ImportCommandTests(PersonaTestCase):
    def write(self, text: bytes, suffix: str = ".csv") -> Path:
        handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
        handle.write(text)
        handle.close()
        self.addCleanup(Path(handle.name).unlink)
        return Path(handle.name)

    def test_it_imports_from_a_file(self):
        out = io.StringIO()
        call_command(
            "import_units", str(self.write(GOOD.encode("gb18030"))), stdout=out
        )
        self.assertIn("3 created", out.getvalue())
        self.assertTrue(Unit.objects.filter(code="C-W").exists())

    def test_it_fails_with_the_row_numbers(self):
        path = self.write((GOOD + "D,,committee,teaching,S\n").encode())
        with self.assertRaises(CommandError) as caught:
            call_command("import_units", str(path))
        self.assertIn("第 5 行", str(caught.exception))
        self.assertFalse(Unit.objects.filter(code="C").exists())

    def test_it_fails_clearly_on_a_missing_file(self):
        with self.assertRaises(CommandError) as caught:
            call_command("import_units", "/nonexistent/units.csv")
        self.assertIn("Cannot read", str(caught.exception))
