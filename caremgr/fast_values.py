"""`values()` rows with their timestamps read by psycopg's compiled loader.

On PostgreSQL Django reads every `timestamptz` through a Python subclass of psycopg's
loader (it sets the time zone afterwards), about 4 µs a value: on the inbox page's 100 rows
of nine moments that was 3 ms of the 4 the query took. psycopg's own loader (C, with the
binary package) reads the offset PostgreSQL writes and gives the same instants (and, as
Django sets the session to UTC, the same `timezone.utc`) in a fifth of the time. Everything
else (SQL, converters, names) is Django's own `values()` path.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

try:
    import psycopg
    from psycopg.pq import Format

    _TIMESTAMPTZ = psycopg.postgres.types["timestamptz"].oid
    COMPILED_LOADER = psycopg.adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)
except ImportError:  # SQLite-only install
    COMPILED_LOADER = None


def values_rows(queryset: QuerySet) -> list[dict]:
    """The rows of `queryset.values(...)` as dicts, like `list(queryset)`."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or COMPILED_LOADER is None:
        return list(queryset)
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # known empty without a query (`.none()`, `__in=[]`)
        return []
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader(_TIMESTAMPTZ, COMPILED_LOADER)
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    if query.selected:
        names = list(query.selected)
    else:
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
    return [dict(zip(names, row, strict=True)) for row in compiler.results_iter([fetched])]
