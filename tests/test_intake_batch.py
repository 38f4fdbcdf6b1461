"""Workers file stored deliveries in batches: each one processed exactly once, a message
that came twice stored once, an unreadable one failed without holding up the others."""

import json
import threading

import pytest
from django.db import connection, transaction

from cases.intake_batch import BATCH_FILING_LOCK, process_deliveries
from inbox import intake_queue
from inbox.models import Delivery, Message
from inbox.tasks import drain_intake
from tests.conftest import generic_message, post_generic

pytestmark = pytest.mark.django_db


def stored(account, *items, body: bytes | None = None) -> Delivery:
    """A delivery as the webhook leaves it on the scale-out path: stored, not yet filed."""
    return Delivery.objects.create(
        account=account, body=body if body is not None else json.dumps(list(items)).encode()
    )


def test_a_batch_files_every_delivery_once(account):
    deliveries = [
        stored(account, generic_message(f"m{n}", f"Order {n} is late", author={"id": f"c{n % 3}"}))
        for n in range(12)
    ]
    ids = [d.pk for d in deliveries]

    assert process_deliveries(ids) == 12
    assert process_deliveries(ids) == 0  # handed out twice: nothing added

    for delivery in Delivery.objects.filter(pk__in=ids):
        assert (delivery.status, delivery.message_count, delivery.attempts) == ("processed", 1, 1)
    messages = Message.objects.filter(account=account)
    assert messages.count() == 12
    assert not messages.filter(case__isnull=True).exists()
    assert {m.delivery_id for m in messages} == set(ids)
    assert messages.values("case").distinct().count() == 3  # one case per customer


def test_a_message_in_two_deliveries_of_a_batch_is_stored_once_for_the_first(account):
    first = stored(account, generic_message("same"))
    second = stored(account, generic_message("same"), generic_message("other"))

    process_deliveries([first.pk, second.pk])

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.message_count) == ("processed", 1)
    assert (second.status, second.message_count) == ("processed", 1)
    assert Message.objects.get(external_id="same").delivery_id == first.pk
    assert Message.objects.get(external_id="other").delivery_id == second.pk


def test_an_unreadable_delivery_fails_alone_and_the_rest_are_filed(account):
    good = stored(account, generic_message("ok-1"))
    bad = stored(account, body=b'{"external_id": "x", "text": 5')
    later = stored(account, generic_message("ok-2"))

    process_deliveries([good.pk, bad.pk, later.pk])

    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {good.pk: "processed", bad.pk: "failed", later.pk: "processed"}
    assert "not valid JSON" in Delivery.objects.get(pk=bad.pk).error
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["ok-1", "ok-2"]


def test_a_batch_costs_about_the_queries_of_one_delivery(account, django_assert_max_num_queries):
    one = stored(account, generic_message("solo", author={"id": "c-solo"}))
    ids = [stored(account, generic_message(f"m{n}", author={"id": f"c{n}"})).pk for n in range(40)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as single:
        process_deliveries([one.pk])
    with django_assert_max_num_queries(len(single) * 3):
        assert process_deliveries(ids) == 40


def test_the_drain_task_files_what_the_queue_holds(account, needs_redis, settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    intake_queue.client().delete(*intake_queue.keys())
    ids = [stored(account, generic_message(f"q{n}")).pk for n in range(5)]
    assert intake_queue.push(ids[0]) is True  # the first delivery wakes a drain
    for delivery_id in ids[1:]:
        assert intake_queue.push(delivery_id) is False  # the others find it awake

    assert drain_intake(limit=50) == 5

    assert intake_queue.waiting() == 0
    assert not intake_queue.client().exists(intake_queue.keys()[1])  # asleep again
    assert set(Delivery.objects.values_list("status", flat=True)) == {"processed"}
    assert Message.objects.filter(case__isnull=False).count() == 5


def test_a_broker_that_cannot_be_reached_still_answers_200_and_keeps_the_delivery(
    client, account, settings
):
    settings.CAREMGR_TASKS_INLINE = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there

    answer = post_generic(client, account, generic_message("kept"))

    assert answer.status_code == 200
    assert Delivery.objects.get(pk=answer.json()["delivery"]).status == "received"


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_files_its_batch_only_after_the_first_commits(account, needs_postgres):
    """Two batches filed at once would lock cases and agents in their own orders and
    deadlock; the second waits for the first instead."""
    waiting = stored(account, generic_message("second-worker"))
    holding, release = threading.Event(), threading.Event()

    def first_worker() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BATCH_FILING_LOCK])
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def second_worker() -> None:
        try:
            process_deliveries([waiting.pk])
        finally:
            connection.close()

    first = threading.Thread(target=first_worker)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=second_worker)
    second.start()
    second.join(1.0)
    assert second.is_alive()
    assert Delivery.objects.get(pk=waiting.pk).status == "received"

    release.set()
    first.join(10)
    second.join(10)
    assert Delivery.objects.get(pk=waiting.pk).status == "processed"
    assert Message.objects.filter(external_id="second-worker", case__isnull=False).count() == 1
