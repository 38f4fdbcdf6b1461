"""The single seam from inbox to the work pipeline.

inbox stores a delivery and hands its id over here; what processes it is configured in
settings (`CAREMGR_DELIVERY_HANDLER`), so inbox never imports cases. With the embedded
default the handler runs right after the storing transaction commits; with a queue it
runs in a Celery worker.
"""

import logging
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


@cache
def delivery_handler():
    return import_string(settings.CAREMGR_DELIVERY_HANDLER)


def hand_over(delivery_id: int) -> None:
    """Process the delivery once the transaction that stored it has committed."""
    transaction.on_commit(lambda: dispatch(delivery_id))


def dispatch(delivery_id: int) -> None:
    """Process now (inline) or queue for a worker."""
    if settings.CAREMGR_TASKS_INLINE:
        delivery_handler()(delivery_id)
    else:
        from inbox.tasks import process_delivery

        try:
            process_delivery.delay(delivery_id)
        except Exception:  # broker down: the stored row is picked up by redeliver_stale
            log.warning("delivery %s stored but not queued", delivery_id, exc_info=True)


@cache
def batch_handler():
    """`handler(account, parsed_messages, *, delivery=None, live=True) -> result` with
    `.new` (stored messages) and `.duplicates`; runs inside the caller's transaction."""
    return import_string(settings.CAREMGR_BATCH_HANDLER)
