"""Writing many rows of one model with plain SQL: multi-row INSERT … RETURNING, and UPDATE.

The intake writes thousands of messages, cases and timeline entries per import batch.
Django's `bulk_create` and `bulk_update` compile SQL and prepare every value of every field
through several layers per row, which costs more than the database's own work; these build
one statement per shape and prepare each value with the one step its column type needs.
Values end up exactly as `save()` would write them: fields whose preparation is more than
the identity (JSON, anything unusual, naive datetimes) still go through the field itself.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.constants import OnConflict
from django.utils import timezone

from inbox import references

# Fields whose database value is the Python value itself, on SQLite and PostgreSQL.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.ForeignKey,
)
# Largest VALUES statement: rows × columns parameters (PostgreSQL allows 65,535; SQLite
# 32,766 since 3.32). Beyond a few thousand parameters a longer statement saves nothing.
MAX_PARAMETERS = 16_000
# Rows of one UNNEST statement (PostgreSQL): bounds the arrays built for it.
MAX_ARRAY_ROWS = 5_000

Prepare = Callable[[Any], Any]
_ZERO = timedelta(0)
M = TypeVar("M", bound=models.Model)
PLAIN, DATETIME, JSON, OTHER = range(4)


@cache
def _kinds(fields: tuple[models.Field, ...]) -> tuple[tuple[int, int, models.Field], ...]:
    """(position, kind, field) of every column whose value needs preparing."""
    kinds = []
    for index, field in enumerate(fields):
        if isinstance(field, _PLAIN_FIELDS):
            continue
        if isinstance(field, models.DateTimeField):
            kinds.append((index, DATETIME, field))
        elif isinstance(field, models.JSONField):
            kinds.append((index, JSON, field))
        else:
            kinds.append((index, OTHER, field))
    return tuple(kinds)


@lru_cache(maxsize=128)
def _preparers(fields: tuple[models.Field, ...], _under: tuple) -> dict[int, Prepare]:
    """The preparer of each column that needs one, built once per shape and per database
    and time zone settings (`_under`): a webhook writes one row, and building them costs
    more than preparing its values."""
    return {index: _preparer(kind, field) for index, kind, field in _kinds(fields)}


def _preparer(kind: int, field: models.Field) -> Prepare:
    """The one step a column's value needs, as the field itself would take it."""
    ops = connection.ops
    if kind == DATETIME:
        return _datetime_preparer(field)
    if kind == JSON:
        adapt_json, encoder = ops.adapt_json_value, field.encoder
        empty = {dict: adapt_json({}, encoder), list: adapt_json([], encoder)}

        def prepare_json(value: Any) -> Any:
            if value is None or hasattr(value, "as_sql"):
                return field.get_db_prep_save(value, connection)
            if not value and type(value) in empty:
                return empty[type(value)]  # most timeline entries carry no data
            return adapt_json(value, encoder)

        return prepare_json
    return lambda value: field.get_db_prep_save(value, connection)


def _datetime_preparer(field: models.Field) -> Prepare:
    adapt = connection.ops.adapt_datetimefield_value
    # What the SQLite backend's adapter does for an aware value, minus its checks: the
    # value in the connection's zone, as text; a UTC value in a UTC connection is only cut.
    as_text = connection.vendor == "sqlite" and settings.USE_TZ
    zone = connection.timezone if as_text else None
    in_utc = as_text and zone.utcoffset(None) == _ZERO

    def prepare_datetime(value: Any) -> Any:
        if value is None:
            return None
        if in_utc and value.__class__ is datetime and value.tzinfo is UTC:
            return value.isoformat(" ")[:-6]  # the common case, in one step: no "+00:00"
        offset = value.utcoffset() if isinstance(value, datetime) else None
        if offset is None:
            return field.get_db_prep_save(value, connection)  # naive: warns, assumes UTC
        if not as_text:
            return adapt(value)
        if in_utc and offset == _ZERO:
            return str(value)[:-6]  # "… 22:10:47+00:00" without its offset
        return str(value.astimezone(zone).replace(tzinfo=None))

    return prepare_datetime


