"""Replies through the X API v2: a public reply tweet, or a direct message.

A customer who wrote in public is answered in public under their tweet; one who wrote a DM
gets a DM. X announces rate limits with 429 and `x-rate-limit-reset` (epoch seconds) rather
than Retry-After; base.retry_after reads both.
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


def send(message: Any, account: Any, client: httpx.Client) -> str:
    """Post `message` for `account` and return the tweet id or the DM event id."""
    base = api_base("x")
    headers = bearer(account.access_token)
    if message.is_public or message.kind != "dm":
        if not message.in_reply_to:
            raise PermanentError("a public reply needs the id of the tweet it answers")
        payload = {"text": message.text, "reply": {"in_reply_to_tweet_id": message.in_reply_to}}
        data = _post(client, f"{base}/tweets", payload, headers)
        return require_id(dig(data, "data", "id"), "data.id")
    participant = message.contact.external_id
    if not participant:
        raise PermanentError("the customer's X user id is unknown")
    url = f"{base}/dm_conversations/with/{participant}/messages"
    data = _post(client, url, {"text": message.text}, headers)
    return require_id(dig(data, "data", "dm_event_id"), "data.dm_event_id")


def _post(client: httpx.Client, url: str, payload: dict, headers: dict) -> Any:
    return post_json(client, url, encode(payload), headers=headers, read_error=read_error)


def read_error(response: httpx.Response) -> PlatformError:
    """X answers with a problem object (`title`, `detail`) and sometimes `errors[].message`."""
    data = json_or_empty(response)
    if not isinstance(data, dict):
        return PlatformError(body_text(response))
    parts = []
    for error in data.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
    detail = data.get("detail") or data.get("title")
    if detail and str(detail) not in parts:
        parts.insert(0, str(detail))
    return PlatformError("; ".join(parts) if parts else body_text(response))
