"""Telegram webhooks: the secret token header, messages in private chats and groups."""

from datetime import UTC, datetime

import pytest

from inbox.models import Delivery, Message
from tests.conftest import make_account
from tests.payloads import telegram as tg
from tests.payloads.telegram import BOT, BOT_ID, GROUP_CHAT, USER, post_telegram

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot():
    return make_account("telegram", slug="bot", secret="tg-Secret_123", own_ids=[BOT_ID])


def test_get_is_not_a_telegram_handshake(client, bot):
    assert client.get("/webhooks/telegram/bot/").status_code == 405


def test_post_with_the_secret_token_is_stored_and_processed(client, bot):
    assert post_telegram(client, bot, tg.update(message=tg.message())).status_code == 200
    assert Delivery.objects.get().status == "processed"


@pytest.mark.parametrize("token", ["wrong", "tg-secret_123", "tg-Secret_1234", " "])
def test_post_with_a_wrong_secret_token_is_refused_and_not_stored(client, bot, token):
    assert (
        post_telegram(client, bot, tg.update(message=tg.message()), token=token).status_code == 403
    )
    assert Delivery.objects.count() == 0


def test_post_without_the_secret_token_is_refused(client, bot):
    assert post_telegram(client, bot, tg.update(message=tg.message()), token="").status_code == 403


def test_unknown_account_answers_404(client, bot):
    answer = client.post("/webhooks/telegram/nobody/", b"{}", content_type="application/json")
    assert answer.status_code == 404


def test_private_message_is_an_inbound_dm_of_its_chat(client, bot):
    post_telegram(client, bot, tg.update(message=tg.message(1365, "My parcel is lost")))
    message = Message.objects.select_related("contact").get()
    assert (message.channel, message.direction, message.kind) == ("telegram", "in", "dm")
    assert message.is_public is False
    assert message.text == "My parcel is lost"
    assert message.external_id == "1111111:1365"
    assert message.conversation_id == "1111111"
    assert message.author_handle == "Testusername"
    assert message.author_name == "Test Firstname Test Lastname"
    assert message.contact.external_id == "1111111"
    assert message.contact.handle == "Testusername"
    assert message.created_at == datetime(2015, 9, 7, 17, 5, 32, tzinfo=UTC)


def test_reply_points_at_the_message_it_answers_in_the_same_chat(client, bot):
    reply = tg.message(1366, "Any news?", reply_to_message=tg.reply_to(1334))
    post_telegram(client, bot, tg.update(message=reply))
    assert Message.objects.get().in_reply_to == "1111111:1334"


def test_same_message_id_in_two_chats_is_two_messages(client, bot):
    other_chat = {**tg.PRIVATE_CHAT, "id": 2222222}
    other_user = {**USER, "id": 2222222, "username": "other"}
    post_telegram(client, bot, tg.update(1, message=tg.message(5, "a")))
    post_telegram(
        client, bot, tg.update(2, message=tg.message(5, "b", chat=other_chat, sender=other_user))
    )
    assert sorted(Message.objects.values_list("external_id", flat=True)) == [
        "1111111:5",
        "2222222:5",
    ]


def test_group_message_is_a_comment_visible_only_to_the_group(client, bot):
    post_telegram(
        client, bot, tg.update(message=tg.message(42, "@acme_care_bot help", chat=GROUP_CHAT))
    )
    message = Message.objects.get()
    assert (message.kind, message.is_public) == ("comment", False)
    assert message.external_id == "-1001234567890:42"
    assert message.conversation_id == "-1001234567890"


def test_message_of_the_own_bot_in_a_private_chat_is_outbound_to_the_chat(client, bot):
    post_telegram(client, bot, tg.update(message=tg.message(1367, "We're on it", sender=BOT)))
    message = Message.objects.select_related("contact").get()
    assert message.direction == "out"
    assert message.author_external_id == str(BOT_ID)
    assert message.contact.external_id == "1111111"
    assert message.contact.handle == "Testusername"


