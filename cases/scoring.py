"""Re-scoring a case's priority from its current state; a manual priority is never touched."""

from datetime import datetime, timedelta

from cases.models import Case, CaseEvent, Status
from cases.priority import (
    WAITING_MAX,
    WAITING_POINTS_PER_HOUR,
    PriorityInputs,
    rises_after,
    score,
)
from cases.timeline import event

# The reason names the hours waited: the score is looked at again each hour until the
# waiting points reach their cap, and at each moment waiting lifts it into a higher level.
WAITING_STEP = 3600.0
WAITING_CAPPED_AT = WAITING_MAX / WAITING_POINTS_PER_HOUR * 3600
WAITING_STATUSES = (Status.NEW, Status.OPEN)
# Fields a rescore writes.
SCORE_FIELDS = [
    "priority",
    "priority_score",
    "priority_reason",
    "urgency_words",
    "priority_check_at",
]


def rescore(case: Case, *, words: tuple[str, ...] | None = None, now: datetime) -> bool:
    """Update priority, score and reason from the case; True when the priority level moved.
    `words`: the urgency words of the customer's recent texts (`urgency_words_of`), kept on
    the case; None scores with the words kept (nothing new from the customer)."""
    if words is None:
        words = tuple(case.urgency_words.split())
    else:
        case.urgency_words = " ".join(words)
    waiting = (now - case.awaiting_since).total_seconds() if case.awaiting_since else 0.0
    inputs = PriorityInputs(
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
    result = score(inputs)
    case.priority_score = result.value
    case.priority_reason = result.reason[:500]
    case.priority_check_at = _next_check(case, inputs)
    if case.is_priority_manual:
        return False
    moved = case.priority != result.priority
    case.priority = result.priority
    return moved


def rescore_logged(
    case: Case, *, words: tuple[str, ...] | None = None, now: datetime
) -> CaseEvent | None:
    """`rescore`, and the unsaved timeline entry of the move when the level moved."""
    before = case.priority
    if not rescore(case, words=words, now=now):
        return None
    return event(
        case,
        "priority",
        at=now,
        before=before,
        after=case.priority,
        text=case.priority_reason,
        automatic=True,
    )


def _next_check(case: Case, inputs: PriorityInputs) -> datetime | None:
    """When waiting next changes what the score shows: the next whole hour waited, or the
    moment it lifts the level, whichever comes first; None once waiting counts no more."""
    waited = inputs.waiting_seconds
    waiting = case.awaiting_since is not None and case.paused_at is None
    if not waiting or case.status not in WAITING_STATUSES or waited >= WAITING_CAPPED_AT:
        return None
    step = min(WAITING_CAPPED_AT, (waited // WAITING_STEP + 1) * WAITING_STEP)
    rises = rises_after(inputs)
    if rises is not None:
        step = min(step, rises)
    return case.awaiting_since + timedelta(seconds=step)
