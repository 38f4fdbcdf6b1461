"""Counts, medians and p90 per group, in one pass over the rows, the same on every backend.

The percentile is PostgreSQL's `percentile_cont`: sort the n non-null values, take
position h = p × (n − 1) (0-based) and interpolate linearly between the values at floor(h)
and ceil(h): lo + (hi − lo) × (h − floor(h)).

PostgreSQL: one statement. The rows are grouped by a hash aggregate that counts and
collects each measure's values into an array per group; `percentile_cont` then sorts each
group's array on its own. Calling `percentile_cont` in the grouped query directly would make
PostgreSQL sort every row of the period by the group first (ordered-set aggregates cannot be
hashed), an external sort at a year of cases, and the measures each needed their own scan.

SQLite has no percentile aggregate: the counts are one grouped query, and each measure is
read as (key, value) rows; `percentile` below sorts each group's values and does the same
arithmetic in the same floating point, so both backends give the same figures to the bit.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db import connections
from django.db.models import Aggregate, Expression, F, Q, QuerySet

FRACTIONS = {"median": 0.5, "p90": 0.9}
CHUNK = 10_000
# One sort of a group's values gives all the fractions.
ARRAY_PERCENTILES = (
    "(SELECT percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY v) FROM unnest({array}) v)"
)
GroupFigures = dict  # {group key: {count name: int, measure name: {"median", "p90"} | None}}


def group_figures(
    queryset: QuerySet,
    key: str,
    counts: dict[str, Aggregate],
    measures: dict[str, Expression],
) -> GroupFigures:
    """Per value of column `key`: each aggregate of `counts`, and median and p90 of the
    non-null values of each expression of `measures` (None for a group without any)."""
    rows = queryset.order_by().annotate(report_key=F(key))
    if connections[queryset.db].vendor == "postgresql":
        return _in_one_statement(rows, counts, measures)
    figures: GroupFigures = defaultdict(dict)
    if counts:
        for row in rows.values("report_key").annotate(**counts):
            figures[row.pop("report_key")].update(row)
    for name, value in measures.items():
        for group, found in fetched_percentiles(rows, F("report_key"), value).items():
            figures[group][name] = found
    return _with_empty_measures(figures, measures)


def _in_one_statement(rows: QuerySet, counts: dict, measures: dict) -> GroupFigures:
    # Imported here: django.contrib.postgres needs psycopg, which the embedded install lacks.
    from django.contrib.postgres.aggregates import ArrayAgg

    names = list(counts)
    arrays = {
        f"report_{name}": ArrayAgg(value, filter=Q(**{f"report_{name}_value__isnull": False}))
        for name, value in measures.items()
    }
    grouped = (
        rows.annotate(**{f"report_{name}_value": value for name, value in measures.items()})
        .values("report_key")
        .annotate(**counts, **arrays)
    )
    inner, params = grouped.query.sql_with_params()
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    fractions = ", ".join(repr(fraction) for fraction in FRACTIONS.values())
    columns = [f"grouped.{quote(name)}" for name in ["report_key", *names]] + [
        ARRAY_PERCENTILES.format(fractions=fractions, array=f"grouped.{quote(array)}")
        for array in arrays
    ]
    # Only names and fractions from this module are formatted in; values go as parameters.
    sql = f"SELECT {', '.join(columns)} FROM ({inner}) AS grouped"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    figures = {}
    for group, *values in found:
        row = dict(zip(names, values[: len(names)], strict=True))
        for name, figure in zip(measures, values[len(names) :], strict=True):
            row[name] = dict(zip(FRACTIONS, figure, strict=True)) if figure else None
        figures[group] = row
    return figures


def fetched_percentiles(queryset: QuerySet, key, value) -> dict:
    """{group key: {"median": float, "p90": float}} of the non-null `value` per `key`.

    For backends without percentile_cont: only the (key, value) pairs of the rows are read,
    and each group's values are sorted here. Ranking them in SQLite instead (ROW_NUMBER and
    COUNT over the group, then picking the neighbours) gives the same figures but took five
    times as long on 100k cases (docs/benchmarks.md): its sorter is the cost. Reading all
    measures in one pass instead of one query each cost more Python per row than SQLite
    saves on the scans (docs/benchmarks.md).
    """
    rows = (
        queryset.order_by()
        .annotate(report_group=key, report_value=value)
        .filter(report_value__isnull=False)
        .values_list("report_group", "report_value")
    )
    groups: dict = defaultdict(list)
    for group, number in rows.iterator(chunk_size=CHUNK):
        groups[group].append(number)
    return {
        group: {name: percentile(values, fraction) for name, fraction in FRACTIONS.items()}
        for group, values in groups.items()
    }


def _with_empty_measures(figures: GroupFigures, measures: dict) -> GroupFigures:
    for row in figures.values():
        for name in measures:
            row.setdefault(name, None)
    return dict(figures)


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
