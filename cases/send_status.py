"""A reply's journey to the platform, shown where the agent works.

The outbox (in inbox, which knows nothing of cases) reports every status change of an
outbound message through `CAREMGR_SEND_STATUS_HANDLER`. Here that becomes a live
`message.updated` event for the case's browsers, and, when a reply failed for good, a
timeline entry with the platform's reason: an unsent reply must never pass for a sent one,
and the agent who sees it can press "Resend".
"""

from django.db import transaction

from cases import events
from cases.timeline import record
from inbox.models import Message, SendStatus


def send_status_changed(message_id: int, status: str) -> None:
    message = (
        Message.objects.select_related("case", "account", "case__account")
        .filter(pk=message_id, case__isnull=False)
        .first()
    )
    if message is None:
        return  # not filed in a case: nobody is looking at it
    case = message.case
    with transaction.atomic():
        seq = None
        if status == SendStatus.FAILED:
            seq = record(case, "reply.failed", message=message, text=message.error).pk
        events.message_updated(case, message, seq)
