"""Celery tasks of the inbox; each is a thin wrapper around one operation."""

from celery import shared_task


@shared_task(name="inbox.tasks.process_delivery", acks_late=True)
def process_delivery(delivery_id: int) -> None:
    from inbox.handoff import delivery_handler

    delivery_handler()(delivery_id)


@shared_task(name="inbox.tasks.drain_intake", ignore_result=True)
def drain_intake(limit: int = 0) -> int:
    """Take a batch of queued delivery ids and file them together.

    A full batch means a backlog: another drain is queued before this one files, so a
    second worker takes the next batch meanwhile. A short batch puts the queue to sleep
    (`intake_queue.settle`) until the next webhook wakes it.
    """
    from django.conf import settings

    from inbox import intake_queue
    from inbox.handoff import deliveries_handler

    limit = limit or settings.CAREMGR_INTAKE_BATCH
    ids = intake_queue.take(limit)
    if len(ids) >= limit or intake_queue.settle():
        drain_intake.delay(limit)
    if ids:
        deliveries_handler()(ids)
    return len(ids)


@shared_task(name="inbox.tasks.send_message", acks_late=True)
def send_message(message_id: int) -> str:
    """One attempt at an outbound message; a redelivered task finds it claimed and stops."""
    from inbox.models import Message
    from inbox.outbound.outbox import send_now

    try:
        return send_now(message_id)
    except Message.DoesNotExist:
        return ""


@shared_task(name="inbox.tasks.drain_outbox")
def drain_outbox(limit: int = 100) -> int:
    """Periodic sweep: due retries and messages a dead worker left behind."""
    from inbox.outbound.outbox import drain_outbox as drain

    return drain(limit)


@shared_task(name="inbox.tasks.redeliver_stale", ignore_result=True)
def redeliver_stale() -> int:
    from inbox.recovery import redeliver_stale as run

    return run()
