"""The outbox: retries with backoff, permanent failures, resend, one send per message, crash
recovery, and credentials kept out of errors and logs."""

import logging
import threading
import time
from datetime import timedelta

import httpx
import pytest
from django.db import connections, transaction
from django.utils import timezone

from inbox import tasks
from inbox.models import Message
from inbox.outbound import outbox
from inbox.outbound.outbox import drain_outbox, queue_send, resend, send_now
from tests.conftest import make_account
from tests.fake_platform import (
    META_TOKEN,
    TELEGRAM_TOKEN,
    X_TOKEN,
    make_outbound,
)

pytest_plugins = ["tests.fake_platform"]


@pytest.fixture
def meta_account(db):
    return make_account("meta", "acme-meta", access_token=META_TOKEN, own_ids=["106543"])


@pytest.fixture
def messenger_reply(meta_account):
    return make_outbound(meta_account, channel="messenger", customer="24793521834")


@pytest.fixture
def quick_timeouts(monkeypatch):
    client = httpx.Client(timeout=httpx.Timeout(0.5))
    monkeypatch.setattr(outbox, "_client", client)
    yield
    client.close()


def reload(message: Message) -> Message:
    message.refresh_from_db()
    return message


def make_due(message: Message) -> None:
    """Let the retry time pass."""
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def wait_for_status(message: Message, *statuses: str, seconds: float = 5.0) -> Message:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if reload(message).status in statuses:
            return message
        time.sleep(0.02)
    raise AssertionError(f"message stayed {message.status!r}, wanted one of {statuses}")


def assert_next_attempt_in(message: Message, seconds: float, *, slack: float = 5.0) -> None:
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert seconds - slack <= wait <= seconds + 0.5, wait


@pytest.mark.django_db
def test_server_error_is_retried_after_a_backoff_and_then_sent(fake_platform, messenger_reply):
    fake_platform.fail_next(1, 500)

    assert send_now(messenger_reply.pk) == "queued"
    reload(messenger_reply)
    assert messenger_reply.send_attempts == 1
    assert_next_attempt_in(messenger_reply, 30)
    assert "HTTP 500" in messenger_reply.error
    assert messenger_reply.external_id is None

    # Not due yet: a second call does nothing.
    assert send_now(messenger_reply.pk) == "queued"
    assert len(fake_platform.requests) == 1

    make_due(messenger_reply)
    assert drain_outbox() == 1
    reload(messenger_reply)
    assert messenger_reply.status == "sent"
    assert messenger_reply.send_attempts == 2
    assert messenger_reply.external_id.startswith("m_fake")
    assert messenger_reply.error == ""
    assert messenger_reply.next_attempt_at is None
    assert len(fake_platform.requests) == 2


@pytest.mark.django_db
def test_rate_limit_waits_as_long_as_retry_after_says(fake_platform, messenger_reply):
    fake_platform.fail_next(1, 429, retry_after=120)

    assert send_now(messenger_reply.pk) == "queued"

    assert_next_attempt_in(reload(messenger_reply), 120)


@pytest.mark.django_db
def test_telegram_rate_limit_waits_for_the_retry_after_in_the_body(fake_platform):
    account = make_account("telegram", "acme-bot", access_token=TELEGRAM_TOKEN)
    message = make_outbound(account, channel="telegram", customer="93372553")
    fake_platform.fail_next(1, 429, retry_after=42)

    assert send_now(message.pk) == "queued"

    reload(message)
    assert_next_attempt_in(message, 42)
    assert "Too Many Requests" in message.error


@pytest.mark.django_db
def test_x_rate_limit_waits_until_the_reset_time(fake_platform):
    account = make_account("x", "acme-x", access_token=X_TOKEN)
    message = make_outbound(account, channel="x", customer="783214")
    fake_platform.fail_next(1, 429, retry_after=300)

    assert send_now(message.pk) == "queued"

    assert_next_attempt_in(reload(message), 300, slack=6)


@pytest.mark.django_db
def test_meta_rate_limit_code_is_retried_although_the_status_is_400(fake_platform, messenger_reply):
    fake_platform.fail_next(1, 400, code=613, error="Calls to this api have exceeded the limit.")

    assert send_now(messenger_reply.pk) == "queued"

    assert "exceeded the limit" in reload(messenger_reply).error


