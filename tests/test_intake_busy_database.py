"""A delivery whose processing met a busy database reaches the inbox without a replay.

Under load a lock wait can run out (SQLite's busy timeout, a PostgreSQL deadlock or lock
timeout between workers). That says nothing about the delivery: it stays `received` for the
recovery pass, which files it a moment later, and only a database that stays busy for
several attempts leaves it `failed` for an admin.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.intake import process_delivery
from inbox.models import Delivery, Message
from inbox.recovery import BUSY_ATTEMPTS, redeliver_stale
from tests.conftest import generic_message, post_generic

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stored(client, account, monkeypatch, needs_postgres):
    """A second message of a known customer, accepted while nothing processed it yet."""
    post_generic(client, account, generic_message("busy-0", text="Hello?"))
    monkeypatch.setattr("inbox.handoff.dispatch", lambda delivery_id: None)
    answer = post_generic(client, account, generic_message("busy-1", text="Where is my refund?"))
    monkeypatch.undo()
    delivery = Delivery.objects.get(pk=answer.json()["delivery"])
    five_minutes_ago = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(pk=delivery.pk).update(received_at=five_minutes_ago)
    return delivery


def process_while_locked(delivery_id: int) -> str:
    """Process while another connection holds the customer's row (as a concurrent intake
    of the same customer does), with a short lock wait."""
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    ) as other:
        other.execute("SELECT 1 FROM inbox_contact WHERE external_id = 'u1' FOR UPDATE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            return process_delivery(delivery_id)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


def test_a_delivery_that_met_a_lock_is_filed_by_the_next_recovery_pass(stored):
    assert process_while_locked(stored.pk) == "received"
    stored.refresh_from_db()
    assert stored.status == "received"
    assert "lock" in stored.error
    assert not Message.objects.filter(external_id="busy-1").exists()

    assert redeliver_stale() == 1
    stored.refresh_from_db()
    assert stored.status == "processed"
    assert Message.objects.filter(external_id="busy-1", case__isnull=False).count() == 1


def test_a_database_busy_at_every_attempt_leaves_the_delivery_failed_for_an_admin(stored):
    Delivery.objects.filter(pk=stored.pk).update(attempts=BUSY_ATTEMPTS - 1)
    assert process_while_locked(stored.pk) == "failed"
    stored.refresh_from_db()
    assert stored.status == "failed"
    assert stored.attempts == BUSY_ATTEMPTS
