"""The reports page (`/reports/`): the SLA table per group and the dashboard's charts.

Supervisors and admins only. Every figure comes from `cases.reports` and
`cases.reports_figures`; this module picks the period and grouping from the query, turns
seconds into readable durations and builds the links from a row or a bar to the inbox
filtered to the cases behind it.
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from cases.models import OPEN_STATUSES, Team, Tier
from cases.permissions import is_supervisor
from cases.reports import GROUP_BYS, NO_AGENT, NO_TEAM, sla_report
from cases.reports_charts import dashboard_charts, human_duration
from cases.reports_figures import backlog, daily
from cases.reports_period import PeriodError, last_days, parse_period

PRESETS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 366  # one bar per day stays readable up to a year
GROUP_LABELS = {
    "tier": "Tier",
    "account": "Account",
    "team": "Team",
    "agent": "Agent",
    "platform": "Platform",
}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def inbox_link(start: datetime | None, end: datetime | None, **filters) -> str:
    """The inbox (all cases) filtered to `filters` and cases created in [start, end)."""
    params: list[tuple[str, str]] = [("view", "all")]
    for name, value in filters.items():
        values = value if isinstance(value, list | tuple) else [value]
        params.extend((name, str(v)) for v in values)
    if start is not None:
        params.append(("created_after", iso(start)))
    if end is not None:
        params.append(("created_before", iso(end)))
    return "/?" + urlencode(params)


def group_filters(group_by: str, keys: list[str]) -> dict[str, dict]:
    """The inbox filter of each group key of a report."""
    if group_by == "team":
        ids = dict(Team.objects.filter(name__in=keys).values_list("name", "pk"))
        return {k: {"team": "none" if k == NO_TEAM else ids.get(k, "")} for k in keys}
    if group_by == "agent":
        users = get_user_model().objects.filter(username__in=keys)
        ids = dict(users.values_list("username", "pk"))
        return {k: {"assignee": "none" if k == NO_AGENT else ids.get(k, k)} for k in keys}
    name = {"tier": "tier", "account": "account", "platform": "platform"}[group_by]
    return {k: {name: k} for k in keys}


def read_choice(request) -> tuple[datetime, datetime, str, str]:
    """(start, end, preset, error) from the query; a bad period falls back to 30 days."""
    now = timezone.now()
    if request.GET.get("from") or request.GET.get("to"):
        try:
            start, end = parse_period(request.GET, now=now)
        except PeriodError as exc:
            start, end = last_days(DEFAULT_DAYS, now)
            return start, end, str(DEFAULT_DAYS), f"The period was not understood: {exc}."
        if end - start > timedelta(days=MAX_DAYS):
            start, end = end - timedelta(days=MAX_DAYS), end
            return start, end, "custom", f"Periods are at most {MAX_DAYS} days; showing the last."
        return start, end, "custom", ""
    days = request.GET.get("days", "")
    days = int(days) if days.isdigit() and int(days) in PRESETS else DEFAULT_DAYS
    start, end = last_days(days, now)
    return start, end, str(days), ""


def table_rows(report: dict, start: datetime, end: datetime) -> list[dict]:
    filters = group_filters(report["group_by"], [g["key"] for g in report["groups"]])
    rows = []
    for group in report["groups"]:
        attainment = group["attainment"]
        rows.append(
            {
                "key": group["key"],
                "href": inbox_link(start, end, **filters[group["key"]]),
                "cases": group["cases"],
                "responded": group["responded"],
                "first_median": human_duration(group["first_response"]["median"]),
                "first_p90": human_duration(group["first_response"]["p90"]),
                "next_median": human_duration(group["next_response"]["median"]),
                "next_p90": human_duration(group["next_response"]["p90"]),
                "resolution_median": human_duration(group["resolution"]["median"]),
                "resolution_p90": human_duration(group["resolution"]["p90"]),
                "attainment": "—" if attainment is None else f"{attainment:.1f} %",
                "is_below_target": attainment is not None and attainment < 90,
                "breaches": group["breaches"],
            }
        )
    return rows


@login_required
def reports(request):
    if not is_supervisor(request.user):
        raise PermissionDenied("reports are for supervisors and admins")
    start, end, preset, error = read_choice(request)
    group_by = request.GET.get("group_by")
    group_by = group_by if group_by in GROUP_BYS else "tier"
    now = timezone.now()
    report = sla_report(start, end, group_by, now=now)
    days = daily(start, end, now=now)
    ages = backlog(now=now)
    for bucket in ages:
        bucket["href"] = inbox_link(
            bucket["created_after"], bucket["created_before"], status=list(OPEN_STATUSES)
        )
    for day in days:
        day_start = datetime.combine(day["day"], datetime.min.time(), tzinfo=UTC)
        day["href"] = inbox_link(max(day_start, start), min(day_start + timedelta(days=1), end))
        day["sentiment_hrefs"] = [
            inbox_link(
                max(day_start, start), min(day_start + timedelta(days=1), end), sentiment=name
            )
            for name in ("negative", "neutral", "positive")
        ]
    rows = table_rows(report, start, end)
    period = urlencode({"from": iso(start), "to": iso(end)})
    return render(
        request,
        "reports/index.html",
        {
            "rows": rows,
            "group_by": group_by,
            "group_label": GROUP_LABELS[group_by],
            "group_tabs": GROUP_LABELS,
            "preset": preset,
            "presets": PRESETS,
            "error": error,
            "start": start,
            "last_day": (end - timedelta(microseconds=1)).date(),
            "end": end,
            "totals": _totals(days, ages),
            "generated": now.replace(microsecond=0),
            "charts": dashboard_charts(report, rows, days, ages, list(Tier.objects.all())),
            "sla_csv": f"/api/v1/reports/sla.csv?{period}&group_by={group_by}",
            "cases_csv": f"/api/v1/reports/cases.csv?{period}",
            "query_keep": urlencode(
                {k: request.GET[k] for k in ("days", "from", "to") if request.GET.get(k)}
            ),
        },
    )


def _totals(days: list[dict], ages: list[dict]) -> dict:
    return {
        "cases": sum(d["cases"] for d in days),
        "breaches": sum(d["breaches"] for d in days),
        "negative": sum(d["negative"] for d in days),
        "backlog": sum(b["cases"] for b in ages),
    }
