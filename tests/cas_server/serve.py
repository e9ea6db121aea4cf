"""Run the test CAS server: ``python -m tests.cas_server.serve PORT NAME:PASSWORD ...``
with ``CAS_TEST_DB`` naming its SQLite file. Creates the database, the users and
the one allowed service (anything on 127.0.0.1 or localhost, with single
log-out), then serves
on 127.0.0.1:PORT until stopped."""

from __future__ import annotations

import os
import sys


def main(port: str, *users: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.cas_server.settings"
    import django

    django.setup()
    from cas_server.models import ServicePattern
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    for entry in users:
        username, password = entry.split(":", 1)
        User.objects.create_user(username=username, password=password)
    ServicePattern.objects.create(
        pos=1,
        name="survey_service",
        pattern=r"^http://(127\.0\.0\.1|localhost):\d+/",
        single_log_out=True,
    )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


if __name__ == "__main__":
    main(*sys.argv[1:])
