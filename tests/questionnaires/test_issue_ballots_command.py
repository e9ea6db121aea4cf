import io
import tempfile
from pathlib import Path
from unittest import mock

from django.core.management import CommandError, call_command

from questionnaires import ballots
from questionnaires.models import BallotCode
from questionnaires.services import ServiceError, ballots_issue
from tests.base import PersonaTestCase

from .helpers import make_round, point_of


class IssueBallotsCommandTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ballot_round = make_round(
            cls.school, mode="ballot", kinds={"branch": "wuhao-branch"}
        )
        cls.point = point_of(cls.ballot_round, cls.branch_b)

    def test_it_writes_slips_whose_codes_exist_only_in_the_pdf(self):
        from pypdf import PdfReader

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "slips.pdf"
            call_command(
                "issue_ballots",
                "--point",
                str(self.point.pk),
                "--count",
                "9",
                "--out",
                str(out),
                stdout=io.StringIO(),
            )
            text = "".join(page.extract_text() for page in PdfReader(out).pages)
        self.assertEqual(BallotCode.objects.filter(point=self.point).count(), 9)
        self.assertIn(self.point.unit.name, text)

    def test_it_refuses_an_open_mode_point(self):
        open_round = make_round(self.school, title="扫码轮次")
        with tempfile.TemporaryDirectory() as tmp, self.assertRaises(CommandError):
            call_command(
                "issue_ballots",
                "--point",
                str(point_of(open_round, self.unit_a).pk),
                "--count",
                "5",
                "--out",
                f"{tmp}/x.pdf",
            )
        self.assertFalse(BallotCode.objects.exists())

    def test_it_refuses_an_unknown_point_and_an_existing_file(self):
        with self.assertRaises(CommandError):
            call_command("issue_ballots", "--point", "999999", "--count", "5")
        with (
            tempfile.NamedTemporaryFile(suffix=".pdf") as existing,
            self.assertRaises(CommandError),
        ):
            call_command(
                "issue_ballots",
                "--point",
                str(self.point.pk),
                "--count",
                "5",
                "--out",
                existing.name,
            )
        self.assertFalse(BallotCode.objects.exists())

    def test_an_unwritable_file_issues_no_ballots(self):
        with self.assertRaises(CommandError):
            call_command(
                "issue_ballots",
                "--point",
                str(self.point.pk),
                "--count",
                "5",
                "--out",
                "/nonexistent-dir/x.pdf",
            )
        self.assertFalse(BallotCode.objects.exists())


class IssueBallotsLimitTests(PersonaTestCase):
    """Counts, many sheets, and a PDF that fails half-way."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ballot_round = make_round(
            cls.school, mode="ballot", kinds={"branch": "wuhao-branch"}
        )
        cls.point = point_of(cls.ballot_round, cls.branch_b)

    def issue(self, count: int, out: Path) -> str:
        stdout = io.StringIO()
        call_command(
            "issue_ballots",
            "--point",
            str(self.point.pk),
            "--count",
            str(count),
            "--out",
            str(out),
            stdout=stdout,
        )
        return stdout.getvalue()

    def test_it_refuses_counts_outside_1_to_100000_and_issues_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "slips.pdf"
            for count in (0, -5, ballots.MAX_PER_COMMAND + 1):
                with self.assertRaises(CommandError) as refused:
                    self.issue(count, out)
                self.assertIn("--count must be 1 to 100000", str(refused.exception))
                self.assertIn("no ballots were issued", str(refused.exception))
                self.assertFalse(out.exists())
        self.assertFalse(BallotCode.objects.exists())

    def test_a_run_across_insert_batches_and_many_sheets_decodes_and_matches(self):
        import pypdf
        import zxingcpp

        from .test_ballot_sheets_stream import decoded_pages

        count = 5003  # past one insert batch of 5,000; 625 full sheets and 3 slips
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "slips.pdf"
            said = self.issue(count, out)
            pdf = out.read_bytes()
        self.assertIn("626 pages", said)
        self.assertEqual(len(pypdf.PdfReader(io.BytesIO(pdf)).pages), 626)
        stored = set(
            BallotCode.objects.filter(point=self.point).values_list(
                "code_hash", flat=True
            )
        )
        self.assertEqual(len(stored), count)
        found = decoded_pages(pdf, [0, 624, 625])
        self.assertEqual([len(found[n]) for n in (0, 624, 625)], [8, 8, 3])
        for barcode in [b for codes in found.values() for b in codes]:
            self.assertIsInstance(barcode, zxingcpp.Barcode)
            code = barcode.text.rsplit("#", 1)[1]
            self.assertIn(ballots.code_hash(code), stored)

    def test_a_pdf_that_fails_half_way_leaves_no_codes_and_no_file(self):
        def half_written(file, point, codes):
            file.write(b"%PDF-1.4\n")
            raise OSError(28, "No space left on device")

        with (
            tempfile.TemporaryDirectory() as tmp,
            mock.patch(
                "questionnaires.ballots.slips_pdf_write", side_effect=half_written
            ),
        ):
            out = Path(tmp) / "slips.pdf"
            with self.assertRaises(CommandError) as refused:
                self.issue(30, out)
            self.assertFalse(out.exists())
        self.assertIn("No space left on device", str(refused.exception))
        self.assertFalse(BallotCode.objects.exists())

    def test_the_service_keeps_the_web_limit_unless_told(self):
        with self.assertRaises(ServiceError):
            ballots_issue(point=self.point, count=ballots.MAX_PER_REQUEST + 1)
        with self.assertRaises(ServiceError):
            ballots_issue(point=self.point, count=0, limit=ballots.MAX_PER_COMMAND)
        self.assertFalse(BallotCode.objects.exists())
        codes = ballots_issue(
            point=self.point,
            count=ballots.MAX_PER_REQUEST + 1,
            limit=ballots.MAX_PER_COMMAND,
        )
        self.assertEqual(len(set(codes)), ballots.MAX_PER_REQUEST + 1)
        self.assertEqual(
            BallotCode.objects.filter(point=self.point).count(),
            ballots.MAX_PER_REQUEST + 1,
        )
