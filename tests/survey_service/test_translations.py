"""Every string the pages show in Chinese has its English, and the compiled
catalogue is the one the .po file says.

The project's sources are copied to a temporary folder and Django's
``makemessages`` is run there (it rewrites the .po in place, so never in the work
tree): a string added to a template or to Python without its English shows up as
an untranslated or fuzzy entry of the merged catalogue. Needs GNU gettext
(``msgmerge``, ``msgattrib``, ``msgfmt``); .ci/run installs it.
"""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import SkipTest

from django.conf import settings
from django.test import SimpleTestCase

ROOT = Path(settings.BASE_DIR)
CATALOGUE = Path("locale/en/LC_MESSAGES")
COPIED = ("manage.py", "locale", "templates", "survey_service", "organizations",
          "questionnaires", "analysis", "rectification")  # fmt: skip


def _tools() -> None:
    missing = [t for t in ("msgmerge", "msgattrib", "msgfmt") if not shutil.which(t)]
    if missing:
        raise SkipTest(f"GNU gettext is not installed ({', '.join(missing)})")


def _entries(po_output: str) -> list[str]:
    """The msgids of a msgattrib listing, the header (an empty msgid) left out."""
    entries = []
    for block in po_output.split("\n\n"):
        parts: list[str] = []
        in_msgid = False
        for line in block.splitlines():
            if line.startswith("msgid "):
                in_msgid = True
                line = line.removeprefix("msgid ")
            elif not line.startswith('"'):
                in_msgid = False
            if in_msgid:
                parts.append(line.strip('"'))
        if "".join(parts):
            entries.append("".join(parts))
    return entries


class TranslationTests(SimpleTestCase):
    def test_every_string_has_its_english(self):
        _tools()
        with tempfile.TemporaryDirectory(prefix="messages-") as folder:
            copy = Path(folder)
            for name in COPIED:
                source = ROOT / name
                if source.is_dir():
                    shutil.copytree(
                        source,
                        copy / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.mo"),
                    )
                else:
                    shutil.copy2(source, copy / name)
            subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "makemessages",
                    "-l",
                    "en",
                    "--no-obsolete",
                ],  # fmt: skip
                cwd=copy,
                check=True,
                capture_output=True,
                env={"SECRET_KEY": "messages-check", "PATH": "/usr/bin:/bin"},
            )
            merged = copy / CATALOGUE / "django.po"
            listings = {
                flag: subprocess.run(
                    ["msgattrib", flag, str(merged)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                for flag in ("--untranslated", "--only-fuzzy")
            }
        self.assertEqual(
            _entries(listings["--untranslated"]),
            [],
            "strings without English: add them to locale/en/LC_MESSAGES/django.po",
        )
        self.assertEqual(
            _entries(listings["--only-fuzzy"]),
            [],
            "fuzzy entries (a msgid changed): check their English",
        )

    def test_the_compiled_catalogue_matches_the_po_file(self):
        _tools()
        with tempfile.TemporaryDirectory(prefix="messages-") as folder:
            compiled = Path(folder) / "django.mo"
            subprocess.run(
                [
                    "msgfmt",
                    "--check",
                    "-o",
                    str(compiled),
                    str(ROOT / CATALOGUE / "django.po"),
                ],  # fmt: skip
                check=True,
                capture_output=True,
            )
            with (
                compiled.open("rb") as fresh,
                (ROOT / CATALOGUE / "django.mo").open("rb") as committed,
            ):
                expected = gettext.GNUTranslations(fresh)._catalog
                actual = gettext.GNUTranslations(committed)._catalog
        self.assertEqual(
            actual,
            expected,
            "django.mo is stale: run `manage.py compilemessages` and commit it",
        )
