"""Keyset ("cursor") pagination of the case list, for every ordering the inbox offers.

DRF's CursorPagination keys on the first ordering field only and steps through ties with
an offset, which never ends on `priority` (four values) in a large inbox. Here the cursor
holds the whole sort key of the last row, ending in the id, so the next page is an
indexed range query however deep it is (two where a page crosses a `priority` group).
"""

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cases.models import sla_rank

# ordering parameter → sort key: (field, descending), always ending in the id.
ORDERINGS = {
    "-updated_at": [("updated_at", True), ("id", True)],
    "updated_at": [("updated_at", False), ("id", False)],
    "priority": [("priority", False), ("updated_at", True), ("id", True)],
    "-priority": [("priority", True), ("updated_at", True), ("id", True)],
    "sla_due": [("sla_rank", False), ("id", False)],
    "-sla_due": [("sla_rank", True), ("id", True)],
    "created_at": [("created_at", False), ("id", False)],
    "-created_at": [("created_at", True), ("id", True)],
}
DATETIMES = {"updated_at", "created_at", "sla_rank"}


def _after(key: list[tuple[str, bool]], values: list) -> Q:
    """Rows strictly after `values` in the order `key`; the leading bound is redundant but
    lets the index start at the cursor instead of filtering every row before it."""
    condition = Q()
    equal = {}
    for (field, descending), value in zip(key, values, strict=True):
        step = Q(**equal, **{f"{field}__{'lt' if descending else 'gt'}": value})
        condition = step if not condition else condition | step
        equal[field] = value
    (first, descending), start = key[0], values[0]
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": start}) & condition


def _after_in_groups(key: list[tuple[str, bool]], values: list) -> tuple[Q, Q]:
    """`_after` split in two for a leading key of few values (`priority`): the rest of the
    cursor's group, then the groups after it. Each is a range an index starts at; as one
    condition the index would start at the top of the group and filter every row before
    the cursor (75,893 rows after row 100,000 of 200,000)."""
    (first, descending), start = key[0], values[0]
    rest = Q(**{first: start}) & _after(key[1:], values[1:])
    return rest, Q(**{f"{first}__{'lt' if descending else 'gt'}": start})


class CaseKeysetPagination(BasePagination):
    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"

    def paginate_queryset(self, queryset, request, view=None):
        """The page of `queryset`, a `values()` query holding the sort key's fields."""
        self.request = request
        ordering = request.query_params.get(self.ordering_query_param) or "-updated_at"
        key = ORDERINGS.get(ordering)
        if key is None:
            raise ValidationError(
                {"ordering": f"one of {', '.join(sorted(ORDERINGS))}, not {ordering!r}"}
            )
        if key[0][0] == "sla_rank":
            queryset = queryset.annotate(sla_rank=sla_rank())
        queryset = queryset.order_by(*[("-" if desc else "") + field for field, desc in key])
        cursor = request.query_params.get(self.cursor_query_param)
        start = self._decode(cursor, key) if cursor else None
        size = self._page_size(request)
        if start is None:
            rows = list(queryset[: size + 1])
        elif len(key) == 2:
            rows = list(queryset.filter(_after(key, start))[: size + 1])
        else:
            rest, later = _after_in_groups(key, start)
            rows = list(queryset.filter(rest)[: size + 1])
            if len(rows) <= size:  # the group ends on this page
                rows += list(queryset.filter(later)[: size + 1 - len(rows)])
        self.next_values = None
        if len(rows) > size:
            rows = rows[:size]
            self.next_values = [rows[-1][field] for field, _ in key]
        return rows

    def _page_size(self, request) -> int:
        raw = request.query_params.get("page_size")
        if raw is None:
            return self.page_size
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({"page_size": "a whole number from 1"})
        return min(int(raw), self.max_page_size)

    @staticmethod
    def _encode(values: list) -> str:
        plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
        return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")

    @staticmethod
    def _decode(cursor: str, key) -> list:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if not isinstance(values, list) or len(values) != len(key):
                raise ValueError("wrong shape")
            decoded = []
            for (field, _), value in zip(key, values, strict=True):
                if field in DATETIMES:
                    decoded.append(datetime.fromisoformat(value))
                elif field == "id":
                    if not isinstance(value, int) or isinstance(value, bool):
                        raise ValueError("bad id")
                    decoded.append(value)
                else:
                    decoded.append(str(value))
            return decoded
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise ValidationError({"cursor": "not a cursor of this list"}) from None

    def get_next_link(self) -> str | None:
        if self.next_values is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self._encode(self.next_values))

    def get_previous_link(self) -> str | None:
        return None

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": None, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "from the previous page's next link",
            },
            {
                "name": "ordering",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": sorted(ORDERINGS)},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 200},
            },
        ]
