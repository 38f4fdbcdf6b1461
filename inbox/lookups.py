"""Reading rows by a list of keys with plain SQL, a few hundred keys per statement.

An import batch looks up a thousand external ids, contacts and replies at a time. Django
compiles a queryset and prepares every value of an `IN` list through the field, which costs
more than the database's own work at that size; these statements are written once and take
the keys as they are (strings and integers, the database's own values).
"""

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import connection, models

# Keys per statement: far below every database's parameter limit, and what the intake's
# query-count guards assume (a batch of up to this many keys is one statement).
MAX_KEYS = 500

M = TypeVar("M", bound=models.Model)


def rows_in(sql: str, params: Sequence[Any], keys: Iterable[Any]) -> list[tuple]:
    """Every row of `sql`, whose `{keys}` marks where the IN list goes, for all `keys`.

    `params` are the parameters before the IN list. No statement runs without keys.
    """
    keys = list(keys)
    rows: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(keys), MAX_KEYS):
            chunk = keys[start : start + MAX_KEYS]
            cursor.execute(sql.format(keys=", ".join(["%s"] * len(chunk))), [*params, *chunk])
            rows.extend(cursor.fetchall())
    return rows


def instances_in(model: type[M], where: str, params: Sequence[Any], keys: Iterable[Any]) -> list[M]:
    """Instances of `model` whose rows match `where` (with its `{keys}` IN list), loaded as
    the ORM loads them (every concrete field, converters applied)."""
    keys = list(keys)
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    # Identifiers come from the model, quoted; every value is a parameter.
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where}"  # noqa: S608
    found: list[M] = []
    for start in range(0, len(keys), MAX_KEYS):
        chunk = keys[start : start + MAX_KEYS]
        statement = sql.format(keys=", ".join(["%s"] * len(chunk)))
        found.extend(model.objects.raw(statement, [*params, *chunk]))
    return found
