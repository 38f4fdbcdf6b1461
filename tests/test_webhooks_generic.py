"""caremgr's own JSON webhook: signatures, one message or a batch, directions, errors."""

from datetime import UTC, datetime

import pytest

from inbox.models import Delivery, Message
from tests.conftest import generic_message, hex_signature, post_generic

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    """POST a signed generic delivery and run what the view schedules after commit."""

    def send(account, payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post_generic(client, account, payload, **kwargs)

    return send


def test_get_has_no_handshake(client, account):
    assert client.get(f"/webhooks/generic/{account.slug}/").status_code == 405


def test_signed_message_is_stored_inbound_with_its_own_time(send, account):
    answer = send(account, generic_message("m1", "Where is my refund?"))
    assert answer.status_code == 200
    assert answer.json() == {"status": "stored", "delivery": Delivery.objects.get().pk}
    message = Message.objects.select_related("contact").get()
    assert (message.channel, message.direction, message.kind) == ("generic", "in", "dm")
    assert message.text == "Where is my refund?"
    assert message.is_public is False
    assert (message.author_handle, message.author_name) == ("dana", "Dana")
    assert (message.contact.handle, message.contact.followers) == ("dana", 120)
    assert message.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert Delivery.objects.get().status == "processed"


def test_signature_header_is_case_insensitive_in_its_hex_digits(client, account, send):
    body = (
        b'{"external_id": "m1", "author": {"id": "u1"}, "text": "hi", "created_at": "2026-01-01"}'
    )
    upper = hex_signature(account.secret, body).upper().replace("SHA256=", "sha256=")
    assert send(account, body, HTTP_X_CAREMGR_SIGNATURE=upper).status_code == 200


@pytest.mark.parametrize(
    "signature", ["sha256=" + "0" * 64, "sha256=", "deadbeef", hex_signature("other", b"{}")]
)
def test_post_with_a_wrong_signature_is_refused_and_not_stored(send, account, signature):
    answer = send(account, generic_message(), HTTP_X_CAREMGR_SIGNATURE=signature)
    assert answer.status_code == 403
    assert answer.json() == {"error": "bad or missing signature"}
    assert Delivery.objects.count() == 0


def test_post_without_a_signature_is_refused(client, account):
    answer = client.post(
        f"/webhooks/generic/{account.slug}/", b"{}", content_type="application/json"
    )
    assert answer.status_code == 403


def test_post_signed_with_another_secret_is_refused(send, account):
    assert send(account, generic_message(), secret="not-the-secret").status_code == 403


def test_unknown_account_answers_404(client, account):
    answer = client.post("/webhooks/generic/nobody/", b"{}", content_type="application/json")
    assert answer.status_code == 404
    assert answer.json() == {"error": "unknown account"}


def test_inactive_account_answers_404(send, account):
    account.is_active = False
    account.save()
    assert send(account, generic_message()).status_code == 404


def test_batch_of_messages_is_stored_in_order(send, account):
    batch = [generic_message(f"m{i}", f"text {i}") for i in range(3)]
    assert send(account, batch).status_code == 200
    assert list(Message.objects.values_list("text", flat=True)) == ["text 0", "text 1", "text 2"]
    assert Delivery.objects.get().message_count == 3


def test_public_reply_is_a_comment_in_its_conversation(send, account):
    reply = generic_message("m2", public=True, in_reply_to="m1", conversation_id="thread-1")
    send(account, reply)
    message = Message.objects.get()
    assert (message.kind, message.is_public) == ("comment", True)
    assert (message.in_reply_to, message.conversation_id) == ("m1", "thread-1")


def test_public_message_without_parent_is_a_post(send, account):
    send(account, generic_message("m3", public=True))
    assert Message.objects.get().kind == "post"


def test_outbound_message_belongs_to_its_recipient(send, account):
    ours = generic_message(
        "m4",
        "We refunded you",
        direction="out",
        author={"id": "brand", "handle": "acme"},
        recipient={"id": "u1", "handle": "dana", "followers": 120},
    )
    send(account, ours)
    message = Message.objects.select_related("contact").get()
    assert message.direction == "out"
    assert message.author_handle == "acme"
    assert message.contact.external_id == "u1"
    assert message.status == "sent"


def test_same_delivery_twice_is_accepted_twice_and_stored_once(send, account):
    assert send(account, generic_message()).status_code == 200
    assert send(account, generic_message()).status_code == 200
    assert Message.objects.count() == 1
    assert [d.status for d in Delivery.objects.order_by("pk")] == ["processed", "processed"]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"", "body is not valid JSON"),
        (b"\xc3\x28", "body is not valid UTF-8 (byte 0)"),
        (b"[]", "body is an empty list"),
        (b'"just text"', "[0] is not an object"),
        ({**generic_message(), "text": None}, "[0].text must be a string"),
        ({**generic_message(), "created_at": "last tuesday"}, "is not ISO 8601"),
        ({**generic_message(), "direction": "sideways"}, "[0].direction must be 'in' or 'out'"),
        ({**generic_message(), "external_id": ""}, "[0].external_id is missing"),
    ],
    ids=["empty", "utf8", "empty-list", "string", "no-text", "bad-time", "direction", "no-id"],
)
def test_unreadable_body_answers_400_and_is_kept_as_a_failed_delivery(
    send, account, payload, error
):
    answer = send(account, payload)
    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert answer.json()["delivery"] == Delivery.objects.get().pk
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert error in delivery.error
    assert Message.objects.count() == 0
