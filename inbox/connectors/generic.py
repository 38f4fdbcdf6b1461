"""caremgr's own JSON format, for any source that can sign a POST.

One object or a list of `{external_id, author: {id, handle, name, followers}, text,
created_at, in_reply_to, conversation_id, public, direction}`; signed with
`X-Caremgr-Signature: sha256=<hex HMAC-SHA256 of the body>`.
"""

from typing import Any

from inbox.connectors.base import (
    Connector,
    ParsedMessage,
    ParseResult,
    PayloadError,
    Person,
    clean_text,
    from_iso,
    hmac_sha256,
    load_json,
    require,
    same,
)

MAX_ITEMS = 1000


def _str(value: Any, where: str, *, required: bool = False) -> str:
    if value is None or value == "":
        if required:
            raise PayloadError(f"{where} is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{where} must be a string")
    return clean_text(str(value))[:191]


def _followers(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PayloadError(f"{where} must be a whole number ≥ 0")
    return min(value, 2_000_000_000)


def parse_person(data: Any, where: str) -> Person:
    if not isinstance(data, dict):
        raise PayloadError(f"{where} is not an object")
    return Person(
        external_id=_str(data.get("id"), f"{where}.id", required=True)[:128],
        handle=_str(data.get("handle"), f"{where}.handle")[:200],
        name=clean_text(data.get("name"))[:200],
        followers=_followers(data.get("followers"), f"{where}.followers"),
    )


def parse_item(item: Any, where: str) -> ParsedMessage:
    if not isinstance(item, dict):
        raise PayloadError(f"{where} is not an object")
    direction = item.get("direction", "in")
    if direction not in ("in", "out"):
        raise PayloadError(f"{where}.direction must be 'in' or 'out'")
    author = parse_person(require(item, "author", where), f"{where}.author")
    customer = author
    if direction == "out":
        recipient = item.get("recipient")
        customer = parse_person(recipient, f"{where}.recipient") if recipient else author
    text = item.get("text")
    if not isinstance(text, str):
        raise PayloadError(f"{where}.text must be a string")
    is_public = item.get("public", False)
    if not isinstance(is_public, bool):
        raise PayloadError(f"{where}.public must be true or false")
    in_reply_to = _str(item.get("in_reply_to"), f"{where}.in_reply_to")
    return ParsedMessage(
        external_id=_str(item.get("external_id"), f"{where}.external_id", required=True),
        channel="generic",
        direction=direction,
        kind=("comment" if in_reply_to else "post") if is_public else "dm",
        is_public=is_public,
        text=clean_text(text),
        author=author,
        customer=customer,
        created_at=from_iso(require(item, "created_at", where)),
        in_reply_to=in_reply_to,
        conversation_id=_str(item.get("conversation_id"), f"{where}.conversation_id"),
        raw=item,
    )


class GenericConnector(Connector):
    platform = "generic"

    def verify_signature(self, account, body: bytes, headers) -> bool:
        given = headers.get("X-Caremgr-Signature", "")
        expected = "sha256=" + hmac_sha256(account.secret, body).hex()
        return bool(given) and same(given.strip().lower(), expected)

    def parse(self, account, body: bytes) -> ParseResult:
        data = load_json(body)
        items = data if isinstance(data, list) else [data]
        if not items:
            raise PayloadError("body is an empty list")
        if len(items) > MAX_ITEMS:
            raise PayloadError(f"at most {MAX_ITEMS} messages per delivery")
        return ParseResult(messages=[parse_item(item, f"[{i}]") for i, item in enumerate(items)])
