"""Re-scoring a case's priority from its current state; a manual priority is never touched."""

from datetime import datetime

from cases.models import Case
from cases.priority import PriorityInputs, score


def rescore(case: Case, *, words: tuple[str, ...], now: datetime) -> bool:
    """Update priority, score and reason from the case; True when the priority level moved.
    `words`: the urgency words of the customer's recent texts (`urgency_words_of`)."""
    waiting = (now - case.awaiting_since).total_seconds() if case.awaiting_since else 0.0
    result = score(
        PriorityInputs(
            polarity=case.sentiment_polarity,
            trend=case.sentiment_trend,
            words=words,
            followers=case.contact.followers,
            is_public=case.is_public,
            tier=case.tier_id,
            repeat_contacts=max(case.inbound_count - 1, 0) + case.reopen_count,
            waiting_seconds=max(waiting, 0.0),
            floor=case.priority_floor,
            floor_source=case.priority_floor_source or "routing",
        )
    )
    case.priority_score = result.value
    case.priority_reason = result.reason[:500]
    if case.is_priority_manual:
        return False
    moved = case.priority != result.priority
    case.priority = result.priority
    return moved
