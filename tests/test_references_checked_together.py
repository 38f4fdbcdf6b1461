"""The filing's bulk writes have their foreign keys checked per referenced table, and keep
every guarantee the per-row triggers gave: a missing row is an error, a referenced row
cannot be deleted before the commit, and every other statement keeps its triggers."""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inbox.bulk import insert_rows, new_instance
from inbox.models import Contact, Message
from inbox.references import CHECKED_TOGETHER_FROM, checked_together

pytestmark = pytest.mark.django_db(transaction=True)


def message_row(account, contact_id: int, external_id: str) -> Message:
    return new_instance(
        Message,
        {
            "account_id": account.pk,
            "contact_id": contact_id,
            "external_id": external_id,
            "channel": "generic",
            "direction": "in",
            "kind": "dm",
            "text": "where is my parcel?",
            "created_at": timezone.now(),
        },
    )


def other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    )


@pytest.fixture
def customer(db):
    return Contact.objects.create(channel="generic", external_id="c-1", handle="ann")


def test_a_row_that_references_nothing_fails_the_block_and_nothing_is_kept(
    account, customer, needs_postgres
):
    with (
        pytest.raises(IntegrityError, match=r"inbox_contact\.id has no row for 987654"),
        transaction.atomic(),
        checked_together(CHECKED_TOGETHER_FROM),
    ):
        insert_rows([message_row(account, customer.pk, "m-1")])
        insert_rows([message_row(account, 987654, "m-2")])
    assert not Message.objects.exists()


def test_rows_inserted_in_the_block_need_no_lookup_and_pass(account, customer, needs_postgres):
    with transaction.atomic(), checked_together(CHECKED_TOGETHER_FROM):
        rows = [message_row(account, customer.pk, f"m-{n}") for n in range(3)]
        insert_rows(rows)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["m-0", "m-1", "m-2"]


def test_a_referenced_row_cannot_be_deleted_until_the_commit(account, customer, needs_postgres):
    """The check locks what it found, as the trigger's own lookup does."""
    with other_connection() as other:
        other.execute("SET lock_timeout = '300ms'")
        with transaction.atomic():
            with checked_together(CHECKED_TOGETHER_FROM):
                insert_rows([message_row(account, customer.pk, "m-1")])
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM inbox_contact WHERE id = %s", [customer.pk])
    assert Message.objects.get().contact_id == customer.pk


def test_other_statements_in_the_block_keep_their_triggers(account, customer, needs_postgres):
    """The triggers are left out for the bulk statements alone: a row saved through the ORM
    in between is still checked, at the commit."""
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        checked_together(CHECKED_TOGETHER_FROM),
    ):
        insert_rows([message_row(account, customer.pk, "m-1")])
        message_row(account, 987654, "m-2").save(force_insert=True)
    assert not Message.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('session_replication_role')")
        assert cursor.fetchone() == ("origin",)


def test_a_user_who_may_not_set_the_role_keeps_the_per_row_checks(
    account, customer, needs_postgres
):
    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS caremgr_plain")
        cursor.execute("CREATE ROLE caremgr_plain")
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO caremgr_plain")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO caremgr_plain")
    try:
        with pytest.raises(IntegrityError) as raised, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL ROLE caremgr_plain")
            connection.__dict__.pop("_caremgr_role_settable", None)
            with checked_together(CHECKED_TOGETHER_FROM):
                insert_rows([message_row(account, 987654, "m-1")])
        # The trigger's own message, raised at the commit: our check never ran.
        assert "violates foreign key constraint" in str(raised.value)
    finally:
        connection.__dict__.pop("_caremgr_role_settable", None)
        with connection.cursor() as cursor:
            cursor.execute("DROP OWNED BY caremgr_plain")
            cursor.execute("DROP ROLE caremgr_plain")
    assert not Message.objects.exists()


def test_a_few_rows_keep_the_per_row_checks(account, customer, needs_postgres):
    """For a webhook's few messages the triggers cost less than the statements of a check."""
    with (
        pytest.raises(IntegrityError) as raised,
        transaction.atomic(),
        checked_together(CHECKED_TOGETHER_FROM - 1),
    ):
        insert_rows([message_row(account, 987654, "m-1")])
    assert "violates foreign key constraint" in str(raised.value)  # the trigger, at commit