def _columns(objects: Sequence[models.Model], fields: tuple[models.Field, ...]) -> list[list]:
    """Each field's database values for `objects`, one list per column.

    Values are read from the instances' own dictionaries: a foreign key's `…_id` and `pk`
    go through descriptors otherwise, which costs more than the rest of this.
    """
    kinds = _kinds(fields)
    preparers = _preparers(fields, (connection.alias, settings.USE_TZ, connection.timezone_name))
    moments = {index for index, kind, _ in kinds if kind == DATETIME}
    # A moment is often the same object in several columns and rows (a case's creation is
    # also its last message and its clocks' start; `auto_now` is one value for all rows):
    # each object is written as text once. Keyed by identity: every object read stays
    # referenced (`read`) until the end, so no identity is reused meanwhile.
    texts: dict[int, Any] = {}
    read = []
    states = [obj.__dict__ for obj in objects]
    columns = []
    for index, field in enumerate(fields):
        name = field.attname
        try:
            values = [state[name] for state in states]
        except KeyError:  # a deferred field: the descriptor loads it
            values = [getattr(obj, name) for obj in objects]
        prepare = preparers.get(index)
        if index in moments:
            read.append(values)
            columns.append(_once_each(values, prepare, texts))
        else:
            columns.append(list(map(prepare, values)) if prepare else values)
    return columns


def _once_each(values: list, prepare: Prepare, done: dict[int, Any]) -> list:
    """`prepare` of each value, computed once per object."""
    prepared = []
    append, get = prepared.append, done.get
    for value in values:
        key = id(value)
        result = get(key, done)  # `done` itself: not prepared yet (None is a result)
        if result is done:
            result = done[key] = prepare(value)
        append(result)
    return prepared


@cache
def _defaults(model: type[models.Model]) -> tuple[dict[str, Any], tuple[models.Field, ...]]:
    """(fixed default per attribute, fields whose default is made anew for each instance)."""
    fixed, fresh = {}, []
    for field in model._meta.concrete_fields:
        # A field without a default has NOT_PROVIDED, a class, as its (callable) default.
        if field.has_default() and callable(field.default):
            fresh.append(field)
        else:
            fixed[field.attname] = field.get_default()
    return fixed, tuple(fresh)


def new_instance(model: type[M], values: dict[str, Any], related: dict | None = None) -> M:
    """An unsaved instance from attribute values (`contact_id`, not `contact`); every field
    not named takes its default, and `related` objects (by field name) are cached on it.

    Built the way Django unpickles an instance (`__new__`, then the attributes), without
    `Model.__init__`, whose per-field descriptors cost more than the rest of a bulk insert.
    The models written here have no `post_init` receivers.
    """
    fixed, fresh = _defaults(model)
    instance = model.__new__(model)
    attributes = instance.__dict__
    attributes.update(fixed)
    for field in fresh:
        if field.attname not in values:
            attributes[field.attname] = field.get_default()
    attributes.update(values)
    instance._state = state = ModelState()
    if related:
        state.fields_cache = dict(related)  # what the state's own descriptor would start
    return instance


@dataclass(frozen=True)
class _Insert:
    """The parts of one model's INSERT statement on the current database."""

    fields: tuple[models.Field, ...]
    head: str  # INSERT INTO table (columns)
    tail: str  # RETURNING id, ON CONFLICT DO NOTHING, or nothing
    unnest: str  # PostgreSQL: SELECT * FROM UNNEST((%s)::type[], ...); else ""
    one_by_one: bool  # each new id read back on its own (SQLite before 3.35)

    def statements(self, columns: list[list]) -> Iterator[tuple[int, str, list]]:
        """(rows in it, SQL, parameters) of each statement that inserts the rows whose
        values `columns` hold, column by column."""
        count = len(columns[0])
        if self.unnest:
            # One array per column: a handful of parameters whatever the number of rows,
            # where a VALUES list costs the driver and the planner one per value.
            for start in range(0, count, MAX_ARRAY_ROWS):
                chunk = [column[start : start + MAX_ARRAY_ROWS] for column in columns]
                yield len(chunk[0]), f"{self.head} {self.unnest} {self.tail}", chunk
            return
        width = len(columns)
        per_statement = 1 if self.one_by_one else MAX_PARAMETERS // width
        for start in range(0, count, per_statement):
            rows = min(per_statement, count - start)
            # Row by row, flat: each column's values dealt into every width-th place (a
            # column of another length fails here, as a short row would).
            parameters = [None] * (rows * width)
            for index, column in enumerate(columns):
                parameters[index::width] = column[start : start + rows] if rows < count else column
            yield rows, self.values_sql(rows), parameters

    @lru_cache(maxsize=64)  # noqa: B019 - shapes live as long as the process, cached
    def values_sql(self, rows: int) -> str:
        """The statement for `rows` rows: built once per size (the same text again lets
        the SQLite cursor reuse its converted placeholders)."""
        sql = self._values(rows, "%s")
        if connection.vendor == "sqlite":
            # Its placeholders converted already: no scan of thousands of them per batch.
            _QMARK_QUERIES[sql] = self._values(rows, "?")
        return sql

    def _values(self, rows: int, placeholder: str) -> str:
        one = "(" + ", ".join([placeholder] * len(self.fields)) + ")"
        return f"{self.head} VALUES {', '.join([one] * rows)} {self.tail}"


