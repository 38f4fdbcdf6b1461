"""Reading rows by a list of keys with plain SQL, a few hundred keys per statement.

An import batch looks up a thousand external ids, contacts and replies at a time. Django
compiles a queryset and prepares every value of an `IN` list through the field, which costs
more than the database's own work at that size; these statements are written once and take
the keys as they are (strings and integers, the database's own values).
"""

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.base import ModelState

from inbox.bulk import plain_cursor

# Keys per statement: far below every database's parameter limit, and what the intake's
# query-count guards assume (a batch of up to this many keys is one statement).
MAX_KEYS = 500

M = TypeVar("M", bound=models.Model)


def rows_in(sql: str, params: Sequence[Any], keys: Iterable[Any]) -> list[tuple]:
    """Every row of `sql`, whose ` IN ({keys})` marks where the keys go, for all `keys`.

    `params` are the parameters before the IN list. No statement runs without keys.
    """
    keys = list(keys)
    rows: list[tuple] = []
    if connection.vendor == "postgresql":
        # The keys as one array, bound on the server in binary: bound on the client, each
        # key was quoted into the statement in Python, and the long statement split again
        # on every run (a tenth of an import's filing CPU). PostgreSQL reads `IN (…)` as
        # `= ANY(…)`: the plans are the same.
        statement = sql.replace(" IN ({keys})", " = ANY(%b)")
        with plain_cursor(binary_arrays=True) as cursor:
            for start in range(0, len(keys), MAX_KEYS):
                cursor.execute(statement, [*params, keys[start : start + MAX_KEYS]])
                rows.extend(cursor.fetchall())
        return rows
    with plain_cursor() as cursor:
        for start in range(0, len(keys), MAX_KEYS):
            chunk = keys[start : start + MAX_KEYS]
            cursor.execute(sql.format(keys=", ".join(["%s"] * len(chunk))), [*params, *chunk])
            rows.extend(cursor.fetchall())
    return rows


@lru_cache(maxsize=64)
def _load_shape(
    model: type[models.Model], alias: str, defer: tuple[str, ...] = ()
) -> tuple[str, list[str], list[tuple]]:
    """`SELECT <every concrete column but those deferred> FROM <table>`, the attribute
    names in that order, and the converters of each column, once per model, database and
    deferral: building them costs more than reading a few rows."""
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f.name not in defer]
    columns = ", ".join(quote(f.column) for f in fields)
    # Identifiers come from the model, quoted; every value is a parameter.
    select = f"SELECT {columns} FROM {quote(meta.db_table)}"  # noqa: S608
    names = [f.attname for f in fields]
    converters = [
        (index, converter, column)
        for index, field in enumerate(fields)
        for column in (field.get_col(meta.db_table),)
        for converter in (
            *connection.ops.get_db_converters(column),
            *field.get_db_converters(connection),
        )
    ]
    return select, names, converters


def instances_in(
    model: type[M],
    where: str,
    params: Sequence[Any],
    keys: Iterable[Any],
    *,
    defer: tuple[str, ...] = (),
) -> list[M]:
    """Instances of `model` whose rows match `where` (with its `{keys}` IN list), loaded as
    the ORM loads them: every concrete field, the database's converters applied. A field
    named in `defer` is not read; as with `QuerySet.defer`, it is loaded when first used.

    Built the way `Model.from_db` leaves them, without `Model.__init__` (the models read
    here have no `post_init` receivers): a raw queryset's per-row machinery costs more than
    the query at a thousand rows.
    """
    select, _, _ = _load_shape(model, connection.alias, defer)
    return _instances(model, rows_in(f"{select} WHERE {where}", params, keys), defer)


def in_bulk(model: type[M], keys: Iterable[Any]) -> dict[Any, M]:
    """`model.objects.in_bulk(keys)`, loaded as `instances_in` loads them."""
    pk = model._meta.pk.column
    found = instances_in(model, f"{connection.ops.quote_name(pk)} IN ({{keys}})", [], keys)
    return {instance.pk: instance for instance in found}


def instances(model: type[M], where: str = "", params: Sequence[Any] = ()) -> list[M]:
    """Every instance of `model` (or those whose rows match `where`, which may end in an
    ORDER BY), loaded as `instances_in` loads them: for the few rows of a small table read
    on every delivery, where compiling a queryset costs more than the query."""
    select, _, _ = _load_shape(model, connection.alias)
    with plain_cursor() as cursor:
        cursor.execute(f"{select} WHERE {where}" if where else select, params)
        return _instances(model, cursor.fetchall())


def _instances(model: type[M], rows: Iterable[tuple], defer: tuple[str, ...] = ()) -> list[M]:
    alias = connection.alias
    _, names, converters = _load_shape(model, alias, defer)
    found: list[M] = []
    for row in rows:
        if converters:
            row = list(row)
            for index, converter, column in converters:
                row[index] = converter(row[index], column, connection)
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, row, strict=True))
        state = instance._state = ModelState()
        state.adding, state.db = False, alias
        found.append(instance)
    return found
