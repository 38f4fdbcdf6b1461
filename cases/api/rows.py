"""The case list's rows, built straight from the columns they show.

The same JSON as `CaseSerializer` (tests/test_api_list_rows.py holds the two equal, byte for
byte), without a model instance per row or a serializer field per value: on a 50-row page
those were most of the server's CPU. Live events build the rows of the cases they carry the
same way, from the instances at hand (`instance_values`).
"""

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from functools import partial

from django.utils import timezone

# What a row reads, as `QuerySet.values()` paths: one query, joins to account, contact and
# assignee, and nothing more from those tables (an account also holds encrypted secrets).
COLUMNS = (
    "id",
    "status",
    "priority",
    "priority_score",
    "priority_reason",
    "is_priority_manual",
    "tier_id",
    "assignee_id",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
    "team_id",
    "account__slug",
    "channel",
    "contact_id",
    "contact__handle",
    "contact__name",
    "contact__followers",
    "sentiment",
    "sentiment_polarity",
    "language",
    "is_public",
    "tags",
    "created_at",
    "updated_at",
    "first_response_at",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "sla_due",
    "resolved_at",
    "message_count",
    "last_message_at",
    "last_message_preview",
    "last_message_direction",
    "is_escalated",
    "breach_count",
    "merged_into_id",
)


# Each column as the attributes that lead to it from a case: ("contact", "handle").
_PATHS = tuple((column, tuple(column.split("__"))) for column in COLUMNS)


def instance_values(case) -> dict:
    """What `QuerySet.values(*COLUMNS)` gives for `case`, read from the instance and the
    account, contact and assignee it holds (loaded, as a serializer would, when not)."""
    values = {}
    for column, path in _PATHS:
        value = case
        for name in path:
            value = getattr(value, name)
            if value is None:
                break
        values[column] = value
    return values


def moment(value: datetime | None, zone: tzinfo) -> str | None:
    """A datetime as DRF writes it: ISO 8601 in the current time zone, UTC as `Z`."""
    if not value:
        return None
    local = value.astimezone(zone)
    if local.utcoffset():
        return local.isoformat()
    # No offset to write: the naive moment's text and `Z`, for a third less than writing
    # `+00:00` and cutting it off again (nine moments a row).
    return datetime.combine(local, local.time()).isoformat() + "Z"


def in_utc(value: datetime | None) -> str | None:
    """`moment(value, zone)` for a zone that is UTC: no zone to convert to, no offset to ask."""
    if not value:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return datetime.combine(value, value.time()).isoformat() + "Z"


def moment_writer(zone: tzinfo) -> Callable[[datetime | None], str | None]:
    """`moment` in `zone`; in UTC (the default) without a conversion per value."""
    if zone is UTC or getattr(zone, "key", None) == "UTC":
        return in_utc
    return partial(moment, zone=zone)


def assignee_name(values: dict) -> str | None:
    """The full name, else the username (`get_full_name() or get_username()`)."""
    if values["assignee_id"] is None:
        return None
    full = f"{values['assignee__first_name']} {values['assignee__last_name']}".strip()
    return full or values["assignee__username"]


def case_rows(page: list[dict]) -> list[dict]:
    """List rows of `page`, each a dict of `COLUMNS` from `QuerySet.values()`."""
    written = moment_writer(timezone.get_current_timezone())
    return [
        {
            "id": v["id"],
            "number": v["id"],
            "status": v["status"],
            "priority": v["priority"],
            "priority_score": v["priority_score"],
            "priority_reason": v["priority_reason"],
            "is_priority_manual": v["is_priority_manual"],
            "tier": v["tier_id"],
            "assignee": v["assignee_id"],
            "assignee_name": assignee_name(v),
            "team": v["team_id"],
            "account": v["account__slug"],
            "platform": v["channel"],
            "contact": {
                "id": v["contact_id"],
                "handle": v["contact__handle"],
                "name": v["contact__name"],
                "followers": v["contact__followers"],
            },
            "sentiment": v["sentiment"],
            "sentiment_polarity": v["sentiment_polarity"],
            "language": v["language"],
            "is_public": v["is_public"],
            "tags": v["tags"],
            "created_at": written(v["created_at"]),
            "updated_at": written(v["updated_at"]),
            "first_response_at": written(v["first_response_at"]),
            "first_response_due": written(v["first_response_due"]),
            "next_response_due": written(v["next_response_due"]),
            "resolution_due": written(v["resolution_due"]),
            "sla_due": written(v["sla_due"]),
            "resolved_at": written(v["resolved_at"]),
            "message_count": v["message_count"],
            "last_message_at": written(v["last_message_at"]),
            "last_message_preview": v["last_message_preview"],
            "last_message_direction": v["last_message_direction"],
            "is_escalated": v["is_escalated"],
            "has_breached": v["breach_count"] > 0,
            "breach_count": v["breach_count"],
            "merged_into": v["merged_into_id"],
        }
        for v in page
    ]
