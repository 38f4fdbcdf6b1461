"""CSV exports: the SLA report as a table, and one row per case for a spreadsheet.

Customers choose their own handles and names, so a cell that a spreadsheet would read as a
formula (starting with =, +, -, @, a tab or a carriage return) gets a leading apostrophe.
Numbers stay numbers: only text is ever prefixed, so a negative figure is still a figure.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime

from cases.reports import period_cases

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

SLA_COLUMNS = [
    "key",
    "cases",
    "responded",
    "first_response_median",
    "first_response_p90",
    "resolution_median",
    "resolution_p90",
    "attainment",
    "breaches",
]

CASE_COLUMNS = [
    "id",
    "number",
    "created_at",
    "account",
    "platform",
    "tier",
    "team",
    "assignee",
    "status",
    "priority",
    "sentiment",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
    "breaches",
    "contact_handle",
]
# The columns of Case read for each export row, in CASE_COLUMNS order (number = id).
_CASE_FIELDS = [
    "id",
    "created_at",
    "account__slug",
    "channel",
    "tier_id",
    "team__name",
    "assignee__username",
    "status",
    "priority",
    "sentiment",
    "first_response_at",
    "first_response_seconds",
    "resolved_at",
    "resolution_seconds",
    "breach_count",
    "contact__handle",
]
CHUNK = 2000


def safe_cell(value) -> object:
    """A value as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Line:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def sla_rows(report: dict) -> Iterator[list]:
    for group in report["groups"]:
        yield [
            group["key"],
            group["cases"],
            group["responded"],
            group["first_response"]["median"],
            group["first_response"]["p90"],
            group["resolution"]["median"],
            group["resolution"]["p90"],
            group["attainment"],
            group["breaches"],
        ]


def case_rows(start: datetime, end: datetime) -> Iterator[list]:
    """The period's cases oldest first, read from the database in chunks."""
    rows = (
        period_cases(start, end)
        .order_by("created_at", "id")
        .values_list(*_CASE_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    for row in rows:
        yield [row[0], *row]
