"""Replies through the Telegram Bot API `sendMessage`.

The Telegram connector names messages `"<chat_id>:<message_id>"`, since message ids are only
unique within a chat; the chat and the message answered come back out of `in_reply_to` (or
the conversation id), and the sent message gets an id of the same shape. The bot token sits
in the URL path, which is why the outbox scrubs it from every error it keeps.
"""

from __future__ import annotations

from typing import Any

import httpx

from inbox.outbound.base import (
    PermanentError,
    PlatformError,
    api_base,
    body_text,
    dig,
    encode,
    json_or_empty,
    post_json,
    require_id,
)


def send(message: Any, account: Any, client: httpx.Client) -> str:
    """Post `message` for `account` and return `"<chat_id>:<message_id>"` of the sent message."""
    base = api_base("telegram")
    token = account.access_token
    if not token:
        raise PermanentError("the account has no bot token for outbound messages")
    chat_id, reply_to = _target(message)
    payload: dict[str, Any] = {"chat_id": _number_or_text(chat_id), "text": message.text}
    if reply_to is not None:
        # If the customer deleted their message, still answer rather than fail.
        payload["reply_parameters"] = {
            "message_id": reply_to,
            "allow_sending_without_reply": True,
        }
    data = post_json(
        client,
        f"{base}/bot{token}/sendMessage",
        encode(payload),
        headers={},
        read_error=read_error,
    )
    if not isinstance(data, dict) or data.get("ok") is not True:
        raise PermanentError(f"Telegram refused the message: {read_error_data(data).text}")
    sent_id = require_id(dig(data, "result", "message_id"), "result.message_id")
    sent_chat = dig(data, "result", "chat", "id")
    return f"{sent_chat if sent_chat is not None else chat_id}:{sent_id}"


def _target(message: Any) -> tuple[str, int | None]:
    """(chat id, id of the message answered or None) from the connector's "chat:message" ids."""
    chat_id, reply_to = "", None
    if message.in_reply_to:
        chat_id, _, rest = message.in_reply_to.partition(":")
        reply_to = int(rest) if rest.isdigit() else None
    if not chat_id and message.conversation_id:
        chat_id = message.conversation_id.partition(":")[0]
    if not chat_id:
        # In a private chat the chat id is the customer's user id.
        chat_id = message.contact.external_id
    if not chat_id:
        raise PermanentError("the Telegram chat to answer in is unknown")
    return chat_id, reply_to


def _number_or_text(value: str) -> int | str:
    """Chat ids are integers (negative for groups); `@channel` names stay text."""
    try:
        return int(value)
    except ValueError:
        return value


def read_error(response: httpx.Response) -> PlatformError:
    return read_error_data(json_or_empty(response), response)


def read_error_data(data: Any, response: httpx.Response | None = None) -> PlatformError:
    """`{"ok": false, "error_code", "description", "parameters": {"retry_after"}}` in words."""
    if not isinstance(data, dict) or "description" not in data:
        return PlatformError(body_text(response) if response is not None else "unexpected answer")
    wait = dig(data, "parameters", "retry_after")
    retry_after = float(wait) if isinstance(wait, int | float) and wait >= 0 else None
    code = data.get("error_code")
    return PlatformError(
        str(data["description"]),
        retryable=True if code == 429 or retry_after is not None else None,
        retry_after=retry_after,
    )
