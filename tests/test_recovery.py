"""Deliveries stored but never processed are picked up again; a broken queue loses nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.models import Delivery, Message
from inbox.recovery import redeliver_stale
from tests.conftest import generic_message, post_generic

pytestmark = pytest.mark.django_db


def stored_only(client, account, settings, monkeypatch, external_id="r1"):
    """A delivery accepted while nothing processed it (a crash between store and hand-over)."""
    monkeypatch.setattr("inbox.handoff.dispatch", lambda delivery_id: None)
    answer = post_generic(client, account, generic_message(external_id))
    monkeypatch.undo()
    assert answer.status_code == 200
    return Delivery.objects.get(pk=answer.json()["delivery"])


def test_a_delivery_left_unprocessed_is_processed_after_the_grace_period(
    client, account, settings, monkeypatch
):
    delivery = stored_only(client, account, settings, monkeypatch)
    assert delivery.status == "received"
    assert redeliver_stale() == 0  # still inside the grace period
    Delivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    assert redeliver_stale() == 1
    delivery.refresh_from_db()
    assert delivery.status == "processed"
    assert Message.objects.filter(external_id="r1", case__isnull=False).count() == 1


def test_redelivering_twice_adds_nothing(client, account, settings, monkeypatch):
    delivery = stored_only(client, account, settings, monkeypatch)
    Delivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    redeliver_stale()
    Delivery.objects.filter(pk=delivery.pk).update(status="received")
    redeliver_stale()
    assert Message.objects.filter(external_id="r1").count() == 1


def test_a_broken_queue_still_answers_200_and_keeps_the_delivery(
    client, account, settings, monkeypatch
):
    settings.CAREMGR_TASKS_INLINE = False

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("inbox.tasks.process_delivery.delay", broker_down)
    answer = post_generic(client, account, generic_message("q1"))
    assert answer.status_code == 200
    delivery = Delivery.objects.get(pk=answer.json()["delivery"])
    assert delivery.status == "received"
