"""replay_failed: failed webhook deliveries processed again, oldest first."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inbox.models import Delivery, Message
from tests.conftest import generic_message, make_account


def replay(**options) -> str:
    out = StringIO()
    call_command("replay_failed", stdout=out, **options)
    return out.getvalue()


def failed_delivery(account, body, *, error="PayloadError: body is not valid JSON", age=0):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    delivery = Delivery.objects.create(
        account=account,
        body=body,
        content_type="application/json",
        status="failed",
        error=error,
        attempts=1,
    )
    # received_at is set on insert; age it so the order of replays is known.
    Delivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(minutes=age)
    )
    return Delivery.objects.get(pk=delivery.pk)


@pytest.mark.django_db
def test_delivery_whose_body_was_fixed_is_processed_on_replay(account):
    delivery = failed_delivery(account, b'{"external_id": "m1", "author": ')
    Delivery.objects.filter(pk=delivery.pk).update(body=json.dumps(generic_message("m1")).encode())

    output = replay()

    delivery.refresh_from_db()
    assert delivery.status == "processed"
    assert delivery.error == ""
    assert delivery.attempts == 2
    assert Message.objects.get(external_id="m1").delivery_id == delivery.pk
    assert "replayed 1 failed deliveries: 1 now processed, 0 still failing" in output


@pytest.mark.django_db
def test_delivery_that_failed_on_a_transient_error_is_processed_on_replay(account):
    delivery = failed_delivery(
        account, generic_message("m1"), error="OperationalError: database is locked"
    )

    replay()

    delivery.refresh_from_db()
    assert delivery.status == "processed"
    assert Message.objects.filter(external_id="m1").exists()


@pytest.mark.django_db
def test_still_broken_delivery_stays_failed_with_its_error_and_one_more_attempt(account):
    broken = failed_delivery(account, b"{not json")

    output = replay()

    broken.refresh_from_db()
    assert broken.status == "failed"
    assert "not valid JSON" in broken.error
    assert broken.attempts == 2
    assert "0 now processed, 1 still failing" in output
    assert f"delivery {broken.pk}: " in output


@pytest.mark.django_db
def test_oldest_failed_delivery_is_replayed_first(account):
    newer = failed_delivery(account, generic_message("m1", text="second copy"), age=1)
    older = failed_delivery(account, generic_message("m1", text="first copy"), age=5)

    replay()

    message = Message.objects.get(external_id="m1")
    assert message.text == "first copy"
    assert message.delivery_id == older.pk
    newer.refresh_from_db()
    assert newer.status == "processed"
    assert newer.message_count == 0


@pytest.mark.django_db
def test_account_option_replays_only_that_accounts_deliveries(account):
    other = make_account(slug="other")
    mine = failed_delivery(account, generic_message("m1"))
    theirs = failed_delivery(other, generic_message("m2"))

    replay(account="acme")

    assert Delivery.objects.get(pk=mine.pk).status == "processed"
    assert Delivery.objects.get(pk=theirs.pk).status == "failed"


@pytest.mark.django_db
def test_id_option_replays_only_that_delivery(account):
    first = failed_delivery(account, generic_message("m1"))
    second = failed_delivery(account, generic_message("m2"))

    replay(ids=[second.pk])

    assert Delivery.objects.get(pk=first.pk).status == "failed"
    assert Delivery.objects.get(pk=second.pk).status == "processed"


@pytest.mark.django_db
def test_processed_deliveries_are_left_alone(account):
    done = failed_delivery(account, generic_message("m1"))
    Delivery.objects.filter(pk=done.pk).update(status="processed", attempts=1, error="")

    output = replay(ids=[done.pk])

    assert f"delivery {done.pk} is processed, not failed" in output
    assert "no failed deliveries to replay" in output
    assert Delivery.objects.get(pk=done.pk).attempts == 1
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_unknown_account_or_id_is_a_clear_error(account):
    with pytest.raises(CommandError, match="no account with slug 'nope'"):
        replay(account="nope")
    with pytest.raises(CommandError, match="no delivery with id 999"):
        replay(ids=[999])
