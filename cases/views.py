"""Pages: the inbox and the case. Thin: parse, check permission, query, render.

Actions on the pages go through the JSON API, so pages and API share every operation.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from caremgr.fast_values import values_rows
from cases import presence
from cases.api import rows
from cases.api.filters import SENTIMENTS, CaseFilter, names_a_filter
from cases.models import (
    OPEN_STATUSES,
    CannedReply,
    Case,
    CaseEvent,
    Priority,
    Status,
    Team,
    Tier,
)
from cases.permissions import can_set_tier, can_view, is_supervisor, role_of
from inbox.models import Message

VIEWS = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "teams": "My teams",
    "breaching": "Breaching soon",
    "all": "All",
}
SORTS = {
    "priority": ("priority", "-updated_at"),
    "sla_due": ("sla_due",),
    "updated": ("-updated_at",),
}
SORT_LABELS = {"priority": "Priority", "sla_due": "SLA due", "updated": "Last update"}
PAGE = 100


def live_seq() -> int:
    """The newest timeline id: the page is current as of it, the socket catches up after."""
    return CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _options(choices, chosen: str | None) -> list[tuple[str, str, bool]]:
    """(value, label, is_selected) of a filter's `<option>`s: the template only prints them."""
    return [(value, label, value == chosen) for value, label in choices]


def _require_role(request):
    if role_of(request.user) is None:
        raise PermissionDenied("you need an agent, supervisor or admin role")


@cache
def _rows_query():
    """The rows' columns and joins, named once: that took half the time of building the
    page's query. Each request filters a copy."""
    return Case.objects.values(*rows.COLUMNS)


def _sorts_whole_rows() -> bool:
    """Whether the database sorts whole result rows, joined columns and all, before it
    keeps a page of them (SQLite), rather than walking an index in order (PostgreSQL)."""
    return connection.vendor == "sqlite"


def inbox_cases(request, view: str):
    base = Case.objects.all() if _sorts_whole_rows() else _rows_query().all()
    cases = base.for_user(request.user)
    if view == "mine":
        cases = cases.filter(assignee=request.user, status__in=OPEN_STATUSES)
    elif view == "unassigned":
        cases = cases.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    elif view == "breaching":
        soon = timezone.now() + timezone.timedelta(hours=1)
        cases = cases.filter(status__in=OPEN_STATUSES, sla_due__lte=soon)
    elif view == "teams":
        cases = cases.filter(status__in=OPEN_STATUSES)
    return cases


@login_required
def inbox(request):
    _require_role(request)
    seq = live_seq()  # before the query: an event racing the render is caught up, not lost
    supervisor = is_supervisor(request.user)
    views = {k: v for k, v in VIEWS.items() if k != "all" or supervisor}
    view = request.GET.get("view") or "teams"
    if view not in views:
        view = "teams"
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "priority"
    cases = inbox_cases(request, view)
    if names_a_filter(CaseFilter, request.GET):
        cases = CaseFilter(request.GET, queryset=cases, request=request).qs
    order = (*SORTS[sort], "-id")
    page = cases.order_by(*order)[:PAGE]
    if _sorts_whole_rows():
        # The page's ids first, sorted from the cases' own narrow rows; then only those
        # rows are joined and read in full (a third less time at 1,400 open cases).
        page = _rows_query().filter(pk__in=page.values("pk")).order_by(*order)
    chosen = request.GET
    return render(
        request,
        "inbox/index.html",
        {
            "rows": rows.case_rows(values_rows(page)),
            "views": views,
            "view": view,
            "sort": sort,
            "q": chosen.get("q", ""),
            "options": {
                "status": _options(Status.choices, chosen.get("status")),
                "tier": _options(Tier.objects.values_list("slug", "name"), chosen.get("tier")),
                "priority": _options(Priority.choices, chosen.get("priority")),
                "sentiment": _options(SENTIMENTS, chosen.get("sentiment")),
                "sort": _options(SORT_LABELS.items(), sort),
            },
            "page_size": PAGE,
            "live_seq": seq,
        },
    )


@login_required
def case_detail(request, pk: int):
    _require_role(request)
    seq = live_seq()
    case = (
        Case.objects.select_related(
            "account", "contact", "contact__owner", "assignee", "team", "tier"
        )
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.order_by("created_at", "id")),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        )
        .filter(pk=pk)
        .first()
    )
    if case is None or not can_view(request.user, case):
        raise Http404("no such case")
    earlier = (
        Case.objects.for_user(request.user)
        .filter(contact=case.contact)
        .exclude(pk=case.pk)
        .order_by("-created_at")[:10]
    )
    team_ids = [case.team_id] if case.team_id else []
    agents = get_user_model().objects.filter(profile__isnull=False, is_active=True)
    if not is_supervisor(request.user):
        agents = agents.filter(profile__teams__in=team_ids).distinct()
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "earlier": earlier,
            "agents": agents.order_by("username"),
            "tiers": Tier.objects.all(),
            "can_set_tier": can_set_tier(request.user),
            "teams": Team.objects.all(),
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "canned": CannedReply.objects.filter(Q(team__in=team_ids) | Q(team__isnull=True)),
            "viewers": [v for v in presence.viewers(case.pk) if v["user"] != request.user.pk],
            "live_seq": seq,
        },
    )
