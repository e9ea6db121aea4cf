"""Ballot codes: 16 characters of an unambiguous alphabet (80 bits), stored only as a keyed hash."""

from __future__ import annotations

import secrets

from django.utils.crypto import salted_hmac

# Crockford's base 32: no I, L, O or U, so nothing is misread on a printed slip.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 × 5 bits = 80 bits
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


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


def _slips(point, codes: list[str]) -> list:
    from django.conf import settings

    from .posters import BallotSlip

    return [
        BallotSlip(
            code=grouped(code),
            # The code in the fragment, which no browser sends: it reaches the
            # server only in a form's body (questionnaires/respond.py).
            url=f"{settings.PUBLIC_BASE_URL}/b/#{code}",
            unit_name=point.unit.name,
            campaign_title=point.campaign.title,
        )
        for code in codes
    ]


def slips_pdf(point, codes: list[str]) -> bytes:
    """Printable A4 sheets of slips for a point's new codes (the only copy of them)."""
    from .posters import ballot_sheets_pdf

    return ballot_sheets_pdf(_slips(point, codes), title=point.campaign.title)


def round_slips_pdf(title: str, issued: list[tuple[object, list[str]]]) -> bytes:
    """One PDF of the new codes of several points (``(point, codes)`` pairs), each
    point's slips on sheets of their own (the only copy of the codes)."""
    from .posters import ballot_sheets_by_unit_pdf

    groups = [_slips(point, codes) for point, codes in issued]
    return ballot_sheets_by_unit_pdf(groups, title=title)
