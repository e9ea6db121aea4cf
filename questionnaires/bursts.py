"""Bursts of submissions at a point (METHODS.md §5), detected at submit time.

Responses keep no fine timestamps, so the counts live in the cache: one counter
per point and minute, kept two hours. A minute whose count reaches ``BURST_MIN``
and is ``BURST_FACTOR`` times the point's average over the previous hour (plus
one) marks the point for review with the day — an assembly scanning one poster
looks like this too, which is why it is a mark for a person to check, not a
rejection.
"""

from __future__ import annotations

from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from . import counters

BURST_MIN = 20
BURST_FACTOR = 10
HISTORY_MINUTES = 60
KEEP_SECONDS = 2 * 3600  # a minute's counter, kept for the hour looked back on


def _key(point_id: int, minute: int) -> str:
    return f"burst:{point_id}:{minute}"


def minute_key(point_id: int, now: datetime) -> str:
    """The counter of ``now``'s minute at the point (counted with others in one
    round trip by questionnaires.services)."""
    return _key(point_id, int(now.timestamp() // 60))


def record_submission(point_id: int, now: datetime | None = None) -> bool:
    """Count one stored submission; True when this minute is a burst."""
    now = now or timezone.now()
    count = counters.count(minute_key(point_id, now), timeout=KEEP_SECONDS)
    return is_burst(point_id, now, count)


def is_burst(point_id: int, now: datetime, count: int) -> bool:
    """Whether ``count`` submissions in ``now``'s minute make it a burst."""
    # Look back only at the thresholds, so most submissions cost one increment.
    if count < BURST_MIN or count % BURST_MIN:
        return False
    minute = int(now.timestamp() // 60)
    history = cache.get_many(
        [_key(point_id, minute - i) for i in range(1, HISTORY_MINUTES + 1)]
    )
    average = sum(history.values()) / HISTORY_MINUTES
    return count >= BURST_FACTOR * (average + 1)
