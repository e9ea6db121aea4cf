"""Evidence files (佐证材料): who may add and see them, and what a file really is.

The type is decided by the bytes, never by the name or the browser's claim: PDF,
PNG, JPEG, GIF and WebP by their magic numbers, DOCX and XLSX as ZIP containers
with the parts and the main content type of a Word document or an Excel workbook.
Anything else is refused before a byte is stored.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from typing import IO

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from organizations.access import scope_for
from questionnaires.services import ServiceError

from .models import Evidence, Task, TaskEvent

S = Task.State
UPLOAD_STATES = (S.ASSIGNED, S.IN_PROGRESS, S.UNDER_REVIEW)
MAX_SIZE = 20 * 1024 * 1024
# ZIP containers: limits on what the entries declare, so that nothing that later
# opens the file (a spreadsheet reader, a preview) unpacks a zip bomb.
MAX_UNPACKED = 200 * 1024 * 1024
MAX_ENTRIES = 5000
MAX_CONTENT_TYPES_XML = 1024 * 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Office Open XML: the part that makes the package a document or a workbook, and
# the content type [Content_Types].xml must give it (macro-enabled variants differ).
OOXML = {
    DOCX: (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    XLSX: (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EvidenceRefused(ServiceError):
    code = "evidence_refused"


def sniff_content_type(head: bytes) -> str | None:
    """The type of a non-ZIP file from its first bytes, or None."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def ooxml_content_type(file: IO[bytes]) -> str | None:
    """DOCX or XLSX when ``file`` is such a package, else None. Raises
    EvidenceRefused for a package that declares more than the limits."""
    try:
        with zipfile.ZipFile(file) as package:
            entries = package.infolist()
            if len(entries) > MAX_ENTRIES or (
                sum(entry.file_size for entry in entries) > MAX_UNPACKED
            ):
                raise EvidenceRefused(
                    _("压缩包解压后过大，疑似压缩炸弹，已拒绝。"), code="zip_bomb"
                )
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names:
                return None
            info = package.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_XML:
                return None
            with package.open(info) as part:
                declared = part.read(MAX_CONTENT_TYPES_XML).decode("utf-8", "replace")
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        RuntimeError,  # encrypted entries
        NotImplementedError,  # unknown compression methods
        ValueError,
    ):
        return None
    for content_type, (main_part, main_type) in OOXML.items():
        if main_part in names and f'ContentType="{main_type}"' in declared:
            return content_type
    return None


def _detect(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if head.startswith(b"PK\x03\x04"):
        content_type = ooxml_content_type(upload)
        upload.seek(0)
        return content_type
    return sniff_content_type(head)


def _digest(upload: UploadedFile) -> tuple[str, int]:
    """SHA-256 and size, streamed in chunks; stops past the size limit."""
    upload.seek(0)
    hasher, size = hashlib.sha256(), 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > MAX_SIZE:
            break
        hasher.update(chunk)
    upload.seek(0)
    return hasher.hexdigest(), size


def _clean_name(name: str) -> str:
    name = _CONTROL.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name[-255:] or "evidence"


def evidence_add(
    *, task: Task, user: AbstractBaseUser | AnonymousUser, upload: UploadedFile
) -> Evidence:
    """Store ``upload`` as evidence of ``task`` and write one event. Only the lead
    unit's managers and the office may, while the task is being worked on."""
    scope = scope_for(user)
    if not (
        scope.manages(task.lead_unit_id) or scope.can_administer(task.lead_unit_id)
    ):
        raise EvidenceRefused(
            _("只有牵头单位或领导小组办公室可以上传佐证材料。"), code="forbidden"
        )
    if task.state not in UPLOAD_STATES:
        raise EvidenceRefused(
            _("当前状态“%(s)s”不能上传佐证材料。") % {"s": task.get_state_display()},
            code="state",
        )
    if upload.size is not None and upload.size > MAX_SIZE:
        raise EvidenceRefused(_("文件超过 20 MB，请压缩后再上传。"), code="too_large")
    sha256, size = _digest(upload)
    if size > MAX_SIZE:
        raise EvidenceRefused(_("文件超过 20 MB，请压缩后再上传。"), code="too_large")
    if size == 0:
        raise EvidenceRefused(_("文件是空的。"), code="empty")
    content_type = _detect(upload)
    if content_type is None:
        raise EvidenceRefused(
            _(
                "只接受 PDF、PNG、JPEG、GIF、WebP 图片和 Word（DOCX）、Excel（XLSX）文件；"
                "该文件的内容不属于这些类型。"
            ),
            code="file_type",
        )
    evidence = Evidence(
        task=task,
        original_name=_clean_name(upload.name or ""),
        content_type=content_type,
        size=size,
        sha256=sha256,
        uploaded_by=user,
    )
    evidence.file.save("upload", upload, save=False)  # the name comes from upload_to
    try:
        with transaction.atomic():
            # The state may have moved since it was checked; the lock settles it.
            state = Task.objects.select_for_update().get(pk=task.pk).state
            if state not in UPLOAD_STATES:
                raise EvidenceRefused(
                    _("任务状态已变更，不能上传佐证材料。"), code="state"
                )
            evidence.save()
            TaskEvent.objects.create(
                task=task,
                kind=TaskEvent.Kind.EVIDENCE,
                actor=user,
                from_state=state,
                to_state=state,
                changes={
                    "evidence": {
                        "name": evidence.original_name,
                        "sha256": sha256,
                        "size": size,
                    }
                },
            )
    except BaseException:
        evidence.file.delete(save=False)  # nothing stored without its record
        raise
    return evidence


def evidence_visible_to(
    *, evidence: Evidence, user: AbstractBaseUser | AnonymousUser
) -> bool:
    """Who may see the task may see its evidence: the lead unit's office, managers
    and reviewers (through their subtree), and those of a cooperating unit."""
    scope = scope_for(user)
    task = evidence.task
    if scope.can_view(task.lead_unit_id):
        return True
    return task.cooperating_units.filter(pk__in=scope.visible_units()).exists()
