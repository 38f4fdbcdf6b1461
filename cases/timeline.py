"""Writing the case timeline: every change is one CaseEvent (who, what, when)."""

from datetime import datetime
from typing import Any

from django.utils import timezone

from cases.models import Case, CaseEvent


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
    return CaseEvent(
        case=case,
        kind=kind,
        actor=actor,
        at=at or timezone.now(),
        before=_label(before),
        after=_label(after),
        text=text,
        message=message,
        is_automatic=automatic,
        data=data or {},
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
