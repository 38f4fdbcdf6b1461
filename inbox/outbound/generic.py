"""Replies to a generic account: caremgr's own JSON, signed like the generic webhook.

The receiving side verifies `X-Caremgr-Signature: sha256=<hex HMAC-SHA256 of the body>` with
the account's secret, the same check caremgr makes of what that side sends us, so one secret
covers both directions.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from inbox.connectors.base import hmac_sha256
from inbox.outbound.base import (
    PermanentError,
    PlatformError,
    body_text,
    encode,
    json_or_empty,
    post_json,
    require_id,
)


def send(message: Any, account: Any, client: httpx.Client) -> str:
    """Post `message` to the configured endpoint and return the `external_id` it answers."""
    base = (settings.CAREMGR_API_BASE.get("generic") or "").rstrip("/")
    if not base:
        raise PermanentError("no outbound URL configured for generic account")
    if not account.secret:
        raise PermanentError("the generic account has no secret to sign outbound messages")
    contact = message.contact
    body = encode(
        {
            "text": message.text,
            "in_reply_to": message.in_reply_to,
            "conversation_id": message.conversation_id,
            "recipient": {"id": contact.external_id, "handle": contact.handle},
        }
    )
    headers = {"X-Caremgr-Signature": "sha256=" + hmac_sha256(account.secret, body).hex()}
    if account.access_token:
        headers["Authorization"] = f"Bearer {account.access_token}"
    data = post_json(client, f"{base}/messages", body, headers=headers, read_error=read_error)
    return require_id(data.get("external_id") if isinstance(data, dict) else None, "external_id")


def read_error(response: httpx.Response) -> PlatformError:
    data = json_or_empty(response)
    if isinstance(data, dict) and data.get("error"):
        return PlatformError(str(data["error"]))
    return PlatformError(body_text(response))
