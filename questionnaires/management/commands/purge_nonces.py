from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from questionnaires.services import nonces_purge


class Command(BaseCommand):
    help = (
        "Delete submission nonces older than NONCE_RETENTION_DAYS. Run daily; safe "
        "to run at any time, and twice at once."
    )

    def handle(self, *args: object, **options: object) -> None:
        deleted = nonces_purge()
        self.stdout.write(
            f"purge_nonces: {deleted} nonces older than "
            f"{settings.NONCE_RETENTION_DAYS} days deleted"
        )
