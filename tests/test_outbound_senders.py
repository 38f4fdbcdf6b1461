"""Each platform's reply request exactly as its API expects, and the platform's id kept."""

import hashlib
import hmac
import json

import httpx
import pytest

from inbox.models import Message
from inbox.outbound import meta
from inbox.outbound.base import PermanentError, RetryableError
from inbox.outbound.outbox import send_now
from tests.conftest import make_account

pytest_plugins = ["tests.fake_platform"]
pytestmark = pytest.mark.django_db


@pytest.fixture
def meta_account(fake_platform, db):
    return make_account(
        "meta", "acme-meta", access_token=fake_platform.META_TOKEN, own_ids=["1065432109876543"]
    )


@pytest.fixture
def x_account(fake_platform, db):
    return make_account("x", "acme-x", access_token=fake_platform.X_TOKEN, own_ids=["2244994945"])


@pytest.fixture
def telegram_account(fake_platform, db):
    return make_account("telegram", "acme-bot", access_token=fake_platform.TELEGRAM_TOKEN)


@pytest.fixture
def generic_account(fake_platform, db):
    return make_account("generic", "acme-generic", secret=fake_platform.GENERIC_SECRET)


def sent(message: Message) -> Message:
    message.refresh_from_db()
    assert message.status == "sent", message.error
    assert message.send_attempts == 1
    assert message.error == ""
    assert message.next_attempt_at is None
    return message


def test_messenger_reply_posts_to_the_send_api_and_keeps_the_message_id(
    make_outbound, fake_platform, meta_account
):
    message = make_outbound(meta_account, channel="messenger", customer="24793521834")

    assert send_now(message.pk) == "sent"

    request = fake_platform.last
    assert request.path == "/v21.0/me/messages"
    assert request.headers["authorization"] == f"Bearer {fake_platform.META_TOKEN}"
    assert request.json == {
        "recipient": {"id": "24793521834"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Sorry about that, a refund is on its way."},
    }
    assert sent(message).external_id == "m_fake1001"


def test_instagram_dm_goes_through_the_send_api_to_the_igsid(
    make_outbound, fake_platform, meta_account
):
    message = make_outbound(meta_account, channel="instagram", customer="17841400000000001")

    send_now(message.pk)

    assert fake_platform.last.path == "/v21.0/me/messages"
    assert fake_platform.last.json["recipient"] == {"id": "17841400000000001"}
    assert sent(message).external_id.startswith("m_")


def test_facebook_comment_reply_is_posted_under_the_customer_comment(
    make_outbound, fake_platform, meta_account
):
    message = make_outbound(
        meta_account,
        channel="facebook",
        customer="5550001",
        kind="comment",
        is_public=True,
        in_reply_to="1065432109876543_778899",
        conversation_id="1065432109876543_112233",
    )

    send_now(message.pk)

    assert fake_platform.last.path == "/v21.0/1065432109876543_778899/comments"
    assert fake_platform.last.json == {"message": message.text}
    assert fake_platform.last.headers["authorization"] == f"Bearer {fake_platform.META_TOKEN}"
    assert sent(message).external_id == "1065432109876543_1001"


def test_instagram_comment_reply_is_posted_to_the_comment_replies_edge(
    make_outbound, fake_platform, meta_account
):
    message = make_outbound(
        meta_account,
        channel="instagram",
        customer="17841400000000002",
        kind="comment",
        is_public=True,
        in_reply_to="17858893269000001",
        conversation_id="17895695668004550",
    )

    send_now(message.pk)

    assert fake_platform.last.path == "/v21.0/17858893269000001/replies"
    assert fake_platform.last.json == {"message": message.text}
    assert sent(message).external_id == "17900000001001"


def test_instagram_answer_to_the_media_itself_is_a_comment_on_the_media(
    make_outbound, fake_platform, meta_account
):
    message = make_outbound(
        meta_account,
        channel="instagram",
        customer="17841400000000002",
        kind="comment",
        is_public=True,
        in_reply_to="17895695668004550",
        conversation_id="17895695668004550",
    )

    send_now(message.pk)

    assert fake_platform.last.path == "/v21.0/17895695668004550/comments"
    sent(message)


def test_instagram_mention_is_answered_through_the_mentions_edge(
    make_outbound, fake_platform, meta_account
):
    message = make_outbound(
        meta_account,
        channel="instagram",
        customer="",
        kind="comment",
        is_public=True,
        in_reply_to="mention:17870913679156914",
        conversation_id="17887498072083520",
    )

    send_now(message.pk)

    assert fake_platform.last.path == "/v21.0/1065432109876543/mentions"
    assert fake_platform.last.json == {
        "media_id": "17887498072083520",
        "message": message.text,
        "comment_id": "17870913679156914",
    }
    sent(message)


def test_whatsapp_reply_is_sent_from_the_account_phone_number_id(
    make_outbound, fake_platform, meta_account
):
    message = make_outbound(meta_account, channel="whatsapp", customer="4915112345678")

    send_now(message.pk)

    request = fake_platform.last
    assert request.path == "/v21.0/1065432109876543/messages"
    assert request.headers["authorization"] == f"Bearer {fake_platform.META_TOKEN}"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "4915112345678",
        "type": "text",
        "text": {"preview_url": False, "body": message.text},
    }
    assert sent(message).external_id == "wamid.FAKE1001"


