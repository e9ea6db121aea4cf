"""Ballot codes: 16 characters of an unambiguous alphabet (80 bits), stored only as a keyed hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.utils.crypto import salted_hmac

# Crockford's base 32: no I, L, O or U, so nothing is misread on a printed slip.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 × 5 bits = 80 bits
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
# RFC 4648 base 32 digit by digit into ours: 10 random bytes are 16 digits.
_FROM_BASE32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())

# How many codes one run may issue. A web request builds its PDF in memory
# while the browser waits: 20,000 slips are about 3 s of CPU, 10 MB of PDF,
# and several times that on a loaded server. The issue_ballots command streams
# its PDF to a file; 100,000 slips take about 15 s of CPU and 210 MB at most.
MAX_PER_REQUEST = 20_000
MAX_PER_COMMAND = 100_000


def new_code() -> str:
    """80 random bits as 16 digits of ``ALPHABET``, each digit uniform."""
    return base64.b32encode(secrets.token_bytes(10)).translate(_FROM_BASE32).decode()


def normalise(raw: object) -> str | None:
    """The canonical code from what a person typed or a QR carried; None if malformed."""
    if not isinstance(raw, str):
        return None
    code = raw.upper().replace("-", "").replace(" ", "").translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def code_hash(code: str) -> str:
    """Keyed with SECRET_KEY: a copy of the database alone cannot test guesses."""
    return salted_hmac("ballot-code", code, algorithm="sha256").hexdigest()


def code_hashes(codes: Iterable[str]) -> Iterator[str]:
    """``code_hash`` of each code, deriving the key once (as ``salted_hmac``
    does: SHA-256 of the salt and SECRET_KEY) instead of once per code."""
    from django.conf import settings
    from django.utils.encoding import force_bytes

    key = hashlib.sha256(b"ballot-code" + force_bytes(settings.SECRET_KEY)).digest()
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    for code in codes:
        mac = keyed.copy()
        mac.update(code.encode())
        yield mac.hexdigest()


def _slips(point, codes: Iterable[str]) -> Iterator:
    from django.conf import settings

    from .ballot_sheets import BallotSlip

    base = settings.PUBLIC_BASE_URL
    unit_name, campaign_title = point.unit.name, point.campaign.title
    for code in codes:
        yield BallotSlip(
            code=grouped(code),
            # The code in the fragment, which no browser sends: it reaches the
            # server only in a form's body (questionnaires/respond.py).
            url=f"{base}/b/#{code}",
            unit_name=unit_name,
            campaign_title=campaign_title,
        )


def slips_pdf(point, codes: list[str]) -> bytes:
    """Printable A4 sheets of slips for a point's new codes (the only copy of them)."""
    from .ballot_sheets import ballot_sheets_pdf

    return ballot_sheets_pdf(list(_slips(point, codes)), title=point.campaign.title)


def slips_pdf_write(out: BinaryIO, point, codes: Iterable[str]) -> int:
    """As :func:`slips_pdf`, written to ``out`` page by page (the document is
    never held in memory); returns the number of pages."""
    from .ballot_sheets import ballot_sheets_write

    return ballot_sheets_write(out, [_slips(point, codes)], title=point.campaign.title)


def round_slips_pdf(title: str, issued: list[tuple[object, list[str]]]) -> bytes:
    """One PDF of the new codes of several points (``(point, codes)`` pairs), each
    point's slips on sheets of their own (the only copy of the codes)."""
    from .ballot_sheets import ballot_sheets_by_unit_pdf

    groups = [list(_slips(point, codes)) for point, codes in issued]
    return ballot_sheets_by_unit_pdf(groups, title=title)
