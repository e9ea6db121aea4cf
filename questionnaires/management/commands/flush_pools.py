from __future__ import annotations

from django.core.management.base import BaseCommand

from questionnaires.models import Campaign, PendingSubmission
from questionnaires.pool import pool_flush, pool_flush_points


class Command(BaseCommand):
    help = (
        "Write out the anonymity pools: whole for rounds that have closed (a close "
        "interrupted before its pools were written), and any batch that is due for "
        "rounds still open. Safe to run at any time, and twice at once."
    )

    def handle(self, *args: object, **options: object) -> None:
        point_ids = set(
            PendingSubmission.objects.values_list("point_id", flat=True).distinct()
        )
        finished = set(
            Campaign.objects.exclude(
                status__in=(Campaign.Status.DRAFT, Campaign.Status.OPEN)
            )
            .filter(points__in=point_ids)
            .values_list("points", flat=True)
        )
        written = pool_flush_points(sorted(finished))
        for point_id in sorted(point_ids - finished):
            written += pool_flush(point_id=point_id)
        self.stdout.write(
            f"flush_pools: {written} responses written from {len(point_ids)} pools; "
            f"{PendingSubmission.objects.count()} waiting"
        )
