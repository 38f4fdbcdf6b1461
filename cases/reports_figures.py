"""The dashboard's other figures: volume, sentiment and breaches per day, backlog by age.

Each is one grouped query; days are UTC calendar days of the case's `created_at`, and a
day without cases is filled in with zeros so the charts have no gaps.
"""

from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case
from cases.reports import breached_case, first_response_outcome, period_cases, sla_answered_at

SENTIMENTS = ("negative", "neutral", "positive")
# (label, youngest age, oldest age): an open case falls in the bucket its age reaches.
BACKLOG_BUCKETS = (
    ("< 1 h", timedelta(0), timedelta(hours=1)),
    ("1–4 h", timedelta(hours=1), timedelta(hours=4)),
    ("4–24 h", timedelta(hours=4), timedelta(hours=24)),
    ("1–3 d", timedelta(days=1), timedelta(days=3)),
    ("> 3 d", timedelta(days=3), None),
)


class UtcDate(TruncDate):
    """The UTC calendar day of a datetime. On SQLite, where datetimes are stored as UTC text,
    the first ten characters: Django's TruncDate calls a Python function per row there."""

    def __init__(self, expression, **extra):
        super().__init__(expression, tzinfo=UTC, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.lhs)
        return f"substr({sql}, 1, 10)", params


def days_between(start: datetime, end: datetime) -> list[date]:
    """The UTC days [start, end) touches."""
    first = start.astimezone(UTC).date()
    last = (end - timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def daily(start: datetime, end: datetime, *, now: datetime | None = None) -> list[dict]:
    """Per day: {"day", "cases", "negative", "neutral", "positive", "breaches"}."""
    now = now or timezone.now()
    _, missed = first_response_outcome(now)
    counts = {
        "cases": Count("pk"),
        **{name: Count("pk", filter=Q(sentiment=name)) for name in SENTIMENTS},
        "breaches": Count("pk", filter=breached_case(missed)),
    }
    rows = (
        period_cases(start, end)
        .annotate(sla_answered=sla_answered_at(), day=UtcDate("created_at"))
        .values("day")
        .annotate(**counts)
        .order_by()
    )
    found = {_as_date(row.pop("day")): row for row in rows}
    empty = dict.fromkeys(counts, 0)
    return [{"day": day, **found.get(day, empty)} for day in days_between(start, end)]


def backlog(*, now: datetime | None = None) -> list[dict]:
    """Open cases now by how long ago the customer first wrote: [{"label", "cases", ...}]."""
    now = now or timezone.now()
    counts = {}
    for index, (_, youngest, oldest) in enumerate(BACKLOG_BUCKETS):
        # Age in [youngest, oldest); a case dated ahead of our clock is the youngest.
        condition = Q(created_at__lte=now - youngest) if youngest else Q()
        if oldest is not None:
            condition &= Q(created_at__gt=now - oldest)
        counts[f"bucket{index}"] = Count("pk", filter=condition) if condition else Count("pk")
    totals = Case.objects.filter(status__in=OPEN_STATUSES).aggregate(**counts)
    return [
        {
            "label": label,
            "cases": totals[f"bucket{index}"] or 0,
            "created_after": now - oldest if oldest is not None else None,
            "created_before": now - youngest,
        }
        for index, (label, youngest, oldest) in enumerate(BACKLOG_BUCKETS)
    ]


def _as_date(value) -> date:
    """TruncDate gives a date on PostgreSQL and may give text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