def test_whatsapp_account_without_a_phone_number_id_fails_without_a_request(
    make_outbound, fake_platform, meta_account
):
    meta_account.own_ids = []
    meta_account.save()
    message = make_outbound(meta_account, channel="whatsapp", customer="4915112345678")

    assert send_now(message.pk) == "failed"

    message.refresh_from_db()
    assert "phone number id" in message.error
    assert fake_platform.requests == []


def test_x_public_reply_is_a_tweet_in_reply_to_the_customer_tweet(
    make_outbound, fake_platform, x_account
):
    message = make_outbound(
        x_account,
        channel="x",
        customer="783214",
        kind="comment",
        is_public=True,
        in_reply_to="1860000000000000123",
    )

    send_now(message.pk)

    request = fake_platform.last
    assert request.path == "/2/tweets"
    assert request.headers["authorization"] == f"Bearer {fake_platform.X_TOKEN}"
    assert request.json == {
        "text": message.text,
        "reply": {"in_reply_to_tweet_id": "1860000000000000123"},
    }
    assert sent(message).external_id == "186000000001001"


def test_x_dm_is_posted_to_the_conversation_with_the_customer(
    make_outbound, fake_platform, x_account
):
    message = make_outbound(x_account, channel="x", customer="783214")

    send_now(message.pk)

    assert fake_platform.last.path == "/2/dm_conversations/with/783214/messages"
    assert fake_platform.last.json == {"text": message.text}
    assert sent(message).external_id == "171001"


def test_x_public_reply_without_a_tweet_to_answer_fails_at_once(
    make_outbound, fake_platform, x_account
):
    message = make_outbound(x_account, channel="x", customer="783214", is_public=True)

    assert send_now(message.pk) == "failed"
    assert fake_platform.requests == []


def test_telegram_reply_quotes_the_customer_message_in_its_chat(
    make_outbound, fake_platform, telegram_account
):
    message = make_outbound(
        telegram_account,
        channel="telegram",
        customer="93372553",
        in_reply_to="93372553:4711",
        conversation_id="93372553",
    )

    send_now(message.pk)

    request = fake_platform.last
    assert request.path == f"/bot{fake_platform.TELEGRAM_TOKEN}/sendMessage"
    assert "authorization" not in request.headers
    assert request.json == {
        "chat_id": 93372553,
        "text": message.text,
        "reply_parameters": {"message_id": 4711, "allow_sending_without_reply": True},
    }
    # The same "chat:message" shape the Telegram connector gives incoming messages.
    assert sent(message).external_id == "93372553:1001"


