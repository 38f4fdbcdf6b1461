"""Retries with backoff and Retry-After, permanent failures with the platform's words,
resend, and credentials kept out of errors and logs."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox import tasks
from inbox.models import Message
from inbox.outbound import outbox
from inbox.outbound.outbox import drain_outbox, resend, send_now
from tests.conftest import make_account

pytest_plugins = ["tests.fake_platform"]


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


def make_due(message: Message) -> None:
    """Let the retry time pass."""
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


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
def test_telegram_rate_limit_waits_for_the_retry_after_in_the_body(make_outbound, fake_platform):
    account = make_account("telegram", "acme-bot", access_token=fake_platform.TELEGRAM_TOKEN)
    message = make_outbound(account, channel="telegram", customer="93372553")
    fake_platform.fail_next(1, 429, retry_after=42)

    assert send_now(message.pk) == "queued"

    reload(message)
    assert_next_attempt_in(message, 42)
    assert "Too Many Requests" in message.error


@pytest.mark.django_db
def test_x_rate_limit_waits_until_the_reset_time(make_outbound, fake_platform):
    account = make_account("x", "acme-x", access_token=fake_platform.X_TOKEN)
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
def test_a_reply_the_platform_refuses_fails_at_once_with_its_reason(make_outbound, fake_platform):
    bot = make_account("telegram", "acme-bot", access_token=fake_platform.TELEGRAM_TOKEN)
    message = make_outbound(bot, channel="telegram", customer="93372553", text="")

    assert send_now(message.pk) == "failed"

    assert reload(message).error == "HTTP 400: Bad Request: message text is empty"
    assert fake_platform.last.status == 400


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


@pytest.mark.django_db
def test_resend_gives_a_failed_message_fresh_attempts_and_sends_it(
    settings, monkeypatch, django_capture_on_commit_callbacks, fake_platform, messenger_reply
):
    settings.CAREMGR_TASKS_INLINE = False
    monkeypatch.setattr(tasks.send_message, "delay", tasks.send_message)
    fake_platform.fail_next(5, 503)
    for _ in range(5):
        make_due(messenger_reply)
        send_now(messenger_reply.pk)
    assert reload(messenger_reply).status == "failed"

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resend(messenger_reply.pk)
    reload(messenger_reply)
    assert (messenger_reply.status, messenger_reply.send_attempts) == ("queued", 0)
    assert (messenger_reply.error, messenger_reply.next_attempt_at) == ("", None)

    callbacks[0]()
    reload(messenger_reply)
    assert (messenger_reply.status, messenger_reply.send_attempts) == ("sent", 1)
    assert len(fake_platform.requests) == 6


@pytest.mark.django_db
def test_resend_leaves_a_message_that_has_not_failed_alone(fake_platform, messenger_reply):
    assert send_now(messenger_reply.pk) == "sent"

    resend(messenger_reply.pk)

    assert reload(messenger_reply).status == "sent"
    assert len(fake_platform.requests) == 1


@pytest.mark.django_db
def test_access_token_never_appears_in_errors_or_logs(make_outbound, fake_platform, caplog):
    caplog.set_level(logging.DEBUG)
    bot = make_account("telegram", "acme-bot", access_token=fake_platform.TELEGRAM_TOKEN)
    page = make_account("meta", "acme-meta", access_token=fake_platform.META_TOKEN)
    ok = make_outbound(bot, channel="telegram", customer="93372553")
    echoed = make_outbound(bot, channel="telegram", customer="93372554")
    refused = make_outbound(page, channel="messenger", customer="24793521834")

    send_now(ok.pk)
    fake_platform.fail_next(
        1, 500, error=f"upstream said /bot{fake_platform.TELEGRAM_TOKEN}/sendMessage"
    )
    send_now(echoed.pk)
    fake_platform.fail_next(1, 400, error=f"Malformed access token {fake_platform.META_TOKEN}")
    send_now(refused.pk)

    assert reload(ok).status == "sent"
    assert reload(echoed).status == "queued"
    assert reload(refused).status == "failed"
    for message in (echoed, refused):
        assert message.error
        assert fake_platform.TELEGRAM_TOKEN not in message.error
        assert fake_platform.META_TOKEN not in message.error
        assert "[redacted]" in message.error
    assert "sendMessage" in caplog.text  # httpx did log the request line...
    assert fake_platform.TELEGRAM_TOKEN not in caplog.text  # ...without the token
    assert fake_platform.META_TOKEN not in caplog.text
