"""Medians and p90 per group, the same on every backend.

The definition is PostgreSQL's `percentile_cont`: sort the n values, take position
h = p × (n − 1) (0-based) and interpolate linearly between the values at floor(h) and
ceil(h): lo + (hi − lo) × (h − floor(h)). PostgreSQL computes it in the grouped query.
SQLite has no percentile aggregate: there the one value column is read per group and
`percentile` below does the same arithmetic in the same floating point, so both backends
give the same figures to the bit. Each measure is its own narrow query (key and value
only), apart from the counts: sorting 200k wide rows for one grouped query cost more than
scanning the table once per measure.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db import connections
from django.db.models import Aggregate, F, FloatField, QuerySet

FRACTIONS = {"median": 0.5, "p90": 0.9}
CHUNK = 10_000


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate `percentile_cont(p) WITHIN GROUP (ORDER BY x)`."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("a percentile is a fraction between 0 and 1")
        super().__init__(expression, fraction=repr(fraction), **extra)


def group_percentiles(queryset: QuerySet, key: str, value) -> dict:
    """{value of column `key`: {"median", "p90"}} over the non-null `value` of each group.

    One query: percentile_cont per group on PostgreSQL, else `fetched_percentiles`.
    """
    if connections[queryset.db].vendor != "postgresql":
        return fetched_percentiles(queryset, F(key), value)
    rows = (
        queryset.order_by()
        .annotate(report_value=value)
        .filter(report_value__isnull=False)
        .values(key)
        .annotate(
            **{
                f"report_{name}": PercentileCont(F("report_value"), fraction)
                for name, fraction in FRACTIONS.items()
            }
        )
    )
    return {row[key]: {name: row[f"report_{name}"] for name in FRACTIONS} for row in rows}


def fetched_percentiles(queryset: QuerySet, key, value) -> dict:
    """{group key: {"median": float, "p90": float}} of the non-null `value` per `key`.

    For backends without percentile_cont: only the (key, value) pairs of the rows are read,
    and each group's values are sorted here. Ranking them in SQLite instead (ROW_NUMBER and
    COUNT over the group, then picking the neighbours) gives the same figures but took five
    times as long on 100k cases (docs/benchmarks-reports.md): its sorter is the cost.
    """
    rows = (
        queryset.order_by()
        .annotate(report_key=key, report_value=value)
        .filter(report_value__isnull=False)
        .values_list("report_key", "report_value")
    )
    groups: dict = defaultdict(list)
    for group, number in rows.iterator(chunk_size=CHUNK):
        groups[group].append(number)
    return {
        group: {name: percentile(values, fraction) for name, fraction in FRACTIONS.items()}
        for group, values in groups.items()
    }


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """`percentile_cont(fraction)` of the values; None for none."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low = int(position)
    proportion = position - low
    high = low + 1 if proportion > 0 else low
    return ordered[low] + proportion * (ordered[high] - ordered[low])
