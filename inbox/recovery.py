"""Picking up deliveries that were stored but never processed.

A delivery is stored before it is handed over; if the process dies between the two (or a
queue loses the task), the row stays `received`. This finds such rows after a grace period
and hands them over again; processing is idempotent, so a late duplicate hand-over is
harmless.
"""

from datetime import timedelta

from django.db import OperationalError
from django.utils import timezone

from inbox.handoff import dispatch
from inbox.models import Delivery, DeliveryStatus

GRACE = timedelta(minutes=2)
# A delivery that met a busy database this many times is failed: something else is wrong.
BUSY_ATTEMPTS = 5
# PostgreSQL: deadlock, serialization failure, lock timeout. SQLite: busy, locked.
BUSY_SQLSTATES = {"40P01", "40001", "55P03"}
BUSY_SQLITE_CODES = {5, 6}


def is_busy_database(exc: BaseException) -> bool:
    """The database gave up waiting for a lock: the same work goes through a moment later.

    Under load SQLite's `BEGIN IMMEDIATE` can wait out its busy timeout, and two PostgreSQL
    workers assigning cases can deadlock on agent rows; neither says anything about the
    delivery itself.
    """
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and (
        getattr(cause, "sqlstate", None) in BUSY_SQLSTATES
        or getattr(cause, "sqlite_errorcode", None) in BUSY_SQLITE_CODES
    )


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
