"""The SLA report: response and resolution times per group, in SQL.

What the figures mean (the API, the CSV and the page all show these):

- The period holds the cases whose `created_at` (the customer's first message, on the
  platform's clock) lies in [start, end). Cases merged into another are left out: their
  messages and figures live on the case they were merged into.
- `cases`: those cases. `responded`: of them, the ones a person has answered
  (`first_response_at` set; automatic replies never count).
- `first_response`: median and p90 of `first_response_seconds`, business seconds from the
  first customer message to the first human answer, over the responded cases.
- `resolution`: median and p90 of `resolution_seconds` over the cases resolved now
  (`resolved_at` set; a reopened case waits for its next resolution).
- `next_response`: median and p90 of the business seconds of every later human answer
  (`ResponseTime` of kind "next") given in the period, grouped by the answer's own tier,
  account, team, agent (who answered; "unassigned" for replies posted outside caremgr) and
  platform.
- `attainment`: % of first-response targets met, met / (met + missed) × 100, over the
  period's cases that have a first-response target. The target is met when the SLA's first
  answer (a person's, or for tech-touch the automatic one) came no later than
  `first_response_due` (the tier's target in business time, moved by pauses) and the monitor
  never flagged a breach. It is missed when the monitor flagged it, or the answer came
  later than the due time, or there is no answer and the due time passed before the clock
  stopped (now for a running case, else when it was paused, resolved or closed): imported
  history, which the monitor never saw, counts the same way. A case still within its target
  and unanswered counts in neither; null when no case counts yet.
- `breaches`: the cases that missed at least one target: the monitor recorded a breach
  (`breach_count` > 0), or the first response was missed as above, or the case was resolved
  after its resolution due time.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import (
    Count,
    DateTimeField,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case, ResponseTime, Team
from cases.reports_percentiles import group_figures
from inbox.models import Account

GROUP_BYS = ("tier", "account", "team", "agent", "platform")
# The Case column and the ResponseTime column each grouping uses.
CASE_KEYS = {
    "tier": "tier_id",
    "account": "account_id",
    "team": "team_id",
    "agent": "assignee_id",
    "platform": "channel",
}
RESPONSE_KEYS = {
    "tier": "tier",
    "account": "account_id",
    "team": "team_id",
    "agent": "agent_id",
    "platform": "channel",
}
NO_TEAM, NO_AGENT = "none", "unassigned"


def period_cases(start: datetime, end: datetime) -> QuerySet:
    """The cases a report over [start, end) is about."""
    return Case.objects.filter(
        created_at__gte=start, created_at__lt=end, merged_into__isnull=True
    ).order_by()


def sla_answered_at():
    """When the first-response clock stopped: the first human or automatic answer."""
    return models.Case(
        When(
            first_response_at__isnull=False,
            automated_response_at__isnull=False,
            first_response_at__gt=F("automated_response_at"),
            then=F("automated_response_at"),
        ),
        default=Coalesce("first_response_at", "automated_response_at"),
        output_field=DateTimeField(),
    )


def first_response_outcome(now: datetime) -> tuple[Q, Q]:
    """(met, missed) conditions on a case annotated with `sla_answered`; see the module."""
    clock_stopped = models.Case(
        When(status__in=OPEN_STATUSES, paused_at__isnull=True, then=Value(now)),
        default=Coalesce("paused_at", "resolved_at", "closed_at", Value(now)),
        output_field=DateTimeField(),
    )
    has_target = Q(first_response_due__isnull=False)
    missed = has_target & (
        Q(first_response_breached=True)
        | Q(sla_answered__gt=F("first_response_due"))
        | Q(sla_answered__isnull=True, first_response_due__lte=clock_stopped)
    )
    met = (
        has_target
        & Q(first_response_breached=False, sla_answered__isnull=False)
        & Q(sla_answered__lte=F("first_response_due"))
    )
    return met, missed


def breached_case(missed_first_response: Q) -> Q:
    """A case that missed any target: flagged by the monitor, or visibly late (see module)."""
    return (
        Q(breach_count__gt=0)
        | missed_first_response
        | Q(
            resolved_at__isnull=False,
            resolution_due__isnull=False,
            resolved_at__gt=F("resolution_due"),
        )
    )


def sla_report(
    start: datetime, end: datetime, group_by: str = "tier", *, now: datetime | None = None
) -> dict:
    """The SLA figures of the cases created in [start, end), one group per `group_by` key.

    Returns {"from", "to", "group_by", "groups": [{"key", "cases", "responded",
    "first_response": {"median", "p90"}, "resolution": {...}, "next_response": {...},
    "attainment", "breaches"}]}; times in seconds (None without data), attainment in %.
    """
    if group_by not in GROUP_BYS:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BYS)}")
    now = now or timezone.now()
    cases = period_cases(start, end)
    responses = ResponseTime.objects.filter(kind=ResponseTime.NEXT, at__gte=start, at__lt=end)
    figures = group_figures(
        cases.annotate(sla_answered=sla_answered_at()),
        CASE_KEYS[group_by],
        case_counts(now),
        {
            "first_response": F("first_response_seconds"),
            # Resolved now: a reopened case keeps the resolution_seconds of its last one.
            "resolution": models.Case(
                When(resolved_at__isnull=False, then=F("resolution_seconds"))
            ),
        },
    )
    answers = group_figures(responses, RESPONSE_KEYS[group_by], {}, {"next_response": F("seconds")})
    keys = set(figures).union(answers)
    labels = group_labels(group_by, keys)
    groups = [_group(labels[k], {**figures.get(k, {}), **answers.get(k, {})}) for k in keys]
    groups.sort(key=lambda g: (-g["cases"], g["key"]))
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "group_by": group_by,
        "groups": groups,
    }


def case_counts(now: datetime) -> dict:
    """The counted figures of a group of cases annotated with `sla_answered`."""
    met, missed = first_response_outcome(now)
    return {
        "cases": Count("pk"),
        "responded": Count("pk", filter=Q(first_response_at__isnull=False)),
        "met": Count("pk", filter=met),
        "missed": Count("pk", filter=missed),
        "breaches": Count("pk", filter=breached_case(missed)),
    }


def _group(key: str, figures: dict) -> dict:
    met, missed = figures.get("met", 0), figures.get("missed", 0)
    empty = {"median": None, "p90": None}
    return {
        "key": key,
        "cases": figures.get("cases", 0),
        "responded": figures.get("responded", 0),
        "first_response": figures.get("first_response") or empty,
        "resolution": figures.get("resolution") or empty,
        "next_response": figures.get("next_response") or empty,
        "attainment": round(met * 100 / (met + missed), 2) if met + missed else None,
        "breaches": figures.get("breaches", 0),
    }


def group_labels(group_by: str, keys) -> dict:
    """Raw group keys (ids) → the keys the report shows (slug, name, username, channel)."""
    keys = list(keys)
    ids = [k for k in keys if k is not None]
    if group_by == "account":
        found = dict(Account.objects.filter(pk__in=ids).values_list("pk", "slug"))
    elif group_by == "team":
        found = dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    elif group_by == "agent":
        users = get_user_model().objects.filter(pk__in=ids)
        found = dict(users.values_list("pk", "username"))
    else:
        found = {k: k for k in ids}
    missing = NO_AGENT if group_by == "agent" else NO_TEAM
    return {k: str(found.get(k, k)) if k is not None else missing for k in keys}
