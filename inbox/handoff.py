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


def hand_over(*delivery_ids: int) -> None:
    """Process the deliveries once the transaction that stored them has committed."""
    transaction.on_commit(lambda: dispatch(*delivery_ids))


def dispatch(*delivery_ids: int) -> None:
    """Process now (inline) or queue for a worker.

    On Redis the ids go onto the intake list that workers drain in batches
    (`inbox.intake_queue`), in one round trip; on any other broker it is one task per
    delivery.
    """
    if settings.CAREMGR_TASKS_INLINE:
        for delivery_id in delivery_ids:
            delivery_handler()(delivery_id)
        return
    from inbox import intake_queue
    from inbox.tasks import drain_intake, process_delivery

    try:
        if not intake_queue.is_available():
            for delivery_id in delivery_ids:
                process_delivery.delay(delivery_id)
        elif intake_queue.push(*delivery_ids):
            drain_intake.delay()
    except Exception:  # broker down: the stored rows are picked up by redeliver_stale
        log.warning("deliveries %s stored but not queued", delivery_ids, exc_info=True)


@cache
def deliveries_handler():
    """`handler(delivery_ids) -> int`: files many stored deliveries at once, each as
    `delivery_handler` would; a worker calls it with a batch taken from the intake queue."""
    return import_string(settings.CAREMGR_DELIVERIES_HANDLER)


@cache
def batch_handler():
    """`handler(account, parsed_messages, *, delivery=None, live=True, sentiments=None)
    -> result` with `.new` (stored messages) and `.duplicates`; runs inside the caller's
    transaction. `sentiments` are the messages' scores when the caller computed them ahead."""
    return import_string(settings.CAREMGR_BATCH_HANDLER)


def prepare() -> None:
    """Load the handlers and build the sentiment engine now, in a process about to take
    deliveries or replies (any server, a worker): cold, the first delivery (or reply) paid
    for it, about half a second of CPU (TextBlob's import, the lexicons, the detector) and as
    much again on the first message in another language; the connectors were imported on
    their first delivery too. Built before a worker forks, it is inherited."""
    from inbox.connectors import get_connector
    from inbox.models import Platform
    from sentiment.pool import warm_up

    delivery_handler()
    deliveries_handler()
    batch_handler()
    for platform in Platform.values:
        get_connector(platform)
    warm_up()


@cache
def import_text_ahead():
    """`(work_out, found)`: `work_out(text)` runs in an import's scoring workers beside the
    sentiment; `found(texts, results)` hands its results over before the batch is filed."""
    work_out, found = settings.CAREMGR_IMPORT_TEXT_AHEAD
    return import_string(work_out), import_string(found)
