"""Ballot codes never reach our logs.

A slip printed before the code moved into the URL's fragment still opens
``/b/<code>/``, and Django names the path in its own records: "Not Found: /b/…/"
(``django.request``), the CSRF refusal (``django.security.csrf``), runserver's
request lines (``django.server``). ``RedactBallotCodes`` rewrites each record it
sees before any handler formats it: every ``/b/<segment>`` becomes ``/b/…`` and
every ``ballot``/``code`` field (``ballot=…`` in a query or form body, ``"code":
"…"`` in JSON, or a key of a mapping passed as the record's arguments) loses its
value. The message is formatted once, redacted, and kept without arguments, so a
formatter cannot bring the raw value back; a traceback is formatted and redacted
too.

A filter on a logger sees only the records logged on that very logger, so
settings.LOGGING puts this one on each logger that names request paths and on the
console handler, for any other record that reaches it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

REDACTED = "…"
_FIELDS = ("ballot", "code")
# /b/<segment>: whatever follows /b/ up to the next slash, query, fragment,
# space or quote. /b/ alone (the ballot entry page) has nothing to hide.
_BALLOT_PATH = re.compile(r"(/b/)[^/?#\s\"'<>]+")
# ballot=… or code=… in a query string or a form body.
_FORM_FIELD = re.compile(r"(?i)(\b(?:ballot|code)=)[^&\s\"'<>]*")
# "ballot": "…" or 'code': '…' in JSON or a dict's repr.
_QUOTED_FIELD = re.compile(
    r"(?i)([\"'](?:ballot|code)[\"']\s*:\s*)([\"'])(?:(?!\2).)*\2"
)


def redact(text: str) -> str:
    text = _BALLOT_PATH.sub(rf"\g<1>{REDACTED}", text)
    text = _FORM_FIELD.sub(rf"\g<1>{REDACTED}", text)
    return _QUOTED_FIELD.sub(rf"\g<1>\g<2>{REDACTED}\g<2>", text)


class RedactBallotCodes(logging.Filter):
    """Redacts ballot codes in place; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, Mapping):
            record.args = {
                key: REDACTED if str(key).lower() in _FIELDS else value
                for key, value in args.items()
            }
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep what it holds, as text
            message = f"{record.msg} {args!r}"
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
