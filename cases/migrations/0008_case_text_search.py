"""Trigram indexes for the case list's `q` text search, on PostgreSQL only.

`q` matches message texts and the contact's handle and name with `icontains`, which Django
writes as `UPPER(col::text) LIKE UPPER('%…%')`. No B-tree serves a pattern with a leading
wildcard; a GIN index of trigrams on the same `UPPER(...)` expression does. It needs the
pg_trgm extension: created here when the database user may (a superuser, or trusted
extensions), else the indexes are left out and `q` still works, by scanning. SQLite has no
such index and scans (fine at the sizes it serves).

The indexes are built CONCURRENTLY (so outside a transaction): on a large inbox that takes
minutes (3.5 min for 1M messages on 2 busy cores), and intake must keep writing meanwhile.
"""

import logging

from django.db import migrations, transaction

INDEXES = {
    "message_text_search": ("inbox_message", "text"),
    "contact_handle_search": ("inbox_contact", "handle"),
    "contact_name_search": ("inbox_contact", "name"),
}


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # no right to create it: search keeps working unindexed
            logging.getLogger(__name__).warning("pg_trgm not available, q unindexed: %s", exc)
            return
        for name, (table, column) in INDEXES.items():
            cursor.execute(
                f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("cases", "0007_list_indexes"),
        ("inbox", "0002_account_poll_state"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
