"""Bulk loading of generated rows: COPY on PostgreSQL, one executemany per table on SQLite.

Rows carry their ids, so nothing has to come back from the database; the id sequences are
moved past them at the end. Values are converted once per column: JSON to text everywhere,
datetimes and booleans to what Django stores on SQLite.
"""

import json

from django.db import connection
from django.db.models import BooleanField, DateTimeField, JSONField


def columns_of(model) -> list[tuple[str, str, object]]:
    """(attribute, column, field) of every concrete field, in the table's order."""
    return [(f.attname, f.column, f) for f in model._meta.concrete_fields]


def _converter(field):
    if isinstance(field, JSONField):
        return json.dumps
    if connection.vendor == "sqlite":
        if isinstance(field, DateTimeField):
            return connection.ops.adapt_datetimefield_value
        if isinstance(field, BooleanField):
            return int
    return None


def model_rows(model, objects) -> list[tuple]:
    """Row tuples of model instances, in the order of `columns_of(model)`."""
    names = [name for name, _, _ in columns_of(model)]
    return [tuple(getattr(obj, name) for name in names) for obj in objects]


def write(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert `rows` (values in `columns` order, attribute names) into the model's table."""
    if not rows:
        return
    fields = {name: field for name, _, field in columns_of(model)}
    converters = [(i, _converter(fields[name])) for i, name in enumerate(columns)]
    converters = [(i, convert) for i, convert in converters if convert is not None]
    if converters:
        converted = []
        for row in rows:
            row = list(row)
            for index, convert in converters:
                if row[index] is not None:
                    row[index] = convert(row[index])
            converted.append(row)
        rows = converted
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(fields[name].column) for name in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)


def write_models(model, objects) -> None:
    write(model, [name for name, _, _ in columns_of(model)], model_rows(model, objects))


def next_ids(models: dict[str, object]) -> dict[str, int]:
    """The first free id of each table."""
    found = {}
    with connection.cursor() as cursor:
        for key, model in models.items():
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
            found[key] = cursor.fetchone()[0]
    return found


def reset_sequences(models) -> None:
    """Move PostgreSQL's id sequences past the written ids (SQLite follows by itself)."""
    from django.core.management.color import no_style

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(statement)


def update_contacts(contacts) -> None:
    """Health counted after a contact's row was written (a later case of the customer)."""
    rows = [(c.bad_experiences, c.health, c.pk) for c in contacts]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE inbox_contact SET bad_experiences = %s, health = %s WHERE id = %s", rows
            )
