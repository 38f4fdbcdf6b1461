"""Meta webhook payloads after the examples of the Messenger Platform, Page feed, Instagram
and WhatsApp Cloud API references."""

import hashlib
import hmac

from tests.payloads import encode, post_processed

PAGE_ID = "104620115889420"
PSID = "6783456238901234"
IG_ID = "17841405822304914"
IGSID = "1234567890123456"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE = "15550783881"
WA_ID = "16505551234"
POST_ID = f"{PAGE_ID}_738293829283920"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(client, account, payload, *, secret=None, signature=None):
    body = encode(payload)
    signature = signature if signature is not None else sign(secret or account.secret, body)
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature else {}
    return post_processed(client, f"/webhooks/meta/{account.slug}/", body, **headers)


def envelope(obj: str, entry_id: str, *, time: int = 1583173667623, **content) -> dict:
    return {"object": obj, "entry": [{"id": entry_id, "time": time, **content}]}


# Messenger (object "page") and Instagram messaging (object "instagram") share this shape.


def messaging(event: dict, *, obj: str = "page", owner: str = PAGE_ID) -> dict:
    return envelope(obj, owner, messaging=[event])


def messenger_message(
    mid="m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P",
    text="This is a text message",
    *,
    sender=PSID,
    recipient=PAGE_ID,
    timestamp=1583173666767,
    **message,
) -> dict:
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": timestamp,
        "message": {"mid": mid, "text": text, **message},
    }


def messenger_echo(mid="m_echo_1", text="Sorry to hear that, we're on it.", **kw) -> dict:
    return messenger_message(
        mid,
        text,
        sender=PAGE_ID,
        recipient=PSID,
        is_echo=True,
        app_id=1517776481860111,
        metadata="<DEVELOPER_DEFINED_METADATA_STRING>",
        **kw,
    )


def messenger_attachment(mid="m_image_1", kind="image") -> dict:
    event = messenger_message(mid)
    event["message"] = {
        "mid": mid,
        "attachments": [{"type": kind, "payload": {"url": "https://scontent.xx.fbcdn.net/x.jpg"}}],
    }
    return event


def messenger_delivery() -> dict:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "delivery": {"mids": ["mid.1458668856218:ed81099e15d3f4f233"], "watermark": 1458668856253},
    }


def messenger_read() -> dict:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1458668856463,
        "read": {"watermark": 1458668856253},
    }


def messenger_reaction() -> dict:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1458668856463,
        "reaction": {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": "m_1"},
    }


def messenger_postback(mid="m_postback_1", title="Talk to an agent") -> dict:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1527459824000,
        "postback": {"mid": mid, "title": title, "payload": "AGENT"},
    }


# Page feed (object "page", field "feed").


def feed_change(**value) -> dict:
    return envelope("page", PAGE_ID, time=1729267187, changes=[{"field": "feed", "value": value}])


def page_comment(
    comment_id=f"{POST_ID}_555555",
    message="My order never arrived",
    *,
    author=("5502894356478", "Cinderella Hoover"),
    parent_id=POST_ID,
    created_time=1729267180,
    verb="add",
) -> dict:
    return {
        "from": {"id": author[0], "name": author[1]},
        "post": {
            "status_type": "added_photos",
            "is_published": True,
            "updated_time": "2024-10-18T15:59:44+0000",
            "permalink_url": f"https://www.facebook.com/permalink.php?story_fbid={POST_ID}",
            "promotion_status": "inactive",
            "id": POST_ID,
        },
        "message": message,
        "post_id": POST_ID,
        "comment_id": comment_id,
        "created_time": created_time,
        "item": "comment",
        "parent_id": parent_id,
        "verb": verb,
    }


def page_post(post_id=f"{PAGE_ID}_999", message="It's Thursday and I want to eat cake.") -> dict:
    return {
        "from": {"id": "5502894356478", "name": "Cinderella Hoover"},
        "item": "post",
        "post_id": post_id,
        "verb": "add",
        "created_time": 1520544814,
        "is_hidden": False,
        "message": message,
    }


# Instagram comments and mentions (object "instagram").


def ig_comment(comment_id="17865799348089039", text="This is an example.", **kw) -> dict:
    value = {
        "from": {"id": kw.get("author_id", "232323232"), "username": kw.get("username", "test")},
        "media": {"id": "123123123", "media_product_type": "FEED"},
        "id": comment_id,
        "text": text,
    }
    if kw.get("parent_id"):
        value["parent_id"] = kw["parent_id"]
    return value


def ig_changes(*changes, time=1569262486) -> dict:
    return envelope("instagram", IG_ID, time=time, changes=list(changes))


# WhatsApp Cloud API (object "whatsapp_business_account").


def whatsapp(*, field="messages", **value) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": DISPLAY_PHONE,
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            **value,
                        },
                        "field": field,
                    }
                ],
            }
        ],
    }


def wa_contacts(name="Kerry Fisher", wa_id=WA_ID) -> list:
    return [{"profile": {"name": name}, "wa_id": wa_id}]


def wa_text(wamid="wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", body="Hi"):
    return {
        "from": WA_ID,
        "id": wamid,
        "timestamp": "1706200013",
        "text": {"body": body},
        "type": "text",
    }


def wa_status(wamid, status="delivered", **extra) -> dict:
    return {
        "id": wamid,
        "status": status,
        "timestamp": "1706200100",
        "recipient_id": WA_ID,
        "conversation": {
            "id": "CONVERSATION_ID",
            "expiration_timestamp": 1706286500,
            "origin": {"type": "user_initiated"},
        },
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "user_initiated"},
        **extra,
    }