@pytest.mark.django_db
def test_client_error_fails_at_once_with_the_platform_error_text(fake_platform, messenger_reply):
    platform_text = (
        "(#10) This message is sent outside of allowed window. "
        "Learn more about the new policy here: https://developers.facebook.com/docs/"
    )
    fake_platform.fail_next(1, 400, code=10, error=platform_text)

    assert send_now(messenger_reply.pk) == "failed"

    reload(messenger_reply)
    assert platform_text in messenger_reply.error
    assert messenger_reply.send_attempts == 1
    assert messenger_reply.next_attempt_at is None
    make_due(messenger_reply)
    assert drain_outbox() == 0
    assert len(fake_platform.requests) == 1


@pytest.mark.django_db
def test_long_platform_errors_are_truncated(fake_platform, messenger_reply):
    fake_platform.fail_next(1, 400, error="x" * 5000)

    send_now(messenger_reply.pk)

    assert len(reload(messenger_reply).error) <= outbox.ERROR_LIMIT


@pytest.mark.django_db
def test_timeout_is_retried(fake_platform, messenger_reply, quick_timeouts):
    fake_platform.hang_next(1, seconds=2.0)

    assert send_now(messenger_reply.pk) == "queued"

    reload(messenger_reply)
    assert "timed out" in messenger_reply.error
    assert_next_attempt_in(messenger_reply, 30)


@pytest.mark.django_db
def test_unreachable_platform_is_retried(settings, messenger_reply):
    settings.CAREMGR_API_BASE = {**settings.CAREMGR_API_BASE, "meta": "http://127.0.0.1:9/v21.0"}

    assert send_now(messenger_reply.pk) == "queued"

    assert "network error" in reload(messenger_reply).error


@pytest.mark.django_db
def test_retries_back_off_and_give_up_after_five_attempts(fake_platform, messenger_reply):
    fake_platform.fail_next(5, 503)
    waits = []

    for _ in range(4):
        assert send_now(messenger_reply.pk) == "queued"
        wait = reload(messenger_reply).next_attempt_at - timezone.now()
        waits.append(round(wait.total_seconds()))
        make_due(messenger_reply)
    assert send_now(messenger_reply.pk) == "failed"

    assert waits == [30, 120, 600, 1800]
    reload(messenger_reply)
    assert messenger_reply.send_attempts == 5
    assert "HTTP 503" in messenger_reply.error
    assert "gave up after 5 attempts" in messenger_reply.error
    assert len(fake_platform.requests) == 5


@pytest.mark.django_db(transaction=True)
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
def test_resend_leaves_a_message_that_has_not_failed_alone(fake_platform, messenger_reply):
    assert send_now(messenger_reply.pk) == "sent"

    resend(messenger_reply.pk)

    assert reload(messenger_reply).status == "sent"
    assert len(fake_platform.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_queue_send_sends_in_a_background_thread_after_commit(
    settings, fake_platform, meta_account
):
    settings.CAREMGR_TASKS_INLINE = True
    with transaction.atomic():
        message = make_outbound(meta_account, channel="messenger", customer="24793521834")
        queue_send(message.pk)
        time.sleep(0.2)
        assert fake_platform.requests == []

    wait_for_status(message, "sent")
    assert message.external_id.startswith("m_fake")


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


@pytest.mark.django_db(transaction=True)
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
def test_drain_requeues_a_message_stuck_in_sending_and_sends_it(fake_platform, meta_account):
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
def test_stuck_message_without_attempts_left_fails(fake_platform, meta_account):
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
def test_drain_sends_due_messages_oldest_first_up_to_the_limit(fake_platform, meta_account):
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


@pytest.mark.django_db
def test_access_token_never_appears_in_errors_or_logs(fake_platform, caplog):
    caplog.set_level(logging.DEBUG)
    bot = make_account("telegram", "acme-bot", access_token=TELEGRAM_TOKEN)
    page = make_account("meta", "acme-meta", access_token=META_TOKEN)
    ok = make_outbound(bot, channel="telegram", customer="93372553")
    echoed = make_outbound(bot, channel="telegram", customer="93372554")
    refused = make_outbound(page, channel="messenger", customer="24793521834")

    send_now(ok.pk)
    fake_platform.fail_next(1, 500, error=f"upstream said /bot{TELEGRAM_TOKEN}/sendMessage")
    send_now(echoed.pk)
    fake_platform.fail_next(1, 400, error=f"Malformed access token {META_TOKEN}")
    send_now(refused.pk)

    assert reload(ok).status == "sent"
    assert reload(echoed).status == "queued"
    assert reload(refused).status == "failed"
    for message in (echoed, refused):
        assert message.error
        assert TELEGRAM_TOKEN not in message.error
        assert META_TOKEN not in message.error
        assert "[redacted]" in message.error
    assert "sendMessage" in caplog.text  # httpx did log the request line...
    assert TELEGRAM_TOKEN not in caplog.text  # ...without the token
    assert META_TOKEN not in caplog.text