def _array_types(fields: tuple[models.Field, ...]) -> list[str] | None:
    """The PostgreSQL array type of each column (`varchar[]`, `bigint[]`, …) when every
    column has a plain type, as Django's own bulk_create requires for UNNEST; else None."""
    if connection.vendor != "postgresql" or any(
        hasattr(f, "get_placeholder")
        or (f.target_field if f.is_relation else f).get_internal_type() not in connection.data_types
        for f in fields
    ):
        return None
    return [array_type(f) for f in fields]


def array_type(field: models.Field) -> str:
    """The PostgreSQL array type of a column's values, without the length (varchar[], not
    varchar(50)[]): nothing is cut short on the way."""
    return f"{field.db_type(connection).split('(')[0]}[]"


def _arrays(types: list[str]) -> str:
    """One binary array parameter per column (see `_cursor`)."""
    return ", ".join(f"(%b)::{array_type}" for array_type in types)


def _unnest(fields: tuple[models.Field, ...]) -> str:
    """`SELECT * FROM UNNEST(...)` for PostgreSQL; "" where a VALUES list is used instead."""
    types = _array_types(fields)
    return f"SELECT * FROM UNNEST({_arrays(types)})" if types else ""  # noqa: S608 - model types


# SQLite: statements whose "%s" placeholders were turned into "?" already, by text.
_QMARK_QUERIES: dict[str, str] = {}


@cache
def _sqlite_cursor_class() -> type:
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    class QmarkOnceCursor(SQLiteCursorWrapper):
        """Django's SQLite cursor, converting a statement's placeholders once: a bulk
        statement holds thousands, which the regular expression of Django's cursor
        scans on every call, and the same few statements come back batch after batch."""

        def convert_query(self, query: str, *, param_names=None) -> str:
            if param_names is not None:
                return super().convert_query(query, param_names=param_names)
            converted = _QMARK_QUERIES.get(query)
            if converted is None:
                if len(_QMARK_QUERIES) >= 256:
                    _QMARK_QUERIES.clear()
                converted = _QMARK_QUERIES[query] = super().convert_query(query)
            return converted

    return QmarkOnceCursor


@contextmanager
def plain_cursor(*, binary_arrays: bool = False) -> Iterator:
    """A cursor of the current connection for the statements of bulk paths, wrapped as
    Django wraps its own (query logging, execute wrappers).

    For binary array parameters (`%b`, PostgreSQL), one that binds them on the server:
    Django's default cursor writes every parameter into the statement as text, escaping
    each element of each array in Python, which costs ten times what sending them in
    binary does. On SQLite, one that converts each statement's placeholders once.
    """
    connection.ensure_connection()
    if binary_arrays:
        from django.db.backends.postgresql.base import ServerBindingCursor

        raw = ServerBindingCursor(connection.connection)
    elif connection.vendor == "sqlite":
        raw = connection.connection.cursor(factory=_sqlite_cursor_class())
    else:
        raw = connection.create_cursor()
    with connection._prepare_cursor(raw) as cursor:
        yield cursor


