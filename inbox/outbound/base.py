"""What every sender shares: the two kinds of failure and one way to POST JSON to a platform.

A sender turns an outbound Message into one platform API call and returns the platform's id
of what it posted. It never touches the database; the outbox decides what a failure means
for the row. The split that matters is whether trying again can help: a network error, a
timeout, 429 or 5xx can; any other 4xx (bad token, closed messaging window, deleted post)
cannot, and retrying it would only hammer the platform.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

ERROR_TEXT_LIMIT = 500
MAX_RETRY_AFTER = 24 * 3600.0
# The platform said "later" without saying when; RETRYABLE_STATUSES get the outbox's backoff.
RETRYABLE_STATUSES = {408, 429}


class SendError(Exception):
    """A send that did not reach the platform or was refused; str() is safe to store."""


class PermanentError(SendError):
    """Trying again cannot help: the message is failed at once."""


class RetryableError(SendError):
    """Trying again later may help; `retry_after` (seconds) is the platform's own wish."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class PlatformError:
    """A refusal as the platform words it.

    `retryable` overrides the decision by HTTP status (Meta signals rate limits as 400 with
    an error code); `retry_after` overrides the Retry-After header (Telegram puts it in the
    body).
    """

    text: str
    retryable: bool | None = None
    retry_after: float | None = None


ErrorReader = Callable[[httpx.Response], PlatformError]


def api_base(platform: str) -> str:
    """The platform's API root, read at call time so tests and gateways can point it elsewhere."""
    base = (settings.CAREMGR_API_BASE.get(platform) or "").rstrip("/")
    if not base:
        raise PermanentError(f"no API base URL configured for {platform}")
    return base


def bearer(token: str) -> dict[str, str]:
    if not token:
        raise PermanentError("the account has no access token for outbound messages")
    return {"Authorization": f"Bearer {token}"}


def encode(payload: dict[str, Any]) -> bytes:
    """The JSON body exactly as sent: UTF-8, nothing escaped that JSON does not require.

    Serialised here rather than by httpx so a signature can be computed over the same bytes.
    """
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def post_json(
    client: httpx.Client,
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    read_error: ErrorReader,
) -> Any:
    """POST a JSON body and return the decoded answer, or raise a SendError saying why not."""
    try:
        response = client.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
    except httpx.TimeoutException as exc:
        raise RetryableError(f"timed out talking to the platform ({type(exc).__name__})") from None
    except httpx.UnsupportedProtocol:
        raise PermanentError("the configured API base URL is not http(s)") from None
    except httpx.TransportError as exc:
        raise RetryableError(f"network error: {type(exc).__name__}: {exc}") from None
    if response.is_success:
        try:
            return response.json()
        except ValueError:
            raise PermanentError(
                f"platform accepted the message (HTTP {response.status_code}) "
                "but its answer is not JSON"
            ) from None
    raise failure(response, read_error(response))


def failure(response: httpx.Response, error: PlatformError) -> SendError:
    """The SendError for a refused request: retryable on 408, 429 and 5xx unless told better."""
    status = response.status_code
    text = short(f"HTTP {status}: {error.text}" if error.text else f"HTTP {status}")
    retryable = error.retryable
    if retryable is None:
        retryable = status in RETRYABLE_STATUSES or status >= 500
    if not retryable:
        return PermanentError(text)
    wait = error.retry_after if error.retry_after is not None else retry_after(response)
    return RetryableError(text, retry_after=wait)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the platform asks us to wait: Retry-After (seconds or a date) or X's reset time."""
    value = response.headers.get("Retry-After", "").strip()
    if value:
        if value.isdigit():
            return clamp(float(value))
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return clamp((when - datetime.now(UTC)).total_seconds())
    reset = response.headers.get("x-rate-limit-reset", "").strip()
    if reset.isdigit():
        return clamp(float(reset) - time.time())
    return None


def clamp(seconds: float) -> float:
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


def json_or_empty(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def body_text(response: httpx.Response) -> str:
    """A non-JSON error body, shortened: enough to recognise a proxy's error page."""
    return short(" ".join(response.text.split()))


def short(text: str, limit: int = ERROR_TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def require_id(value: Any, what: str) -> str:
    """The platform's id from a 2xx answer; a 2xx without one is reported, not retried.

    Retrying could post the reply twice: the platform did accept the request.
    """
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise PermanentError(f"platform accepted the message but its answer has no {what}")
    return str(value)


def dig(data: Any, *keys: str | int) -> Any:
    """data[k1][k2]..., or None where the shape differs."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or len(data) <= key:
                return None
        elif not isinstance(data, dict):
            return None
        data = data[key] if isinstance(key, int) else data.get(key)
    return data
