"""Writing the case timeline: every change is one CaseEvent (who, what, when)."""

from datetime import datetime
from typing import Any

from django.utils import timezone

from cases.models import Case, CaseEvent
from inbox.bulk import new_instance


def event(
    case: Case,
    kind: str,
    *,
    actor=None,
    at: datetime | None = None,
    before: Any = "",
    after: Any = "",
    text: str = "",
    message=None,
    automatic: bool = False,
    data: dict | None = None,
) -> CaseEvent:
    """An unsaved timeline entry; callers save it or bulk-create a batch of them."""
    return new_instance(
        CaseEvent,
        {
            "case_id": case.pk,
            "kind": kind,
            "actor_id": actor.pk if actor is not None else None,
            "at": at or timezone.now(),
            "before": _label(before),
            "after": _label(after),
            "text": text,
            "message_id": message.pk if message is not None else None,
            "is_automatic": automatic,
            "data": data or {},
        },
        {"case": case, "actor": actor, "message": message},
    )


def record(case: Case, kind: str, **fields) -> CaseEvent:
    entry = event(case, kind, **fields)
    entry.save()
    return entry


def _label(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "get_username"):
        return value.get_username()
    return str(value)[:200]
