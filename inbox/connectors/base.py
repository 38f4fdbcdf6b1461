"""What every connector returns: platform payloads turned into caremgr's own words.

Past `parse()` nothing speaks a platform's vocabulary. A connector verifies a request
(`verify_handshake`, `verify_signature`) and parses a body (`parse`); it never touches the
database, so it can be tested and fuzzed on plain bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse


class PayloadError(ValueError):
    """The body cannot be read as this platform's format; the message says why."""


@dataclass(frozen=True, slots=True)
class Person:
    """A platform identity: a customer or one of the brand's own identities."""

    external_id: str
    handle: str = ""
    name: str = ""
    followers: int = 0


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """One message in caremgr's terms.

    `customer` is the person the conversation is with: the author for inbound messages,
    the addressee for outbound ones (the brand replying natively or from caremgr).
    """

    external_id: str
    channel: str
    direction: str  # "in" | "out"
    kind: str  # "post" | "comment" | "dm"
    is_public: bool
    text: str
    author: Person
    customer: Person
    created_at: datetime
    in_reply_to: str = ""
    conversation_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A platform's word on one of our outbound messages (sent, delivered, read, failed)."""

    external_id: str
    status: str
    at: datetime | None = None
    error: str = ""


@dataclass(slots=True)
class ParseResult:
    messages: list[ParsedMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    ignored: int = 0  # well-formed events that carry no customer message


class Connector:
    """Base of the per-platform connectors."""

    platform: str = ""

    def verify_handshake(self, request: HttpRequest, account: Any) -> HttpResponse:
        """Answer the platform's GET verification; by default there is none."""
        return HttpResponse(status=405)

    def verify_signature(self, account: Any, body: bytes, headers: Any) -> bool:
        raise NotImplementedError

    def parse(self, account: Any, body: bytes) -> ParseResult:
        raise NotImplementedError


def load_json(body: bytes) -> Any:
    """Decode a JSON body strictly, or raise PayloadError with a reason a sender can act on."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except PayloadError:
        raise
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise PayloadError("body is nested too deeply") from None
    except ValueError:  # an integer longer than Python converts (4300 digits)
        raise PayloadError("body is not valid JSON: a number has too many digits") from None


def _not_json(constant: str):
    # Python reads NaN and Infinity; JSON has no such values and databases refuse them.
    raise PayloadError(f"body is not valid JSON: {constant} is not a number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise PayloadError(f"body is not valid JSON: {text} is out of range")
    return number


def hmac_sha256(key: str, body: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two signature strings."""
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def from_epoch(value: Any) -> datetime:
    """Seconds or milliseconds since the epoch → aware UTC datetime."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise PayloadError(f"timestamp {value!r} is not a number") from None
    if number > 1e11:  # milliseconds
        number /= 1000.0
    try:
        return not_after_now(datetime.fromtimestamp(number, tz=UTC))
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"timestamp {value!r} is out of range") from None


def from_iso(value: Any) -> datetime:
    """ISO 8601 text → aware UTC datetime (a naive time is taken as UTC)."""
    if not isinstance(value, str):
        raise PayloadError(f"time {value!r} is not ISO 8601 text")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"time {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return not_after_now(parsed.astimezone(UTC))
    except OverflowError:  # year 1 or 9999 shifted past the calendar's end
        raise PayloadError(f"time {value!r} is out of range") from None


def not_after_now(moment: datetime) -> datetime:
    """A platform's time of a message, but never later than now.

    A message cannot have been written after we read it: a sender whose clock runs ahead
    would otherwise put the customer's question after our answer to it, so the answer
    would not count as a response, the first-response clock would run on, and the thread
    would show the question below the reply. The platform's own value stays in `raw`.
    """
    return min(moment, datetime.now(UTC))


def require(mapping: Any, key: str, where: str) -> Any:
    """mapping[key], or a PayloadError naming what is missing."""
    if not isinstance(mapping, dict):
        raise PayloadError(f"{where} is not an object")
    if key not in mapping or mapping[key] is None:
        raise PayloadError(f"{where}.{key} is missing")
    return mapping[key]


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: Any) -> str:
    """Message text as stored: a string without NUL bytes (PostgreSQL refuses them) and
    without lone surrogates (JSON may escape them, but they cannot be encoded as UTF-8)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if value.isascii() and "\x00" not in value:
        return value  # the common case, decided without the pattern
    return LONE_SURROGATE.sub("\ufffd", value.replace("\x00", "\ufffd"))


def clean_json(value: Any) -> Any:
    """A copy of decoded JSON with every string (keys too) as `clean_text` stores it.

    Iterative, so a body nested as deeply as the decoder allows is copied too.
    """
    if not isinstance(value, dict | list):
        return clean_text(value) if isinstance(value, str) else value
    if isinstance(value, dict) and all(type(child) is str for child in value.values()):
        # A flat object of strings (a CSV row of an import): one pass, no work list, and
        # usually one check of all its text at once.
        if all(type(key) is str for key in value):
            text = "".join(value) + "".join(value.values())
            if "\x00" not in text and (text.isascii() or not LONE_SURROGATE.search(text)):
                return dict(value)
        return {clean_text(key): clean_text(child) for key, child in value.items()}
    root: Any = {} if isinstance(value, dict) else []
    pending = [(value, root)]
    while pending:
        source, target = pending.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in pairs:
            if isinstance(child, dict | list):
                copy: Any = {} if isinstance(child, dict) else []
                pending.append((child, copy))
            else:
                copy = clean_text(child) if isinstance(child, str) else child
            if isinstance(target, dict):
                target[clean_text(key)] = copy
            else:
                target.append(copy)
    return root
