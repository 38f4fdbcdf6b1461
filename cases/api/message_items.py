"""A message as the API writes it (`MessageSerializer`), built straight from the instance.

Live events carry every new message of a delivery, and DRF's serializer costs more per
message than the rest of its event; this writes the same JSON-ready dict (the tests hold
the two equal), each moment in the current time zone as DRF writes it.
"""

from django.utils import timezone

from cases.api.rows import moment_writer
from inbox.models import Message


def message_items(messages: list[Message]) -> list[dict]:
    """`MessageSerializer(messages, many=True).data`, as plain dicts."""
    written = moment_writer(timezone.get_current_timezone())
    return [
        {
            "id": m.pk,
            "case": m.case_id,
            "account": m.account.slug,
            "platform": m.channel,
            "external_id": m.external_id,
            "direction": m.direction,
            "kind": m.kind,
            "is_public": m.is_public,
            "text": m.text,
            "author": {"handle": m.author_handle, "name": m.author_name},
            "created_at": written(m.created_at),
            "language": m.language,
            "sentiment": {
                "label": m.sentiment_label,
                "polarity": float(m.sentiment_polarity),
                "subjectivity": float(m.sentiment_subjectivity),
            },
            "status": m.status,
            "is_automatic": m.is_automatic,
            "sent_by": m.sent_by_id,
            "in_reply_to": m.in_reply_to,
            "conversation_id": m.conversation_id,
            "error": m.error,
        }
        for m in messages
    ]
