"""Replies through the Meta Graph API: Messenger and Instagram DMs, Facebook and Instagram
comment replies, WhatsApp Cloud API messages.

Which endpoint a reply takes follows the channel and whether the customer wrote in public:
a public comment is answered in public, a DM privately. Graph API rate limits arrive as
HTTP 400/403 with an error code (4, 17, 32, 613, 80001…), so those codes are retried even
though the status alone would say "permanent".
"""

from __future__ import annotations

from typing import Any

import httpx

from inbox.outbound.base import (
    PermanentError,
    PlatformError,
    api_base,
    bearer,
    body_text,
    dig,
    encode,
    json_or_empty,
    post_json,
    require_id,
)

MENTION_PREFIX = "mention:"
# Graph API codes meaning "slow down" or "temporarily unavailable", whatever the HTTP status.
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, 130429, 131016, 131056, 133004} | set(
    range(80001, 80015)
)


def send(message: Any, account: Any, client: httpx.Client) -> str:
    """Post `message` for `account` and return Meta's id of what was posted."""
    base = api_base("meta")
    headers = bearer(account.access_token)
    channel = message.channel
    if channel == "whatsapp":
        return _whatsapp(base, message, account, headers, client)
    if channel == "facebook":
        return _facebook_comment(base, message, headers, client)
    if channel == "instagram" and message.is_public:
        return _instagram_comment(base, message, account, headers, client)
    if channel in ("messenger", "instagram"):
        return _direct_message(base, message, headers, client)
    raise PermanentError(f"a Meta account cannot send on channel {channel!r}")


def _direct_message(base: str, message: Any, headers: dict, client: httpx.Client) -> str:
    recipient = _customer_id(message)
    payload = {
        "recipient": {"id": recipient},
        "messaging_type": "RESPONSE",
        "message": {"text": message.text},
    }
    data = _post(client, f"{base}/me/messages", payload, headers)
    return require_id(dig(data, "message_id"), "message_id")


def _facebook_comment(base: str, message: Any, headers: dict, client: httpx.Client) -> str:
    # A reply to a post becomes a comment on it; a reply to a comment joins its thread.
    target = _reply_target(message)
    data = _post(client, f"{base}/{target}/comments", {"message": message.text}, headers)
    return require_id(dig(data, "id"), "id")


def _instagram_comment(
    base: str, message: Any, account: Any, headers: dict, client: httpx.Client
) -> str:
    target = _reply_target(message)
    if target.startswith(MENTION_PREFIX):
        return _instagram_mention(base, message, account, headers, client)
    if target == message.conversation_id:
        # Answering the media itself (a caption), not one of its comments.
        url = f"{base}/{target}/comments"
    else:
        url = f"{base}/{target}/replies"
    data = _post(client, url, {"message": message.text}, headers)
    return require_id(dig(data, "id"), "id")


def _instagram_mention(
    base: str, message: Any, account: Any, headers: dict, client: httpx.Client
) -> str:
    """A mention of the brand in someone else's media is answered through the mentions edge."""
    user_id = _first_own_id(account, "Instagram user id")
    mentioned = message.in_reply_to[len(MENTION_PREFIX) :]
    payload = {"media_id": message.conversation_id or mentioned, "message": message.text}
    if mentioned != payload["media_id"]:
        payload["comment_id"] = mentioned
    data = _post(client, f"{base}/{user_id}/mentions", payload, headers)
    return require_id(dig(data, "id"), "id")


def _whatsapp(base: str, message: Any, account: Any, headers: dict, client: httpx.Client) -> str:
    phone_number_id = _first_own_id(account, "WhatsApp phone number id")
    payload = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _customer_id(message),
        "type": "text",
        "text": {"preview_url": False, "body": message.text},
    }
    data = _post(client, f"{base}/{phone_number_id}/messages", payload, headers)
    return require_id(dig(data, "messages", 0, "id"), "messages[0].id")


def _post(client: httpx.Client, url: str, payload: dict, headers: dict) -> Any:
    return post_json(client, url, encode(payload), headers=headers, read_error=read_error)


def read_error(response: httpx.Response) -> PlatformError:
    """`{"error": {"message", "type", "code", "error_subcode", "is_transient"}}` in words."""
    error = dig(json_or_empty(response), "error")
    if not isinstance(error, dict):
        return PlatformError(body_text(response))
    code = error.get("code")
    text = str(error.get("message") or error.get("error_user_msg") or "unknown error")
    details = [f"code {code}"] if code is not None else []
    if error.get("error_subcode") is not None:
        details.append(f"subcode {error['error_subcode']}")
    if details:
        text = f"{text} ({', '.join(details)})"
    if error.get("is_transient") is True or code in TRANSIENT_CODES:
        return PlatformError(text, retryable=True)
    return PlatformError(text)


def _customer_id(message: Any) -> str:
    recipient = message.contact.external_id
    if not recipient:
        raise PermanentError("the customer's platform id is unknown")
    return recipient


def _reply_target(message: Any) -> str:
    target = message.in_reply_to
    if not target:
        raise PermanentError("a public reply needs the id of the comment or post it answers")
    return target


def _first_own_id(account: Any, what: str) -> str:
    own_ids = account.own_ids or []
    if not own_ids or not str(own_ids[0]):
        raise PermanentError(f"the account's first own id must be its {what}")
    return str(own_ids[0])
