"""The foreign keys of the filing's bulk writes, checked per referenced table, not per row.

PostgreSQL checks each foreign key of each row written with a query of its own (a trigger,
deferred here to the commit): filing 1,000 imported messages ran about 7,500 of them, 28 %
of the database's CPU for an import (perf). Inside `checked_together()`, the statements
that `insert_rows` and `update_rows` send run with `session_replication_role = replica`,
which leaves those triggers out for them alone, and every key they wrote is checked at the
end as the triggers check it, locked `FOR KEY SHARE` until the transaction ends, with one
statement per referenced table. A missing key raises IntegrityError, as the trigger would
at the commit, and the transaction is rolled back.

Every other statement keeps its triggers. Where the database user may not set the role
(neither a superuser nor, on PostgreSQL 15 and later, granted `SET ON PARAMETER
session_replication_role`), and on SQLite, nothing changes.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, models


@dataclass
class _Block:
    """What the bulk writes of one `checked_together` block wrote."""

    # The keys written, by the referenced (table, column, array type).
    written: dict[tuple[str, str, str], set] = field(default_factory=dict)
    # The keys of the rows inserted, by (table, column): they exist, and no other
    # transaction can see them to delete them, so they need no check.
    inserted: dict[tuple[str, str], set] = field(default_factory=dict)


# Per thread of control: the block being written, if any.
_block: ContextVar[_Block | None] = ContextVar("references checked together", default=None)
# Rows (messages filed) from which checking together costs less: below, the statements of
# the check cost more than the triggers save (PostgreSQL, a batch of new customers filed
# through the intake: 10.5 against 8.3 ms for one message, 0.72 against 0.74 ms per
# message for 50, 0.45 against 0.51 for 300 and more).
CHECKED_TOGETHER_FROM = 50
# The role's value while the triggers are left out, and the one it goes back to.
_WITHOUT_TRIGGERS, _WITH_TRIGGERS = "replica", "origin"


@contextmanager
def checked_together(rows: int) -> Iterator[None]:
    """Within the caller's transaction: the bulk writes made inside, for `rows` rows or
    more than `CHECKED_TOGETHER_FROM`, leave out the per-row foreign-key triggers, and
    their keys are checked together on the way out."""
    if rows < CHECKED_TOGETHER_FROM or _block.get() is not None or not _triggers_may_be_left_out():
        yield  # inside another such block (it checks), or the per-row checks stay
        return
    block = _Block()
    token = _block.set(block)
    try:
        yield
    finally:
        _block.reset(token)
    for (table, column, _), keys in block.written.items():
        keys -= block.inserted.get((table, column), set())
    _check(block.written)


@contextmanager
def without_triggers(fields: Sequence[models.Field], columns: Sequence[list]) -> Iterator[None]:
    """Around the statements of one bulk write of `fields`, whose values `columns` hold
    column by column: inside `checked_together`, they run without the foreign-key
    triggers, and the keys they write are noted for its check."""
    block = _block.get()
    if block is None:
        yield
        return
    from inbox.bulk import array_type  # here: inbox.bulk imports this module

    for column, values in zip(fields, columns, strict=False):
        if column.many_to_one and column.db_constraint:
            target = column.target_field
            key = (target.model._meta.db_table, target.column, array_type(column))
            block.written.setdefault(key, set()).update(v for v in values if v is not None)
    _set_role(_WITHOUT_TRIGGERS)
    yield
    # Not after a failed statement: the transaction (or its savepoint) is rolled back, and
    # the role set inside it with it.
    _set_role(_WITH_TRIGGERS)


def inserted(meta, keys: Sequence) -> None:
    """Rows of `meta`'s table with these primary keys were just inserted: inside
    `checked_together`, references to them need no check."""
    block = _block.get()
    if block is not None:
        block.inserted.setdefault((meta.db_table, meta.pk.column), set()).update(keys)


def _check(written: dict[tuple[str, str, str], set]) -> None:
    from inbox.bulk import plain_cursor  # here: inbox.bulk imports this module

    quote = connection.ops.quote_name
    with plain_cursor(binary_arrays=True) as cursor:
        for (table, column, array), keys in written.items():
            if not keys:
                continue
            # Identifiers come from the models, quoted; the keys are one parameter.
            cursor.execute(
                f"SELECT {quote(column)} FROM {quote(table)}"  # noqa: S608
                f" WHERE {quote(column)} = ANY((%b)::{array}) ORDER BY 1 FOR KEY SHARE",
                [sorted(keys)],
            )
            missing = keys - {row[0] for row in cursor.fetchall()}
            if missing:
                shown = ", ".join(map(str, sorted(missing)[:5]))
                raise IntegrityError(
                    f"foreign key violation: {table}.{column} has no row for {shown}"
                    + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
                )


def _set_role(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [role])


def _triggers_may_be_left_out() -> bool:
    """PostgreSQL, in a transaction, as a user who may set the role (asked once per
    connection), which has its triggers on now."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return False
    connection.ensure_connection()
    raw = connection.connection
    known = getattr(connection, "_caremgr_role_settable", None)
    if known is None or known[0] is not raw:
        with connection.cursor() as cursor:
            if connection.pg_version >= 150000:
                cursor.execute(
                    "SELECT has_parameter_privilege('session_replication_role', 'SET'),"
                    " current_setting('session_replication_role')"
                )
            else:
                cursor.execute(
                    "SELECT rolsuper, current_setting('session_replication_role')"
                    " FROM pg_roles WHERE rolname = current_user"
                )
            settable, role = cursor.fetchone()
        known = (raw, settable and role == _WITH_TRIGGERS)
        connection._caremgr_role_settable = known
    return known[1]
