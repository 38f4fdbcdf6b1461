"""SLA clocks: due times per tier in business time, warnings, pauses, and what counts as a
response.

All clocks run on the messages' own timestamps. A team's business hours stop the clock
outside them; `pending` (waiting on the customer) pauses every clock until the customer
writes again or an agent reopens the case. Each target has a due time and a warning time
(the tier's warning percent of the target, in business time); `sla_check_at` is the next
moment the monitor has something to fire, so it finds due work with one indexed query.
"""

from datetime import datetime, timedelta

from cases.business_time import BusinessHours, add_business_time, business_duration
from cases.models import Case, Status, Team, Tier

TARGETS = ("first_response", "next_response", "resolution")


def hours_of(team: Team | None) -> BusinessHours | None:
    """The business hours of a team (None: open 24/7). Reads prefetched `hours` if present."""
    if team is None:
        return None
    rows = list(team.hours.all())
    if not rows:
        return None
    return BusinessHours(
        timezone=team.timezone,
        intervals=tuple((h.weekday, h.opens, h.closes) for h in rows),
    )


def due_after(start: datetime, minutes: int | None, hours: BusinessHours | None) -> datetime | None:
    if minutes is None:
        return None
    return add_business_time(start, timedelta(minutes=minutes), hours)


def _set_target(
    case: Case,
    name: str,
    start: datetime | None,
    minutes: int | None,
    tier: Tier,
    hours: BusinessHours | None,
) -> None:
    """Start one target's clock at `start` (None or no minutes: the target is off)."""
    if start is None or minutes is None:
        setattr(case, f"{name}_due", None)
        setattr(case, f"{name}_warn_at", None)
    else:
        setattr(case, f"{name}_due", due_after(start, minutes, hours))
        warn_minutes = minutes * tier.warning_percent / 100
        setattr(
            case,
            f"{name}_warn_at",
            add_business_time(start, timedelta(minutes=warn_minutes), hours),
        )
    setattr(case, f"{name}_warned", False)
    setattr(case, f"{name}_breached", False)


def start_clocks(case: Case, tier: Tier, hours: BusinessHours | None, start: datetime) -> None:
    """Due times of a fresh case whose customer first wrote at `start`."""
    _set_target(case, "first_response", start, tier.first_response_minutes, tier, hours)
    _set_target(case, "resolution", start, tier.resolution_minutes, tier, hours)
    _set_target(case, "next_response", None, None, tier, hours)
    case.awaiting_since = start
    refresh_sla_due(case)


def reopen_clocks(case: Case, tier: Tier, hours: BusinessHours | None, at: datetime) -> None:
    """A resolved case reopened at `at`: a fresh resolution target."""
    _set_target(case, "resolution", at, tier.resolution_minutes, tier, hours)
    case.paused_at = None
    refresh_sla_due(case)


def retarget(case: Case, tier: Tier, hours: BusinessHours | None) -> None:
    """The tier changed: every running target is measured again from its start."""
    _set_target(case, "first_response", case.created_at, tier.first_response_minutes, tier, hours)
    _set_target(case, "resolution", case.created_at, tier.resolution_minutes, tier, hours)
    if case.awaiting_since and has_first_response(case):
        _set_target(
            case, "next_response", case.awaiting_since, tier.next_response_minutes, tier, hours
        )
    refresh_sla_due(case)


FIRED_FLAGS = tuple(f"{n}_{s}" for n in TARGETS for s in ("warned", "breached"))


def fired_flags(case: Case) -> dict[str, bool]:
    """The warnings and breaches the monitor has fired (they are on the timeline already)."""
    return {flag: getattr(case, flag) for flag in FIRED_FLAGS}


def keep_fired(case: Case, fired: dict[str, bool]) -> None:
    """After due times were computed again, what fired stays fired: never twice per target."""
    for flag, value in fired.items():
        if value:
            setattr(case, flag, True)
    refresh_sla_due(case)


def started_earlier(case: Case, tier: Tier, hours: BusinessHours | None) -> None:
    """An earlier customer message arrived after the case opened: the first response and
    resolution targets count from the case's (now earlier) `created_at`."""
    fired = fired_flags(case)
    _set_target(case, "first_response", case.created_at, tier.first_response_minutes, tier, hours)
    _set_target(case, "resolution", case.created_at, tier.resolution_minutes, tier, hours)
    keep_fired(case, fired)


def customer_wrote(case: Case, tier: Tier, hours: BusinessHours | None, at: datetime) -> None:
    """An inbound message: the next-response clock starts if nothing is awaiting already."""
    already_waiting = case.awaiting_since is not None and case.awaiting_since <= at
    if case.awaiting_since is None or at < case.awaiting_since:
        case.awaiting_since = at
    if has_first_response(case) and not (already_waiting and case.next_response_due):
        _set_target(
            case, "next_response", case.awaiting_since, tier.next_response_minutes, tier, hours
        )
    refresh_sla_due(case)


def has_first_response(case: Case) -> bool:
    """Answered at least once, by a person or (counting for the SLA only) by automation."""
    return case.first_response_at is not None or case.automated_response_at is not None


def responded(case: Case, at: datetime, *, automatic: bool) -> None:
    """An outbound message stops the first and next response clocks.

    An automatic reply satisfies the automated first response of tech-touch, but it is
    never a human response in the figures: `first_response_at` stays empty for it.
    """
    if case.awaiting_since is not None and at < case.awaiting_since:
        return  # a reply older than the question it would answer (clock skew, import order)
    if automatic:
        if case.automated_response_at is None:
            case.automated_response_at = at
    elif case.first_response_at is None:
        case.first_response_at = at
    case.awaiting_since = None
    case.next_response_due = case.next_response_warn_at = None
    refresh_sla_due(case)


def pause(case: Case, at: datetime) -> None:
    if case.paused_at is None:
        case.paused_at = at
    refresh_sla_due(case)


def resume(case: Case, hours: BusinessHours | None, at: datetime) -> None:
    """Shift every running due and warning time by the business time spent paused."""
    if case.paused_at is not None:
        gap = business_duration(case.paused_at, at, hours)
        if gap:
            for name in TARGETS:
                for suffix in ("due", "warn_at"):
                    field = f"{name}_{suffix}"
                    value = getattr(case, field)
                    if value is not None:
                        setattr(case, field, add_business_time(value, gap, hours))
        case.paused_at = None
    refresh_sla_due(case)


def running(case: Case) -> list[str]:
    """The targets whose clock runs now."""
    if case.status in (Status.RESOLVED, Status.CLOSED) or case.paused_at is not None:
        return []
    names = []
    if not has_first_response(case) and case.first_response_due:
        names.append("first_response")
    if case.next_response_due:
        names.append("next_response")
    if case.resolution_due:
        names.append("resolution")
    return names


def refresh_sla_due(case: Case) -> None:
    """`sla_due`, the nearest running target (shown as the countdown), and `sla_check_at`,
    the next warning or breach still to fire."""
    names = running(case)
    case.sla_due = min((getattr(case, f"{n}_due") for n in names), default=None)
    pending = []
    for name in names:
        if not getattr(case, f"{name}_breached"):
            pending.append(getattr(case, f"{name}_due"))
        if not getattr(case, f"{name}_warned") and getattr(case, f"{name}_warn_at"):
            pending.append(getattr(case, f"{name}_warn_at"))
    case.sla_check_at = min(pending, default=None)


SLA_FIELDS = [
    *(f"{n}_{s}" for n in TARGETS for s in ("due", "warn_at", "warned", "breached")),
    "sla_due",
    "sla_check_at",
    "paused_at",
    "awaiting_since",
]
