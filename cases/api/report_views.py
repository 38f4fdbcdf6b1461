"""Report endpoints: the SLA report as JSON and CSV, and the one-row-per-case CSV.

Supervisors and admins only (403 for agents, 401 without login). A query parameter that
cannot be read answers 400 with `{"error": ..., "parameter": ...}`.
"""

from collections.abc import AsyncIterator, Iterator
from itertools import islice

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.permissions import IsSupervisor
from cases.reports import GROUP_BYS, sla_report
from cases.reports_export import (
    CASE_COLUMNS,
    CHUNK,
    SLA_COLUMNS,
    case_rows,
    csv_lines,
    sla_rows,
)
from cases.reports_period import PeriodError, parse_period
from security import audit
from security.models import AuditAction

PERIOD_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.STR, description="ISO 8601 date or datetime"),
    OpenApiParameter(
        "to",
        OpenApiTypes.STR,
        description="ISO 8601 date or datetime (a date: the whole day); default: the last 30 days",
    ),
]
GROUP_BY_PARAMETER = OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUP_BYS))


def _bad(parameter: str, message: str) -> ValidationError:
    return ValidationError({"error": f"{parameter} {message}", "parameter": parameter})


def read_period(request):
    try:
        return parse_period(request.query_params, now=timezone.now())
    except PeriodError as exc:
        raise _bad(exc.parameter, exc.message) from None


def read_group_by(request) -> str:
    group_by = request.query_params.get("group_by") or "tier"
    if group_by not in GROUP_BYS:
        raise _bad("group_by", f"must be one of {', '.join(GROUP_BYS)}")
    return group_by


def record_export(request, report: str, start, end, **detail) -> None:
    """Exports leave the system with customer data: the audit log says who took what."""
    audit.record(
        AuditAction.REPORT_EXPORTED,
        request,
        report=report,
        start=start.isoformat(),
        end=end.isoformat(),
        **detail,
    )


def attachment_name(kind: str, start, end) -> str:
    return f"caremgr-{kind}-{start:%Y%m%d}-{end:%Y%m%d}.csv"


def chunks(lines: Iterator[str]) -> Iterator[str]:
    while batch := list(islice(lines, CHUNK)):
        yield "".join(batch)


async def async_chunks(lines: Iterator[str]) -> AsyncIterator[str]:
    """The same chunks for an ASGI server, each read in the thread that holds the database
    connection; given a plain iterator, Django's ASGI handler would read it all into memory
    before sending the first byte."""
    read = sync_to_async(lambda: list(islice(lines, CHUNK)), thread_sensitive=True)
    while batch := await read():
        yield "".join(batch)


def streamed(request, lines: Iterator[str]):
    if isinstance(getattr(request, "_request", request), ASGIRequest):
        return async_chunks(lines)
    return chunks(lines)


class ReportView(APIView):
    permission_classes = [IsSupervisor]

    def perform_content_negotiation(self, request, force=False):
        # The CSV endpoints answer CSV themselves; errors always come back as JSON.
        return super().perform_content_negotiation(request, force=True)


class SlaReportView(ReportView):
    @extend_schema(
        operation_id="reports_sla",
        parameters=[*PERIOD_PARAMETERS, GROUP_BY_PARAMETER],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        start, end = read_period(request)
        return Response(sla_report(start, end, read_group_by(request)))


class SlaReportCsvView(ReportView):
    @extend_schema(
        operation_id="reports_sla_csv",
        parameters=[*PERIOD_PARAMETERS, GROUP_BY_PARAMETER],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        start, end = read_period(request)
        report = sla_report(start, end, read_group_by(request))
        record_export(request, "sla.csv", start, end, group_by=report["group_by"])
        response = HttpResponse(
            "".join(csv_lines(SLA_COLUMNS, sla_rows(report))),
            content_type="text/csv; charset=utf-8",
        )
        name = attachment_name(f"sla-{report['group_by']}", start, end)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class CasesCsvView(ReportView):
    @extend_schema(
        operation_id="reports_cases_csv",
        parameters=PERIOD_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        start, end = read_period(request)
        record_export(request, "cases.csv", start, end)
        response = StreamingHttpResponse(
            streamed(request, csv_lines(CASE_COLUMNS, case_rows(start, end))),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{attachment_name("cases", start, end)}"'
        )
        return response
