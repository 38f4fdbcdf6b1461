"""Updating many rows of one model with one prepared UPDATE per row, sent with executemany.

Django's `bulk_update` builds a `CASE WHEN` expression per field and row, which costs
milliseconds per row at a few dozen fields; the intake writes every case it touched, so it
uses this plain statement instead. Values go through each field's own preparation, so the
database sees exactly what `save()` would have written.
"""

from collections.abc import Iterable, Sequence

from django.db import connection, models


def update_rows(objects: Iterable[models.Model], fields: Sequence[str]) -> int:
    objects = list(objects)
    if not objects:
        return 0
    model = type(objects[0])
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns)
    # Identifiers come from the model, quoted; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)
