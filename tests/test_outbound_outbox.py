"""The outbox's delivery guarantees: sent after commit and off the request, once per message
however many workers race, and never forgotten when a worker dies mid-send."""

import threading
import time
from datetime import timedelta

import httpx
import pytest
from django.db import OperationalError, connections, transaction
from django.utils import timezone

from inbox import tasks
from inbox.models import Message
from inbox.outbound import outbox
from inbox.outbound.outbox import drain_outbox, queue_send, resend, send_now
from tests.conftest import make_account

pytest_plugins = ["tests.fake_platform"]

# Threads see only committed rows. A transactional test empties the tables afterwards; limited
# to inbox's, the tiers seeded by migrations stay for the tests that follow on this worker.
committed = pytest.mark.django_db(transaction=True)


@pytest.fixture
def meta_account(fake_platform, db):
    return make_account(
        "meta", "acme-meta", access_token=fake_platform.META_TOKEN, own_ids=["106543"]
    )


@pytest.fixture
def messenger_reply(make_outbound, meta_account):
    return make_outbound(meta_account, channel="messenger", customer="24793521834")


def reload(message: Message) -> Message:
    message.refresh_from_db()
    return message


def wait_for_status(message: Message, *statuses: str, seconds: float = 5.0) -> Message:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if reload(message).status in statuses:
                return message
        except OperationalError:
            pass  # the in-memory test database's table lock, held by the sending thread
        time.sleep(0.02)
    raise AssertionError(f"message stayed {message.status!r}, wanted one of {statuses}")


@committed
def test_queue_send_sends_in_a_background_thread_after_commit(
    make_outbound, settings, fake_platform, meta_account
):
    settings.CAREMGR_TASKS_INLINE = True
    with transaction.atomic():
        message = make_outbound(meta_account, channel="messenger", customer="24793521834")
        queue_send(message.pk)
        time.sleep(0.2)
        assert fake_platform.requests == []

    wait_for_status(message, "sent")
    assert message.external_id.startswith("m_fake")


@committed
def test_resend_queues_a_failed_message_again_and_sends_it_after_commit(
    settings, fake_platform, messenger_reply
):
    settings.CAREMGR_TASKS_INLINE = True
    fake_platform.fail_next(1, 400)
    assert send_now(messenger_reply.pk) == "failed"

    with transaction.atomic():
        resend(messenger_reply.pk)
        reload(messenger_reply)
        assert messenger_reply.status == "queued"
        assert messenger_reply.send_attempts == 0
        assert messenger_reply.error == ""
        time.sleep(0.2)
        assert len(fake_platform.requests) == 1  # nothing leaves inside the transaction

    wait_for_status(messenger_reply, "sent", "failed")
    assert messenger_reply.status == "sent"
    assert messenger_reply.send_attempts == 1
    assert len(fake_platform.requests) == 2


@pytest.mark.django_db
def test_queue_send_hands_the_message_to_celery_after_commit(
    settings, monkeypatch, django_capture_on_commit_callbacks, messenger_reply
):
    settings.CAREMGR_TASKS_INLINE = False
    delayed = []
    monkeypatch.setattr(tasks.send_message, "delay", delayed.append)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queue_send(messenger_reply.pk)
        assert delayed == []

    assert len(callbacks) == 1
    assert delayed == [messenger_reply.pk]


@committed
def test_two_concurrent_sends_of_one_message_make_exactly_one_request(
    fake_platform, messenger_reply
):
    fake_platform.hang_next(1, seconds=0.5)  # the winner is still talking to the platform
    start = threading.Barrier(2)
    results = []

    def attempt() -> None:
        start.wait()
        try:
            results.append(send_now(messenger_reply.pk))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=attempt) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)

    assert sorted(results) == ["sending", "sent"]
    assert len(fake_platform.requests) == 1
    reload(messenger_reply)
    assert messenger_reply.status == "sent"
    assert messenger_reply.send_attempts == 1


@pytest.mark.django_db
def test_drain_requeues_a_message_stuck_in_sending_and_sends_it(
    make_outbound, fake_platform, meta_account
):
    now = timezone.now()
    stuck = make_outbound(
        meta_account,
        channel="messenger",
        customer="1001",
        status="sending",
        send_attempts=1,
        next_attempt_at=now - timedelta(seconds=1),  # its five-minute lease ran out
    )
    in_flight = make_outbound(
        meta_account,
        channel="messenger",
        customer="1002",
        status="sending",
        send_attempts=1,
        next_attempt_at=now + timedelta(minutes=4),
    )

    assert drain_outbox() == 1

    reload(stuck)
    assert stuck.status == "sent"
    assert stuck.send_attempts == 2
    assert reload(in_flight).status == "sending"
    assert [r.json["recipient"]["id"] for r in fake_platform.requests] == ["1001"]


@pytest.mark.django_db
def test_a_claimed_message_holds_a_five_minute_lease_while_sending(
    fake_platform, monkeypatch, messenger_reply
):
    seen = {}
    original = outbox.http_client

    def look_at_the_row_then_connect() -> httpx.Client:
        # The sender asks for its client after the claim, before any request goes out.
        seen.update(Message.objects.values("status", "next_attempt_at").get(pk=messenger_reply.pk))
        return original()

    monkeypatch.setattr(outbox, "http_client", look_at_the_row_then_connect)

    assert send_now(messenger_reply.pk) == "sent"

    assert seen["status"] == "sending"
    lease = (seen["next_attempt_at"] - timezone.now()).total_seconds()
    assert 290 <= lease <= 300


@pytest.mark.django_db
def test_stuck_message_without_attempts_left_fails(make_outbound, fake_platform, meta_account):
    stuck = make_outbound(
        meta_account,
        channel="messenger",
        customer="1001",
        status="sending",
        send_attempts=5,
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )

    assert drain_outbox() == 0

    reload(stuck)
    assert stuck.status == "failed"
    assert "gave up after 5 attempts" in stuck.error
    assert fake_platform.requests == []


@pytest.mark.django_db
def test_drain_sends_due_messages_oldest_first_up_to_the_limit(
    make_outbound, fake_platform, meta_account
):
    now = timezone.now()
    for customer, age, next_attempt in [
        ("newest", 1, None),
        ("oldest", 30, None),
        ("waiting", 40, now + timedelta(minutes=2)),
        ("retry-due", 20, now - timedelta(seconds=5)),
    ]:
        make_outbound(
            meta_account,
            channel="messenger",
            customer=customer,
            created_at=now - timedelta(minutes=age),
            next_attempt_at=next_attempt,
        )
    make_outbound(meta_account, channel="messenger", customer="incoming", direction="in")

    assert drain_outbox(limit=2) == 2
    assert drain_outbox() == 1
    assert drain_outbox() == 0

    sent_to = [r.json["recipient"]["id"] for r in fake_platform.requests]
    assert sent_to == ["oldest", "retry-due", "newest"]


@pytest.mark.django_db
def test_celery_tasks_wrap_the_outbox(fake_platform, messenger_reply):
    assert tasks.drain_outbox.name == "inbox.tasks.drain_outbox"
    assert tasks.send_message.name == "inbox.tasks.send_message"

    assert tasks.send_message(messenger_reply.pk) == "sent"
    assert tasks.drain_outbox() == 0
    assert tasks.send_message(10**9) == ""