def test_telegram_reply_in_a_group_uses_the_group_chat_id(
    make_outbound, fake_platform, telegram_account
):
    message = make_outbound(
        telegram_account,
        channel="telegram",
        customer="93372553",
        conversation_id="-1001234567890",
    )

    send_now(message.pk)

    assert fake_platform.last.json == {"chat_id": -1001234567890, "text": message.text}
    assert sent(message).external_id == "-1001234567890:1001"


def test_generic_reply_is_signed_with_the_account_secret(
    make_outbound, fake_platform, generic_account
):
    message = make_outbound(
        generic_account,
        channel="generic",
        customer="u1",
        handle="dana",
        in_reply_to="m1",
        conversation_id="thread-9",
    )

    send_now(message.pk)

    request = fake_platform.last
    assert request.path == "/generic/messages"
    expected = hmac.new(
        fake_platform.GENERIC_SECRET.encode(), request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["x-caremgr-signature"] == f"sha256={expected}"
    assert request.json == {
        "text": message.text,
        "in_reply_to": "m1",
        "conversation_id": "thread-9",
        "recipient": {"id": "u1", "handle": "dana"},
    }
    assert sent(message).external_id == "gen-1001"


def test_generic_account_without_an_outbound_url_fails_at_once(
    make_outbound, settings, generic_account
):
    settings.CAREMGR_API_BASE = {**settings.CAREMGR_API_BASE, "generic": ""}
    message = make_outbound(generic_account, channel="generic", customer="u1")

    assert send_now(message.pk) == "failed"

    message.refresh_from_db()
    assert message.error == "no outbound URL configured for generic account"


def test_text_is_sent_exactly_as_the_agent_typed_it(make_outbound, fake_platform, generic_account):
    text = 'Hi <b>Dana</b> & "team": Grüße 👋\nline two'
    message = make_outbound(generic_account, channel="generic", customer="u1", text=text)

    send_now(message.pk)

    assert fake_platform.last.json["text"] == text
    assert "<b>Dana</b> & " in fake_platform.last.body.decode("utf-8")
    assert "Grüße 👋" in fake_platform.last.body.decode("utf-8")


def test_account_without_an_access_token_fails_without_a_request(
    make_outbound, fake_platform, meta_account
):
    meta_account.access_token = ""
    meta_account.save()
    message = make_outbound(meta_account, channel="messenger", customer="24793521834")

    assert send_now(message.pk) == "failed"

    message.refresh_from_db()
    assert "no access token" in message.error
    assert fake_platform.requests == []


def test_wrong_token_is_a_permanent_failure_with_the_platform_message(
    make_outbound, fake_platform, meta_account
):
    meta_account.access_token = "EAAnot-a-valid-token"
    meta_account.save()
    message = make_outbound(meta_account, channel="messenger", customer="24793521834")

    assert send_now(message.pk) == "failed"

    message.refresh_from_db()
    assert "Invalid OAuth access token" in message.error
    assert "(code 190)" in message.error
    assert len(fake_platform.requests) == 1


def test_switched_off_account_does_not_send(make_outbound, fake_platform, meta_account):
    meta_account.is_active = False
    meta_account.save()
    message = make_outbound(meta_account, channel="messenger", customer="24793521834")

    assert send_now(message.pk) == "failed"
    assert fake_platform.requests == []


def mock_client(status: int, body: object) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode())

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_meta_accepting_without_an_id_is_reported_not_retried(make_outbound, meta_account):
    message = make_outbound(meta_account, channel="messenger", customer="1")

    with pytest.raises(PermanentError, match="no message_id"):
        meta.send(message, meta_account, mock_client(200, {"recipient_id": "1"}))


def test_meta_transient_error_flag_makes_a_400_retryable(make_outbound, meta_account):
    message = make_outbound(meta_account, channel="messenger", customer="1")
    body = {"error": {"message": "Please retry", "code": 9999, "is_transient": True}}

    with pytest.raises(RetryableError, match="Please retry"):
        meta.send(message, meta_account, mock_client(400, body))
