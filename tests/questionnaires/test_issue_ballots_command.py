import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command

from questionnaires.models import BallotCode
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
