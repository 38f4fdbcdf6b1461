"""WhatsApp Cloud API webhooks: customer messages of every type, echoes and statuses."""

from datetime import UTC, datetime

import pytest

from inbox.models import Delivery, Message
from tests.conftest import make_account
from tests.payloads import meta
from tests.payloads.meta import PHONE_NUMBER_ID, WA_ID, post_meta

pytestmark = pytest.mark.django_db

WAMID = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


@pytest.fixture
def brand():
    return make_account("meta", slug="brand", own_ids=[PHONE_NUMBER_ID])


def our_reply(brand, wamid=WAMID, status="sent"):
    from inbox.models import Contact

    contact = Contact.objects.create(channel="whatsapp", external_id=WA_ID)
    return Message.objects.create(
        account=brand,
        contact=contact,
        channel="whatsapp",
        direction="out",
        status=status,
        external_id=wamid,
        text="Your refund is on its way.",
        created_at=datetime(2024, 1, 25, 16, 0, tzinfo=UTC),
    )


def test_text_message_is_an_inbound_dm_in_the_conversation_of_the_sender(client, brand):
    payload = meta.whatsapp(contacts=meta.wa_contacts(), messages=[meta.wa_text(body="Hi there")])
    assert post_meta(client, brand, payload).status_code == 200
    message = Message.objects.select_related("contact").get()
    assert (message.channel, message.direction, message.kind) == ("whatsapp", "in", "dm")
    assert message.is_public is False
    assert message.text == "Hi there"
    assert message.external_id.startswith("wamid.")
    assert message.author_external_id == WA_ID
    assert message.author_name == "Kerry Fisher"
    assert message.contact.external_id == WA_ID
    assert message.contact.name == "Kerry Fisher"
    assert message.conversation_id == WA_ID
    assert message.created_at == datetime(2024, 1, 25, 16, 26, 53, tzinfo=UTC)


def test_reply_to_one_of_our_messages_keeps_its_context(client, brand):
    text = meta.wa_text(body="Still nothing")
    text["context"] = {"from": meta.DISPLAY_PHONE, "id": WAMID}
    post_meta(client, brand, meta.whatsapp(contacts=meta.wa_contacts(), messages=[text]))
    assert Message.objects.get().in_reply_to == WAMID


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {
                "type": "image",
                "image": {
                    "caption": "the broken lid",
                    "mime_type": "image/jpeg",
                    "sha256": "IMAGE_HASH",
                    "id": "1234",
                },
            },
            "the broken lid",
        ),
        ({"type": "audio", "audio": {"mime_type": "audio/ogg", "id": "55"}}, "[audio]"),
        ({"type": "sticker", "sticker": {"mime_type": "image/webp", "id": "9"}}, "[sticker]"),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "talk", "title": "Talk to a person"},
                },
            },
            "Talk to a person",
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "r", "title": "Refunds", "description": "Money"},
                },
            },
            "Refunds",
        ),
        (
            {"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}},
            "Stop promotions",
        ),
        (
            {"type": "location", "location": {"latitude": 1.2, "longitude": 3.4, "name": "Shop"}},
            "[location] Shop",
        ),
        ({"type": "unsupported", "errors": [{"code": 131051}]}, "[unsupported]"),
    ],
    ids=["image", "audio", "sticker", "button-reply", "list-reply", "button", "location", "other"],
)
def test_message_without_text_keeps_its_caption_title_or_a_placeholder(
    client, brand, content, expected
):
    message = {"from": WA_ID, "id": "wamid.X1", "timestamp": "1706200013", **content}
    post_meta(client, brand, meta.whatsapp(contacts=meta.wa_contacts(), messages=[message]))
    assert Message.objects.get().text == expected


def test_reaction_is_acknowledged_and_ignored(client, brand):
    reaction = {
        "from": WA_ID,
        "id": "wamid.R1",
        "timestamp": "1706200013",
        "reaction": {"message_id": WAMID, "emoji": "\U0001f44d"},
        "type": "reaction",
    }
    payload = meta.whatsapp(contacts=meta.wa_contacts(), messages=[reaction])
    assert post_meta(client, brand, payload).status_code == 200
    assert Delivery.objects.get().status == "ignored"
    assert Message.objects.count() == 0


@pytest.mark.parametrize("status", ["delivered", "read"])
def test_status_moves_our_outbound_message_forward(client, brand, status):
    ours = our_reply(brand)
    payload = meta.whatsapp(statuses=[meta.wa_status(WAMID, status)])
    assert post_meta(client, brand, payload).status_code == 200
    ours.refresh_from_db()
    assert ours.status == status
    assert Message.objects.count() == 1
    assert Delivery.objects.get().status == "ignored"


def test_late_status_never_moves_a_message_back(client, brand):
    ours = our_reply(brand, status="read")
    post_meta(client, brand, meta.whatsapp(statuses=[meta.wa_status(WAMID, "delivered")]))
    ours.refresh_from_db()
    assert ours.status == "read"


def test_failed_status_marks_our_message_failed_with_the_reason(client, brand):
    ours = our_reply(brand)
    failed = meta.wa_status(
        WAMID,
        "failed",
        errors=[
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number."
                },
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ],
    )
    post_meta(client, brand, meta.whatsapp(statuses=[failed]))
    ours.refresh_from_db()
    assert ours.status == "failed"
    assert ours.error.startswith("131047 Re-engagement message: Message failed to send")


def test_status_of_a_message_we_do_not_know_is_ignored(client, brand):
    payload = meta.whatsapp(statuses=[meta.wa_status("wamid.unknown", "read")])
    assert post_meta(client, brand, payload).status_code == 200
    assert Message.objects.count() == 0


def test_reply_typed_in_the_business_app_is_outbound_to_the_customer(client, brand):
    echo = {
        "from": meta.DISPLAY_PHONE,
        "to": WA_ID,
        "id": "wamid.ECHO1",
        "timestamp": "1706200200",
        "type": "text",
        "text": {"body": "Refund sent"},
    }
    payload = meta.whatsapp(field="smb_message_echoes", message_echoes=[echo])
    post_meta(client, brand, payload)
    message = Message.objects.select_related("contact").get()
    assert (message.direction, message.text) == ("out", "Refund sent")
    assert message.contact.external_id == WA_ID
    assert message.author_external_id == PHONE_NUMBER_ID


def test_other_fields_of_the_business_account_are_ignored(client, brand):
    payload = meta.whatsapp(field="message_template_status_update", event="APPROVED")
    assert post_meta(client, brand, payload).status_code == 200
    assert Delivery.objects.get().status == "ignored"


def test_message_without_id_is_refused_with_the_path_to_it(client, brand):
    text = meta.wa_text()
    del text["id"]
    answer = post_meta(client, brand, meta.whatsapp(contacts=meta.wa_contacts(), messages=[text]))
    assert answer.status_code == 400
    assert answer.json()["error"] == "entry[0].changes[0].value.messages[0].id is missing"
    assert Delivery.objects.get().status == "failed"


def test_messages_that_are_not_a_list_are_refused(client, brand):
    answer = post_meta(client, brand, meta.whatsapp(messages={"id": "wamid.1"}))
    assert answer.status_code == 400
    assert answer.json()["error"] == "entry[0].changes[0].value.messages is not a list"
