"""Customer health endpoints: the at-risk list and the retention/churn of a period.

Supervisors and admins only (403 for agents, 401 without login); the period is read like
the other report endpoints (`from`, `to`; default the last 30 days).
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.permissions import IsSupervisor
from cases.api.report_views import PERIOD_PARAMETERS, read_period
from cases.health_views import at_risk_contacts
from cases.retention import retention


class AtRiskView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(operation_id="reports_at_risk", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        rows = [
            {
                "id": c.pk,
                "handle": c.handle,
                "name": c.name,
                "channel": c.channel,
                "followers": c.followers,
                "health": c.health,
                "bad_experiences": c.bad_experiences,
                "last_case": c.last_case_id,
                "owner": c.owner.username if c.owner_id else None,
            }
            for c in at_risk_contacts()
        ]
        return Response({"contacts": rows})


class RetentionView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(
        operation_id="reports_retention",
        parameters=PERIOD_PARAMETERS,
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        start, end = read_period(request)
        return Response({"from": start, "to": end, **retention(start, end)})


urlpatterns = [
    path("api/v1/reports/at-risk/", AtRiskView.as_view(), name="report-at-risk"),
    path("api/v1/reports/retention/", RetentionView.as_view(), name="report-retention"),
]
