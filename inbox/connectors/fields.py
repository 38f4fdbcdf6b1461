"""Reading values out of decoded platform JSON, strictly, with the path in every error.

The connectors share these so that any shape a platform (or an attacker) sends either
becomes a caremgr value or a PayloadError naming where the body went wrong.
"""

import hashlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from inbox.connectors.base import (
    ParsedMessage,
    PayloadError,
    Person,
    clean_text,
    from_epoch,
    from_iso,
)

ID_LIMIT = 191  # Message.external_id, in_reply_to, conversation_id
PERSON_ID_LIMIT = 128  # Contact.external_id, Message.author_external_id
NAME_LIMIT = 200

# Someone the payload does not name: a commenter Meta hides, the customer of a brand reply
# whose parent is not in the same delivery. Threading attaches such messages by reply chain.
UNKNOWN = Person(external_id="")


def obj(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} is not an object")
    return value


def optional_obj(mapping: dict, key: str, where: str) -> dict:
    """mapping[key] as an object, {} when absent or null."""
    value = mapping.get(key)
    if value is None:
        return {}
    return obj(value, f"{where}.{key}")


def array(mapping: dict, key: str, where: str) -> list:
    """mapping[key] as a list, [] when absent or null."""
    value = mapping.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}.{key} is not a list")
    return value


def ident(value: Any, where: str, *, limit: int = ID_LIMIT) -> str:
    """A platform id (text or whole number) as text; required.

    Ids longer than the column, or holding characters no database stores (NUL, lone
    surrogates), are replaced by a digest: they stay unique and the same id always maps to
    the same text, so replies and statuses still find their message.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        if value is None:
            raise PayloadError(f"{where} is missing")
        raise PayloadError(f"{where} must be a string or a number")
    if isinstance(value, int):
        value = str(value)
    if not value:
        raise PayloadError(f"{where} is missing")
    if len(value) > limit or clean_text(value) != value:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        return "sha256:" + digest
    return value


def optional_ident(value: Any, where: str, *, limit: int = ID_LIMIT) -> str:
    if value is None or value == "":
        return ""
    return ident(value, where, limit=limit)


def text(value: Any, where: str) -> str:
    """Message text as stored; absent is empty, anything but a string is malformed."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string")
    return clean_text(value)


def label(value: Any, limit: int = NAME_LIMIT) -> str:
    """A display name or handle: best effort, never an error (it is only shown)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    return clean_text(str(value)).strip()[:limit]


def count(value: Any) -> int:
    """A follower count: best effort, 0 when the platform does not say."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return min(value, 2_000_000_000)


def person(
    external_id: Any, where: str, *, handle: Any = "", name: Any = "", followers: Any = 0
) -> Person:
    return Person(
        external_id=ident(external_id, where, limit=PERSON_ID_LIMIT),
        handle=label(handle),
        name=label(name),
        followers=count(followers),
    )


def timestamp(value: Any, where: str) -> datetime:
    """Epoch seconds or milliseconds (number or digits), or ISO 8601 text."""
    if value is None:
        raise PayloadError(f"{where} is missing")
    if isinstance(value, str) and not value.strip().isdigit():
        try:
            return from_iso(value)
        except PayloadError as exc:
            raise PayloadError(f"{where}: {exc}") from None
    try:
        return from_epoch(value)
    except PayloadError as exc:
        raise PayloadError(f"{where}: {exc}") from None


def attach_customers(messages: list[ParsedMessage]) -> list[ParsedMessage]:
    """Give a brand reply whose customer the platform did not name the author it answers,
    when that message came in the same delivery."""
    authors = {m.external_id: m.author for m in messages if m.direction == "in"}
    return [
        replace(m, customer=authors[m.in_reply_to])
        if m.direction == "out" and not m.customer.external_id and m.in_reply_to in authors
        else m
        for m in messages
    ]
