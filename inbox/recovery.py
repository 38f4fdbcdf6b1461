"""Picking up deliveries that were stored but never processed.

A delivery is stored before it is handed over; if the process dies between the two (or a
queue loses the task), the row stays `received`. This finds such rows after a grace period
and hands them over again; processing is idempotent, so a late duplicate hand-over is
harmless.
"""

from datetime import timedelta

from django.utils import timezone

from inbox.handoff import dispatch
from inbox.models import Delivery, DeliveryStatus

GRACE = timedelta(minutes=2)


def redeliver_stale(*, grace: timedelta = GRACE, limit: int = 500) -> int:
    cutoff = timezone.now() - grace
    stale = list(
        Delivery.objects.filter(status=DeliveryStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in stale:
        dispatch(delivery_id)
    return len(stale)
