"""Telegram Bot API updates after the examples of core.telegram.org/bots/webhooks."""

from tests.payloads import encode, post_processed

BOT_ID = 5_000_000_001
USER = {
    "last_name": "Test Lastname",
    "id": 1111111,
    "is_bot": False,
    "first_name": "Test Firstname",
    "username": "Testusername",
    "language_code": "en",
}
PRIVATE_CHAT = {
    "last_name": "Test Lastname",
    "id": 1111111,
    "type": "private",
    "first_name": "Test Firstname",
    "username": "Testusername",
}
GROUP_CHAT = {"id": -1001234567890, "title": "Acme customers", "type": "supergroup"}
BOT = {"id": BOT_ID, "is_bot": True, "first_name": "Acme Care", "username": "acme_care_bot"}


def post_telegram(client, account, payload, *, token=None):
    body = encode(payload)
    token = account.secret if token is None else token
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": token} if token else {}
    return post_processed(client, f"/webhooks/telegram/{account.slug}/", body, **headers)


def message(message_id=1365, text="/start", *, chat=None, sender=None, date=1441645532, **extra):
    content = {"text": text} if text is not None else {}
    return {
        "date": date,
        "chat": chat or PRIVATE_CHAT,
        "message_id": message_id,
        "from": sender or USER,
        **content,
        **extra,
    }


def update(update_id=10000, **kinds):
    return {"update_id": update_id, **kinds}


def reply_to(message_id=1334, text="Original", *, sender=None, chat=None):
    return {
        "date": 1441645000,
        "chat": chat or PRIVATE_CHAT,
        "message_id": message_id,
        "from": sender or USER,
        "text": text,
    }


def ignored_updates():
    """Updates that carry no customer message, one each, as documented."""
    return {
        "edited_message": update(
            edited_message={**message(text="Edited text"), "edit_date": 1441646600}
        ),
        "callback_query": update(
            callback_query={
                "id": "4382bfdwdsb323b2d9",
                "from": USER,
                "data": "Data from button callback",
                "inline_message_id": "1234csdbsk4839",
            }
        ),
        "inline_query": update(
            inline_query={"id": "134567890097", "from": USER, "query": "inline query", "offset": ""}
        ),
        "chosen_inline_result": update(
            chosen_inline_result={
                "result_id": "12",
                "from": USER,
                "query": "inline query",
                "inline_message_id": "1234csdbsk4839",
            }
        ),
        "channel_post": update(
            channel_post={
                "message_id": 7,
                "sender_chat": {"id": -1009, "title": "Acme news", "type": "channel"},
                "chat": {"id": -1009, "title": "Acme news", "type": "channel"},
                "date": 1441645532,
                "text": "New release",
            }
        ),
        "member_joined": update(
            message=message(
                text=None,
                chat=GROUP_CHAT,
                new_chat_members=[USER],
                new_chat_member=USER,
                new_chat_participant=USER,
            )
        ),
    }
