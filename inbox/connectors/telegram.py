"""Telegram Bot API webhooks: one `Update` per request.

Verification: `X-Telegram-Bot-Api-Secret-Token`, the `secret_token` given to `setWebhook`,
must equal the account's secret; there is no GET handshake.

Only `message` updates carry customer messages. Message ids are unique per chat only, so a
message is `<chat id>:<message id>` and the conversation is the chat. A private chat is a DM;
a group message is a comment, not public (only the group's members see it). A message
from one of the account's own bots is outbound to the chat (private) or to the author of
the message it answers (group). Edits, channel posts, button callbacks, inline queries and
service messages (members joining, titles changing, pins) are acknowledged and ignored.
"""

from typing import Any

from inbox.connectors.base import (
    Connector,
    ParsedMessage,
    ParseResult,
    PayloadError,
    Person,
    load_json,
    same,
)
from inbox.connectors.fields import (
    UNKNOWN,
    ident,
    label,
    obj,
    optional_obj,
    person,
    text,
    timestamp,
)

# Content a customer sends, in the order Telegram nests them (an animation is also a document).
CONTENT_TYPES = (
    "animation",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "story",
    "game",
    "invoice",
)
GROUP_TYPES = {"group", "supergroup"}


class TelegramConnector(Connector):
    platform = "telegram"

    def verify_signature(self, account, body: bytes, headers) -> bool:
        given = headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        return bool(given) and bool(account.secret) and same(given, account.secret)

    def parse(self, account, body: bytes) -> ParseResult:
        update = obj(load_json(body), "body")
        update_id = update.get("update_id")
        if isinstance(update_id, bool) or not isinstance(update_id, int):
            raise PayloadError("body.update_id is missing or not a number")
        message = update.get("message")
        if message is None:
            return ParseResult(ignored=1)
        parsed = _parse_message(account, obj(message, "message"), "message")
        if parsed is None:
            return ParseResult(ignored=1)
        return ParseResult(messages=[parsed])


def _user(data: Any, where: str) -> Person:
    data = obj(data, where)
    first, last = label(data.get("first_name")), label(data.get("last_name"))
    return person(
        data.get("id"), f"{where}.id", handle=data.get("username", ""), name=f"{first} {last}"
    )


def _chat_person(chat: dict, where: str) -> Person:
    """A chat (or a channel posting as itself) as a person: private chats are the user."""
    first, last = label(chat.get("first_name")), label(chat.get("last_name"))
    return person(
        chat.get("id"),
        f"{where}.id",
        handle=chat.get("username", ""),
        name=f"{first} {last}".strip() or chat.get("title", ""),
    )


def _content(message: dict, where: str) -> str | None:
    """What the customer wrote; a placeholder for media without caption; None for service
    messages."""
    if message.get("text") is not None:
        return text(message["text"], f"{where}.text")
    caption = text(message.get("caption"), f"{where}.caption")
    for kind in CONTENT_TYPES:
        if message.get(kind) is not None:
            if caption:
                return caption
            if kind == "sticker":
                emoji = optional_obj(message, "sticker", where).get("emoji")
                return f"[sticker] {label(emoji, 16)}".rstrip()
            return f"[{kind}]"
    return caption or None


def _parse_message(account, message: dict, where: str) -> ParsedMessage | None:
    content = _content(message, where)
    if content is None:
        return None
    chat = obj(message.get("chat"), f"{where}.chat")
    chat_id = ident(chat.get("id"), f"{where}.chat.id")
    message_id = ident(message.get("message_id"), f"{where}.message_id")
    if message.get("sender_chat") is not None:  # an anonymous admin or a linked channel
        author = _chat_person(obj(message["sender_chat"], f"{where}.sender_chat"), where)
    elif message.get("from") is not None:
        author = _user(message["from"], f"{where}.from")
    else:
        author = _chat_person(chat, f"{where}.chat")
    is_group = isinstance(chat.get("type"), str) and chat["type"] in GROUP_TYPES
    outbound = account.is_own_id(author.external_id)
    reply = optional_obj(message, "reply_to_message", where)
    in_reply_to = ""
    if reply:
        reply_id = ident(reply.get("message_id"), f"{where}.reply_to_message.message_id")
        in_reply_to = ident(f"{chat_id}:{reply_id}", f"{where}.reply_to_message.message_id")
    if not outbound:
        customer = author
    elif not is_group:
        customer = _chat_person(chat, f"{where}.chat")
    elif isinstance(reply.get("from"), dict):
        customer = _user(reply["from"], f"{where}.reply_to_message.from")
    else:
        customer = UNKNOWN
    return ParsedMessage(
        external_id=ident(f"{chat_id}:{message_id}", f"{where}.message_id"),
        channel="telegram",
        direction="out" if outbound else "in",
        kind="comment" if is_group else "dm",
        is_public=False,
        text=content,
        author=author,
        customer=customer,
        created_at=timestamp(message.get("date"), f"{where}.date"),
        in_reply_to=in_reply_to,
        conversation_id=chat_id,
        raw=message,
    )
