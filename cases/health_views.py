"""The at-risk customers page (`/reports/at-risk/`) and its "Follow up" button.

Supervisors and admins only: customers with one bad experience (at risk) or more (high risk),
high risk first, so someone can reach out before they churn.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import OuterRef, Subquery, Value, When
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from cases.followup import open_follow_up
from cases.models import Case
from cases.permissions import ActionError, is_supervisor
from inbox.models import Contact, Health

AT_RISK = (Health.HIGH_RISK, Health.AT_RISK)
MAX_ROWS = 500


def at_risk_contacts(limit: int = MAX_ROWS):
    """Contacts at risk or high risk, high risk first, then most bad experiences; each with
    `last_case_id`, their latest case."""
    latest = Case.objects.filter(contact=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Contact.objects.filter(health__in=AT_RISK)
        .select_related("owner")
        .annotate(
            last_case_id=Subquery(latest.values("pk")[:1]),
            risk_order=models.Case(
                When(health=Health.HIGH_RISK, then=Value(0)),
                default=Value(1),
                output_field=models.IntegerField(),
            ),
        )
        .order_by("risk_order", "-bad_experiences", "-followers", "pk")[:limit]
    )


def _require_supervisor(request):
    if not is_supervisor(request.user):
        raise PermissionDenied("at-risk customers are for supervisors and admins")


@login_required
def at_risk(request):
    _require_supervisor(request)
    return render(request, "reports/at_risk.html", {"contacts": at_risk_contacts()})


@login_required
@require_POST
def follow_up(request, pk: int):
    _require_supervisor(request)
    contact = get_object_or_404(Contact, pk=pk)
    try:
        case = open_follow_up(contact, actor=request.user)
    except ActionError as exc:
        return HttpResponseBadRequest(str(exc))
    return redirect("case", pk=case.pk)


urlpatterns = [
    path("reports/at-risk/", at_risk, name="at-risk"),
    path("reports/at-risk/<int:pk>/follow-up/", follow_up, name="at-risk-follow-up"),
]
