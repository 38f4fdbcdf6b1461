"""A covering index for the SLA report's next responses, on PostgreSQL only.

The report reads, for a period, every next response's group columns and seconds. With them
all in a partial index of the next responses ordered by `at`, PostgreSQL answers from the
index alone (response times are written once and never updated, so the visibility map stays
set) instead of scanning the whole table: 14 MB instead of 41 MB at 355k response times.
SQLite cannot include non-key columns and keeps using `response_kind_period`.

Built CONCURRENTLY (so outside a transaction): intake writes response times meanwhile.
"""

from django.db import migrations

NAME = "response_next_period"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{NAME}" ON "cases_responsetime" ("at") '
            'INCLUDE ("seconds", "tier", "team_id", "agent_id", "account_id", "channel") '
            "WHERE \"kind\" = 'next'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0008_case_text_search")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
