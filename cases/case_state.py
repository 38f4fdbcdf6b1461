"""How one message changes its case: counters, preview, sentiment, status and SLA clocks.

The intake applies each new message once; merge and split rebuild a case by applying its
messages again from the start, so both paths share this one rule.
"""

from cases import sla
from cases.business_time import BusinessHours, business_duration
from cases.models import Case, ResponseTime, Status, Tier
from inbox.bulk import insert_rows, new_instance
from inbox.models import Direction, Message

PREVIEW_LENGTH = 280
# Weight of the newest inbound message in the case's running sentiment.
SENTIMENT_WEIGHT = 0.6


def apply_message(
    case: Case,
    message: Message,
    tier: Tier,
    hours: BusinessHours | None,
    *,
    responds: bool = True,
) -> None:
    """`responds=False` for outbound messages that answer nothing (a survey invitation)."""
    case.message_count += 1
    if case.last_message_at is None or message.created_at >= case.last_message_at:
        case.last_message_at = message.created_at
        case.last_message_preview = message.text[:PREVIEW_LENGTH]
        case.last_message_direction = message.direction
    if case.updated_at is None or message.created_at > case.updated_at:
        case.updated_at = message.created_at
    if message.direction == Direction.IN:
        _customer_message(case, message, tier, hours)
    elif responds:
        if not message.is_automatic:
            _measure_response(case, message, tier, hours)
        sla.responded(case, message.created_at, automatic=message.is_automatic)
        if case.status == Status.NEW and not message.is_automatic:
            case.status = Status.OPEN


def _measure_response(
    case: Case, message: Message, tier: Tier, hours: BusinessHours | None
) -> None:
    """A person answered a waiting customer: keep how long that took, in business time."""
    waited_since = case.awaiting_since
    if waited_since is None or message.created_at < waited_since:
        return
    first = case.first_response_at is None
    seconds = business_duration(waited_since, message.created_at, hours).total_seconds()
    target = tier.first_response_minutes if first else tier.next_response_minutes
    if first:
        case.first_response_seconds = seconds
    pending_responses(case).append(
        new_instance(
            ResponseTime,
            {
                "case_id": case.pk,
                "kind": ResponseTime.FIRST if first else ResponseTime.NEXT,
                "at": message.created_at,
                "waited_since": waited_since,
                "seconds": seconds,
                "target_seconds": target * 60 if target is not None else None,
                "agent_id": message.sent_by_id,
                "tier": tier.slug,
                "team_id": case.team_id,
                "account_id": case.account_id,
                "channel": case.channel,
            },
            {"case": case},
        )
    )


def pending_responses(case: Case) -> list[ResponseTime]:
    """Responses measured on this case object and not written yet."""
    if not hasattr(case, "_new_responses"):
        case._new_responses = []
    return case._new_responses


def write_responses(cases) -> None:
    rows = []
    for case in cases:
        rows.extend(pending_responses(case))
        case._new_responses = []
    insert_rows(rows)


def _customer_message(
    case: Case, message: Message, tier: Tier, hours: BusinessHours | None
) -> None:
    first = case.inbound_count == 0
    case.inbound_count += 1
    if first:
        case.sentiment_polarity = message.sentiment_polarity
        case.sentiment_trend = 0.0
        case.language = message.language
        case.is_public = message.is_public
    else:
        before = case.sentiment_polarity
        case.sentiment_polarity = round(
            SENTIMENT_WEIGHT * message.sentiment_polarity + (1 - SENTIMENT_WEIGHT) * before, 4
        )
        case.sentiment_trend = round(case.sentiment_polarity - before, 4)
    case.sentiment = message.sentiment_label or "neutral"
    if case.status == Status.PENDING:
        case.status = Status.OPEN
        sla.resume(case, hours, message.created_at)
    if first:
        sla.start_clocks(case, tier, hours, message.created_at)
    else:
        sla.customer_wrote(case, tier, hours, message.created_at)


def replay(
    case: Case, messages: list[Message], tier: Tier, hours: BusinessHours | None
) -> list[Message]:
    """Derive the case again from all its `messages`, applied in the order they were
    written: what a case shows does not depend on the order they reached us in. The
    responses are measured again (the caller deletes the rows stored for the case before
    it writes them); what the SLA monitor fired stays fired. Returns them in that order."""
    fired = sla.fired_flags(case)
    reset(case)
    ordered = sorted(messages, key=lambda m: m.created_at)  # stable: as given within a time
    first_in = next((m for m in ordered if m.direction == Direction.IN), None)
    if first_in is not None:
        case.created_at = min(case.created_at, first_in.created_at)
    for message in ordered:
        # A reply written before the customer's first message answers none of them.
        answers = first_in is None or message.created_at >= first_in.created_at
        apply_message(case, message, tier, hours, responds=answers)
    sla.keep_fired(case, fired)
    return ordered


def reset(case: Case) -> None:
    """Forget everything derived from messages, before applying them again."""
    case.message_count = case.inbound_count = 0
    case.last_message_at = None
    case.last_message_preview = case.last_message_direction = ""
    case.first_response_at = case.automated_response_at = case.awaiting_since = None
    case.first_response_seconds = None
    case._new_responses = []
    case.next_response_due = None
    case.sentiment_polarity = case.sentiment_trend = 0.0


DERIVED_FIELDS = [
    "message_count",
    "inbound_count",
    "last_message_at",
    "last_message_preview",
    "last_message_direction",
    "updated_at",
    "status",
    "sentiment",
    "sentiment_polarity",
    "sentiment_trend",
    "language",
    "is_public",
    "first_response_at",
    "first_response_seconds",
    "automated_response_at",
    *sla.SLA_FIELDS,
]