@cache
def _insert_shape(
    model: type[models.Model], vendor: str, ignore: bool, key: tuple[str, ...] = ()
) -> _Insert:
    meta = model._meta
    if meta.parents:
        raise TypeError(f"{model.__name__} inherits a table: its key is not its own to set")
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    ops = connection.ops
    conflict = OnConflict.IGNORE if ignore else None
    # Identifiers come from the model, quoted; every value is a parameter.
    table = ops.quote_name(meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    head = f"{ops.insert_statement(on_conflict=conflict)} {table} ({columns})"
    can_return = connection.features.can_return_rows_from_bulk_insert
    if ignore:
        # SQLite says it in the head ("INSERT OR IGNORE"), PostgreSQL in the tail.
        tail = ops.on_conflict_suffix_sql(fields, conflict, (), ())
        if key and can_return:
            # The rows inserted come back (the skipped ones do not), named by their key.
            names = (meta.pk.column, *(meta.get_field(name).column for name in key))
            tail = f"{tail} RETURNING {', '.join(map(ops.quote_name, names))}".strip()
    else:
        tail = f"RETURNING {ops.quote_name(meta.pk.column)}" if can_return else ""
    return _Insert(fields, head, tail, _unnest(fields), one_by_one=not ignore and not can_return)


def insert_rows(
    objects: Sequence[models.Model], *, ignore_conflicts: bool = False, key: Sequence[str] = ()
) -> None:
    """INSERT new instances of one model; each gets its primary key, as after `save()`.

    Fields with `auto_now` / `auto_now_add` get the current time, like `save()` gives them.
    With `ignore_conflicts`, rows that break a unique constraint are skipped and no
    instance gets its key (the caller reads back what it needs); unless `key` names the
    fields of that constraint (unique among `objects`): then, where the database can say
    which rows it inserted (PostgreSQL, SQLite 3.35+), those instances get their key and
    are saved, and only the skipped ones stay unsaved.
    """
    if not objects:
        return
    meta = type(objects[0])._meta
    key = tuple(key) if ignore_conflicts else ()
    shape = _insert_shape(type(objects[0]), connection.vendor, ignore_conflicts, key)
    if key and "RETURNING" not in shape.tail:
        key = ()  # the database cannot tell: every instance stays unsaved
    now = timezone.now()
    for field in shape.fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objects:
                setattr(obj, field.attname, now)
    columns = _columns(objects, shape.fields)
    done = 0
    inserted: dict[tuple, Any] = {}
    # The key and the saved state written straight into each instance: the models written
    # here have no parent model whose key `pk` would also set.
    pk_name, alias = meta.pk.attname, connection.alias
    with (
        plain_cursor(binary_arrays=bool(shape.unnest)) as cursor,
        references.without_triggers(shape.fields, columns),
    ):
        for count, sql, params in shape.statements(columns):
            cursor.execute(sql, params)
            if key:
                inserted.update((tuple(row[1:]), row[0]) for row in cursor.fetchall())
            if not ignore_conflicts:
                if shape.one_by_one:
                    ids = [connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)]
                else:
                    ids = [row[0] for row in cursor.fetchall()]
                for obj, pk in zip(objects[done : done + count], ids, strict=True):
                    obj.__dict__[pk_name] = pk
            done += count
    if not ignore_conflicts:
        for obj in objects:
            state = obj._state
            state.adding, state.db = False, alias
        references.inserted(meta, [obj.__dict__[pk_name] for obj in objects])
    elif key:
        names = [meta.get_field(name).attname for name in key]
        for obj in objects:
            pk = inserted.get(tuple(obj.__dict__[name] for name in names))
            if pk is not None:
                obj.__dict__[pk_name] = pk
                state = obj._state
                state.adding, state.db = False, alias


def update_rows(objects: Iterable[models.Model], fields: Sequence[str]) -> int:
    """Write `fields` of saved instances of one model: on PostgreSQL one `UPDATE … FROM
    UNNEST(…)` per few thousand rows, elsewhere one prepared `UPDATE … WHERE id = %s` per
    row, sent with executemany.

    Django's `bulk_update` builds a `CASE WHEN` expression per field and row, which costs
    milliseconds per row at a few dozen fields.
    """
    objects = list({obj.pk: obj for obj in objects}.values())  # an instance twice: its last
    if not objects:
        return 0
    meta = type(objects[0])._meta
    columns = (*(meta.get_field(name) for name in fields), meta.pk)
    values = _columns(objects, columns)
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(meta.pk.column)
    types = _array_types(columns)
    if types:
        aliases = [f"c{index}" for index in range(len(columns))]
        assignments = ", ".join(
            f"{quote(f.column)} = v.{alias}"
            for f, alias in zip(columns[:-1], aliases, strict=False)
        )
        # Identifiers come from the model, quoted; every value is a parameter.
        sql = (
            f"UPDATE {table} SET {assignments} FROM UNNEST({_arrays(types)})"  # noqa: S608
            f" AS v({', '.join(aliases)}) WHERE {table}.{key} = v.{aliases[-1]}"
        )
        with (
            plain_cursor(binary_arrays=True) as cursor,
            references.without_triggers(columns, values),
        ):
            for start in range(0, len(objects), MAX_ARRAY_ROWS):
                cursor.execute(sql, [column[start : start + MAX_ARRAY_ROWS] for column in values])
        return len(objects)
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns[:-1])
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608
    with plain_cursor() as cursor, references.without_triggers(columns, values):
        cursor.executemany(sql, list(zip(*values, strict=True)))
    return len(objects)
