"""Evidence (佐证材料): types by content, size, sha256, who may upload and download."""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import Resolver404, include, path, resolve

from rectification.evidence import MAX_SIZE, EvidenceRefused, evidence_add
from rectification.models import Evidence, Task, TaskEvent
from tests.base import PersonaTestCase

# The lead mounts rectification.urls under /manage/; until then the tests do.
urlpatterns = [
    path("manage/", include("rectification.urls")),
    path("", include("survey_service.urls")),
]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Rectification evidence")
    page.save()
    return buffer.getvalue()


def image_bytes(fmt: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["整改事项", "完成情况"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in entries.items():
            package.writestr(name, text)
    return buffer.getvalue()


def content_types(main: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{main}"/>'
        "</Types>"
    )


DOCX_MAIN = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
)
DOCUMENT_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>整改情况说明</w:t></w:r></w:p></w:body></w:document>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
    "</Relationships>"
)


def docx_bytes(main: str = DOCX_MAIN) -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": content_types(main),
            "_rels/.rels": RELS,
            "word/document.xml": DOCUMENT_XML,
        }
    )


def zip_bomb_bytes() -> bytes:
    """A real DOCX whose extra entry unpacks to more than 200 MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", content_types(DOCX_MAIN))
        package.writestr("word/document.xml", DOCUMENT_XML)
        with package.open("word/media/zeros.bin", "w") as entry:
            zeros = bytes(1024 * 1024)
            for _ in range(201):
                entry.write(zeros)
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


class EvidenceTestCase(PersonaTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.media = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        cls.enterClassContext(override_settings(MEDIA_ROOT=cls.media))
        super().setUpClass()

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.task_a = cls.make_task(cls.branch_a)
        cls.task_b = cls.make_task(cls.branch_b)

    @classmethod
    def make_task(cls, unit, state: str = Task.State.IN_PROGRESS) -> Task:
        return Task.objects.create(
            source=Task.Source.MANUAL,
            title="窗口服务态度",
            lead_unit=unit,
            responsible_person="张老师",
            due_date=date(2027, 3, 1),
            state=state,
        )

    def fresh(self, user):
        return type(user).objects.get(pk=user.pk)

    def add(self, name: str, data: bytes, *, task: Task | None = None, user=None):
        return evidence_add(
            task=task or self.task_a,
            user=self.fresh(user or self.manager_a),
            upload=upload(name, data),
        )

    def stored_files(self) -> set[Path]:
        """Files under MEDIA_ROOT (the class shares it; the database rolls back)."""
        return {p for p in self.media.rglob("*") if p.is_file()}


class EvidenceAddTests(EvidenceTestCase):
    def test_it_accepts_each_type_by_its_content(self):
        cases = [
            ("整改报告.pdf", pdf_bytes(), "application/pdf", ".pdf"),
            ("现场照片.png", image_bytes("PNG"), "image/png", ".png"),
            ("现场照片.jpg", image_bytes("JPEG"), "image/jpeg", ".jpg"),
            ("动图.gif", image_bytes("GIF"), "image/gif", ".gif"),
            ("照片.webp", image_bytes("WEBP"), "image/webp", ".webp"),
            ("情况说明.docx", docx_bytes(), DOCX, ".docx"),
            ("台账.xlsx", xlsx_bytes(), XLSX, ".xlsx"),
        ]
        for name, data, content_type, extension in cases:
            with self.subTest(name=name):
                evidence = self.add(name, data)
                self.assertEqual(evidence.content_type, content_type)
                self.assertEqual(evidence.original_name, name)
                self.assertEqual(evidence.size, len(data))
                stored = Path(evidence.file.path)
                self.assertTrue(stored.is_relative_to(self.media / "private"))
                self.assertEqual(stored.suffix, extension)
                self.assertNotIn(Path(name).stem, evidence.file.name)
                self.assertEqual(stored.read_bytes(), data)

    def test_the_type_is_the_contents_not_the_name_or_the_browsers_claim(self):
        evidence = evidence_add(
            task=self.task_a,
            user=self.fresh(self.manager_a),
            upload=upload("photo.docx", image_bytes("PNG"), content_type=DOCX),
        )
        self.assertEqual(evidence.content_type, "image/png")
        self.assertEqual(evidence.download_name(), "photo.docx.png")

    def test_it_records_the_sha256_of_the_bytes_and_one_event(self):
        data = pdf_bytes()
        evidence = self.add("整改报告.pdf", data)
        expected = hashlib.sha256(data).hexdigest()
        self.assertEqual(evidence.sha256, expected)
        self.assertEqual(
            hashlib.sha256(Path(evidence.file.path).read_bytes()).hexdigest(), expected
        )
        event = TaskEvent.objects.get(task=self.task_a, kind=TaskEvent.Kind.EVIDENCE)
        self.assertEqual(
            event.changes,
            {
                "evidence": {
                    "name": "整改报告.pdf",
                    "sha256": expected,
                    "size": len(data),
                }
            },
        )
        self.assertEqual(event.actor, self.manager_a)
        self.assertEqual(
            (event.from_state, event.to_state), ("in_progress", "in_progress")
        )

    def assert_refused(self, name: str, data: bytes, code: str) -> None:
        files = self.stored_files()
        with self.assertRaises(EvidenceRefused) as caught:
            self.add(name, data)
        self.assertEqual(caught.exception.code, code)
        self.assertFalse(Evidence.objects.exists())
        self.assertFalse(TaskEvent.objects.filter(kind="evidence").exists())
        self.assertEqual(self.stored_files(), files)

    def test_it_refuses_content_that_is_not_an_accepted_type(self):
        cases = [
            ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200)),
            ("report.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
            ("plain.docx", zip_bytes({"notes.txt": "hello"})),
            ("parts-only.docx", zip_bytes({"word/document.xml": DOCUMENT_XML})),
            (
                "macros.docx",
                docx_bytes("application/vnd.ms-word.document.macroEnabled.main+xml"),
            ),
            ("truncated.xlsx", xlsx_bytes()[:400]),
            ("image.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
            ("notes.txt", "整改情况".encode()),
        ]
        for name, data in cases:
            with self.subTest(name=name):
                self.assert_refused(name, data, "file_type")

    def test_the_refusal_says_what_is_accepted(self):
        with self.assertRaises(EvidenceRefused) as caught:
            self.add("setup.pdf", b"MZ" + bytes(100))
        self.assertIn("PDF", caught.exception.message)
        self.assertIn("XLSX", caught.exception.message)

    def test_it_refuses_a_zip_bomb_by_its_declared_sizes(self):
        self.assert_refused("bomb.docx", zip_bomb_bytes(), "zip_bomb")

    def test_it_refuses_a_file_over_20_mb(self):
        data = b"%PDF-1.4\n" + bytes(20 * 1024 * 1024 + 1 - 9)
        self.assertEqual(len(data), MAX_SIZE + 1)
        self.assert_refused("big.pdf", data, "too_large")

    def test_it_accepts_exactly_20_mb(self):
        data = b"%PDF-1.4\n" + bytes(MAX_SIZE - 9)
        self.assertEqual(self.add("big.pdf", data).size, MAX_SIZE)

    def test_it_refuses_an_empty_file(self):
        self.assert_refused("empty.pdf", b"", "empty")

    def test_only_the_lead_units_managers_and_the_office_may_upload(self):
        for user, allowed in (
            (self.manager_a, True),
            (self.leader, True),
            (self.manager_b, False),
            (self.reviewer, False),
        ):
            with self.subTest(user=user.username):
                if allowed:
                    self.assertEqual(
                        self.add("a.pdf", pdf_bytes(), user=user).uploaded_by, user
                    )
                else:
                    with self.assertRaises(EvidenceRefused) as caught:
                        self.add("a.pdf", pdf_bytes(), user=user)
                    self.assertEqual(caught.exception.code, "forbidden")
        self.assertEqual(Evidence.objects.count(), 2)

    def test_a_cooperating_unit_may_not_upload(self):
        task = self.make_task(self.branch_b)
        task.cooperating_units.add(self.branch_a)
        with self.assertRaises(EvidenceRefused):
            self.add("a.pdf", pdf_bytes(), task=task)

    def test_it_accepts_uploads_only_while_the_task_is_being_worked_on(self):
        for state in Task.State.values:
            with self.subTest(state=state):
                task = self.make_task(self.branch_a, state=state)
                if state in ("assigned", "in_progress", "under_review"):
                    self.add("a.pdf", pdf_bytes(), task=task)
                else:
                    with self.assertRaises(EvidenceRefused) as caught:
                        self.add("a.pdf", pdf_bytes(), task=task)
                    self.assertEqual(caught.exception.code, "state")
        self.assertEqual(Evidence.objects.count(), 3)

    def test_it_checks_the_state_again_under_the_lock(self):
        stale = Task.objects.get(pk=self.task_a.pk)
        Task.objects.filter(pk=stale.pk).update(state=Task.State.CLOSED)
        files = self.stored_files()
        with self.assertRaises(EvidenceRefused) as caught:
            self.add("a.pdf", pdf_bytes(), task=stale)
        self.assertEqual(caught.exception.code, "state")
        self.assertFalse(Evidence.objects.exists())
        self.assertEqual(self.stored_files(), files)

    def test_it_keeps_only_the_base_name_without_control_characters(self):
        evidence = self.add("整改\r\n报告.pdf", pdf_bytes())
        self.assertEqual(evidence.original_name, "整改报告.pdf")


@override_settings(ROOT_URLCONF=__name__)
class EvidenceDownloadTests(EvidenceTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.pdf = pdf_bytes()

    def setUp(self) -> None:
        self.evidence_a = self.add("整改报告.pdf", self.pdf)
        self.evidence_b = self.add(
            "photo.png", image_bytes("PNG"), task=self.task_b, user=self.manager_b
        )

    def url(self, evidence: Evidence) -> str:
        return f"/manage/evidence/{evidence.pk}/"

    def get(self, user, evidence: Evidence):
        self.client.logout()
        if user is not None:
            self.login(user)
        return self.client.get(self.url(evidence))

    def test_it_serves_the_file_as_an_attachment_of_its_checked_type(self):
        response = self.get(self.manager_a, self.evidence_a)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), self.pdf)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertTrue(response["Content-Disposition"].startswith("attachment;"))
        self.assertIn(
            "filename*=utf-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A.pdf",
            response["Content-Disposition"],
        )
        self.assertIn("private", response["Cache-Control"])

    def test_who_may_download(self):
        cases = [
            (self.leader, self.evidence_a, 200),
            (self.leader, self.evidence_b, 200),
            (self.reviewer, self.evidence_b, 200),
            (self.manager_a, self.evidence_a, 200),
            (self.manager_a, self.evidence_b, 404),
            (self.manager_b, self.evidence_b, 200),
            (self.manager_b, self.evidence_a, 404),
        ]
        for user, evidence, status in cases:
            with self.subTest(user=user.username, evidence=evidence.original_name):
                self.assertEqual(self.get(user, evidence).status_code, status)

    def test_a_cooperating_unit_may_download(self):
        self.task_b.cooperating_units.add(self.branch_a)
        self.assertEqual(self.get(self.manager_a, self.evidence_b).status_code, 200)

    def test_an_unknown_id_is_404(self):
        self.login(self.leader)
        self.assertEqual(self.client.get("/manage/evidence/999999/").status_code, 404)

    def test_anonymous_is_sent_to_log_in(self):
        response = self.get(None, self.evidence_a)
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/accounts/login/?next="))

    def test_it_only_answers_safe_methods(self):
        self.login(self.leader)
        self.assertEqual(self.client.post(self.url(self.evidence_a)).status_code, 405)


class EvidenceNotPublicTests(EvidenceTestCase):
    """With the project's own URLs: no path reaches MEDIA_ROOT."""

    def test_the_stored_file_has_no_public_url(self):
        evidence = self.add("整改报告.pdf", pdf_bytes())
        self.login(self.leader)
        for url in (f"/media/{evidence.file.name}", f"/{evidence.file.name}"):
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 404)
                with self.assertRaises(Resolver404):
                    resolve(url)
