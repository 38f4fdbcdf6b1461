"""X Account Activity webhooks: the CRC check, signatures, tweets, DMs and other events."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from inbox.models import Delivery, Message
from tests.conftest import make_account
from tests.payloads import x
from tests.payloads.x import BRAND_ID, CUSTOMER_ID, post_x

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand():
    return make_account("x", slug="brand", secret="consumer-secret", own_ids=[BRAND_ID])


def test_crc_check_answers_the_base64_hmac_of_the_token(client, brand):
    answer = client.get("/webhooks/x/brand/", {"crc_token": "9b4507b3-9f4b-4e4c-8f8b"})
    assert answer.status_code == 200
    digest = hmac.new(b"consumer-secret", b"9b4507b3-9f4b-4e4c-8f8b", hashlib.sha256).digest()
    assert answer.json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}


def test_crc_check_without_a_token_answers_400_with_a_json_error(client, brand):
    answer = client.get("/webhooks/x/brand/")
    assert answer.status_code == 400
    assert answer.json() == {"error": "crc_token is missing"}


def test_crc_check_for_an_unknown_account_answers_404(client, brand):
    assert client.get("/webhooks/x/nobody/", {"crc_token": "t"}).status_code == 404


def test_signed_post_is_stored_and_processed(client, brand):
    answer = post_x(client, brand, x.tweet_events(x.tweet()))
    assert answer.status_code == 200
    assert Delivery.objects.get().status == "processed"


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + base64.b64encode(b"\0" * 32).decode(),
        "sha256=" + hashlib.sha256(b"x").hexdigest(),
        "sha256=",
        "nonsense",
    ],
    ids=["wrong-digest", "hex-not-base64", "empty-digest", "nonsense"],
)
def test_post_with_a_wrong_signature_is_refused_and_not_stored(client, brand, signature):
    assert post_x(client, brand, x.tweet_events(x.tweet()), signature=signature).status_code == 403
    assert Delivery.objects.count() == 0


def test_post_without_a_signature_is_refused(client, brand):
    assert post_x(client, brand, x.tweet_events(x.tweet()), signature="").status_code == 403


def test_post_signed_with_another_secret_is_refused(client, brand):
    assert post_x(client, brand, x.tweet_events(x.tweet()), secret="other").status_code == 403


def test_unknown_account_answers_404(client, brand):
    answer = client.post("/webhooks/x/nobody/", b"{}", content_type="application/json")
    assert answer.status_code == 404


def test_mention_is_a_public_inbound_post_with_the_author_and_tweet_time(client, brand):
    post_x(client, brand, x.tweet_events(x.tweet("1050118621198921728", "@XDevelopers help")))
    message = Message.objects.select_related("contact").get()
    assert (message.channel, message.direction) == ("x", "in")
    assert (message.kind, message.is_public) == ("post", True)
    assert message.text == "@XDevelopers help"
    assert message.external_id == "1050118621198921728"
    assert message.conversation_id == "1050118621198921728"
    assert message.in_reply_to == ""
    assert (message.author_handle, message.author_name) == ("furiouscamper", "Jordan Brinks")
    assert message.contact.external_id == CUSTOMER_ID
    assert (message.contact.handle, message.contact.followers) == ("furiouscamper", 22)
    assert message.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)


def test_customer_reply_to_a_brand_tweet_is_a_comment_in_its_chain(client, brand):
    reply = x.tweet("2000", "@XDevelopers still broken", in_reply_to=("1000", BRAND_ID, "XDev"))
    post_x(client, brand, x.tweet_events(reply))
    message = Message.objects.get()
    assert (message.kind, message.direction, message.in_reply_to) == ("comment", "in", "1000")
    assert message.conversation_id == ""


def test_brand_reply_is_outbound_to_the_customer_it_answers(client, brand):
    reply = x.tweet(
        "3000",
        "@furiouscamper sorry, DM us",
        author=x.brand_user(),
        in_reply_to=("2000", CUSTOMER_ID, "furiouscamper"),
        entities={
            "hashtags": [],
            "urls": [],
            "symbols": [],
            "user_mentions": [
                {
                    "screen_name": "furiouscamper",
                    "name": "Jordan Brinks",
                    "id": int(CUSTOMER_ID),
                    "id_str": CUSTOMER_ID,
                    "indices": [0, 14],
                }
            ],
        },
    )
    post_x(client, brand, x.tweet_events(reply))
    message = Message.objects.select_related("contact").get()
    assert message.direction == "out"
    assert message.author_external_id == BRAND_ID
    assert message.in_reply_to == "2000"
    assert message.contact.external_id == CUSTOMER_ID
    assert (message.contact.handle, message.contact.name) == ("furiouscamper", "Jordan Brinks")


def test_brand_reply_to_its_own_reply_is_attached_by_the_chain(client, brand):
    reply = x.tweet("3001", "2/2", author=x.brand_user(), in_reply_to=("3000", BRAND_ID, "XDev"))
    post_x(client, brand, x.tweet_events(reply))
    message = Message.objects.select_related("contact").get()
    assert (message.direction, message.in_reply_to) == ("out", "3000")
    assert message.contact.external_id == ""


def test_long_tweet_is_stored_with_its_full_text(client, brand):
    long = "a" * 200 + " the end"
    truncated = x.tweet(
        "4000",
        "a" * 137 + "…",
        truncated=True,
        extended_tweet={"full_text": long, "display_text_range": [0, 208]},
    )
    post_x(client, brand, x.tweet_events(truncated))
    assert Message.objects.get().text == long


def test_tweet_text_escaped_by_the_api_is_stored_as_written(client, brand):
    post_x(client, brand, x.tweet_events(x.tweet(text="fish &amp; chips &lt;3 &gt;:(")))
    assert Message.objects.get().text == "fish & chips <3 >:("


def test_direct_message_is_an_inbound_dm_described_by_the_users_map(client, brand):
    post_x(client, brand, x.dm_events(x.dm_event(text="Hello World!")))
    message = Message.objects.select_related("contact").get()
    assert (message.kind, message.is_public, message.direction) == ("dm", False, "in")
    assert message.text == "Hello World!"
    assert message.external_id == "954491830116155396"
    assert message.conversation_id == CUSTOMER_ID
    assert message.contact.handle == "furiouscamper"
    assert message.contact.followers == 22
    assert message.created_at == datetime(2018, 1, 19, 23, 12, 40, 557000, tzinfo=UTC)


def test_direct_message_sent_by_the_brand_is_outbound_to_the_recipient(client, brand):
    event = x.dm_event("955", "On it!", sender=BRAND_ID, recipient=CUSTOMER_ID)
    post_x(client, brand, x.dm_events(event))
    message = Message.objects.select_related("contact").get()
    assert message.direction == "out"
    assert message.author_handle == "Harris_0ff"
    assert message.contact.external_id == CUSTOMER_ID
    assert message.conversation_id == CUSTOMER_ID


@pytest.mark.parametrize("name", list(x.other_events()))
def test_events_without_a_customer_message_are_acknowledged_and_ignored(client, brand, name):
    assert post_x(client, brand, x.other_events()[name]).status_code == 200
    assert Delivery.objects.get().status == "ignored"
    assert Message.objects.count() == 0


def test_same_delivery_twice_is_accepted_twice_and_stored_once(client, brand):
    payload = x.tweet_events(x.tweet())
    assert post_x(client, brand, payload).status_code == 200
    assert post_x(client, brand, payload).status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"\xfe\xff", "body is not valid UTF-8 (byte 0)"),
        (b"[1]", "body is not an object"),
        ({"tweet_create_events": {}}, "body.tweet_create_events is not a list"),
        (x.tweet_events({**x.tweet(), "id_str": None, "id": None}), "is missing"),
        (x.tweet_events(x.tweet(created_at="yesterday")), "is not an X time"),
        (x.tweet_events({**x.tweet(), "user": "dana"}), "tweet_create_events[0].user"),
        (
            x.dm_events({"type": "message_create", "id": "1"}),
            "direct_message_events[0].message_create is not an object",
        ),
    ],
    ids=["utf8", "list", "events-not-list", "no-id", "bad-time", "user-not-object", "no-create"],
)
def test_unreadable_body_answers_400_and_is_kept_as_a_failed_delivery(
    client, brand, payload, error
):
    answer = post_x(client, brand, payload)
    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert Delivery.objects.get().status == "failed"