def test_message_of_the_own_bot_in_a_group_is_outbound_to_the_author_it_answers(client, bot):
    answer = tg.message(
        43, "Sorry!", chat=GROUP_CHAT, sender=BOT, reply_to_message=tg.reply_to(42, chat=GROUP_CHAT)
    )
    post_telegram(client, bot, tg.update(message=answer))
    message = Message.objects.select_related("contact").get()
    assert message.direction == "out"
    assert message.in_reply_to == "-1001234567890:42"
    assert message.contact.external_id == "1111111"


def test_message_of_another_bot_is_inbound(client, bot):
    other = {**BOT, "id": 999, "username": "other_bot"}
    post_telegram(client, bot, tg.update(message=tg.message(1368, "ping", sender=other)))
    assert Message.objects.get().direction == "in"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {
                "photo": [
                    {"file_id": "AgAD1", "file_unique_id": "u1", "width": 90, "height": 51},
                    {"file_id": "AgAD2", "file_unique_id": "u2", "width": 320, "height": 180},
                ],
                "caption": "the dent",
            },
            "the dent",
        ),
        (
            {"photo": [{"file_id": "AgAD1", "file_unique_id": "u1", "width": 9, "height": 5}]},
            "[photo]",
        ),
        (
            {
                "sticker": {
                    "file_id": "CAAD",
                    "file_unique_id": "s1",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "\U0001f621",
                }
            },
            "[sticker] \U0001f621",
        ),
        ({"voice": {"file_id": "AwAD", "file_unique_id": "v1", "duration": 3}}, "[voice]"),
        (
            {
                "animation": {
                    "file_id": "CgAD",
                    "file_unique_id": "a1",
                    "width": 1,
                    "height": 1,
                    "duration": 1,
                },
                "document": {"file_id": "CgAD", "file_unique_id": "a1"},
            },
            "[animation]",
        ),
        ({"location": {"latitude": 52.52, "longitude": 13.405}}, "[location]"),
    ],
    ids=["photo-caption", "photo", "sticker", "voice", "animation", "location"],
)
def test_message_without_text_keeps_its_caption_or_a_placeholder(client, bot, content, expected):
    post_telegram(client, bot, tg.update(message=tg.message(text=None, **content)))
    assert Message.objects.get().text == expected


@pytest.mark.parametrize("name", list(tg.ignored_updates()))
def test_updates_without_a_customer_message_are_acknowledged_and_ignored(client, bot, name):
    assert post_telegram(client, bot, tg.ignored_updates()[name]).status_code == 200
    assert Delivery.objects.get().status == "ignored"
    assert Message.objects.count() == 0


def test_same_update_twice_is_accepted_twice_and_stored_once(client, bot):
    payload = tg.update(message=tg.message())
    assert post_telegram(client, bot, payload).status_code == 200
    assert post_telegram(client, bot, payload).status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"update", "body is not valid JSON"),
        (b'"text"', "body is not an object"),
        ({"message": tg.message()}, "body.update_id is missing or not a number"),
        (tg.update(message="hi"), "message is not an object"),
        (tg.update(message={**tg.message(), "chat": None}), "message.chat is not an object"),
        (tg.update(message={**tg.message(), "message_id": None}), "message.message_id is missing"),
        (tg.update(message={**tg.message(), "date": "soon"}), "message.date"),
        (tg.update(message={**tg.message(), "text": 5}), "message.text must be a string"),
    ],
    ids=[
        "not-json",
        "string",
        "no-update-id",
        "message-string",
        "no-chat",
        "no-id",
        "date",
        "text",
    ],
)
def test_unreadable_body_answers_400_and_is_kept_as_a_failed_delivery(client, bot, payload, error):
    answer = post_telegram(client, bot, payload)
    assert answer.status_code == 400
    assert error in answer.json()["error"]
    assert Delivery.objects.get().status == "failed"
