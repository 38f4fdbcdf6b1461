"""Meta Graph API webhooks: Facebook Page feed, Messenger, Instagram, WhatsApp Cloud API.

One endpoint receives every `object` Meta sends for an app. Verification: the GET
subscription handshake (`hub.verify_token` against the account's verify token) and
`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, key the app secret>`.

Choices where the documentation leaves room:

- Messenger and Instagram DMs: an echo (`is_echo`, or sent by the page / an own id) is
  outbound to the recipient. Events without a `message` (delivery, read, reaction, referral,
  opt-in) are acknowledged and ignored; a `postback` (a button the customer tapped) is kept
  as an inbound message with the button's title as text when it carries a `mid`.
- Page feed: visitor posts and comments are public; edits, removals, reactions and likes
  are ignored, and so are the page's own posts (announcements, not conversations). A comment
  by the page is outbound; its customer is the author of the comment it answers when that
  comment came in the same delivery, otherwise unnamed (threading follows `in_reply_to`).
- Instagram `mentions` carry only ids: kept as an inbound public message `[mention]`
  under the id `mention:<comment or media id>`, so the comment itself, should it also
  arrive through `comments`, is not mistaken for a duplicate.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from inbox.connectors.base import (
    Connector,
    ParsedMessage,
    ParseResult,
    PayloadError,
    Person,
    hmac_sha256,
    load_json,
    require,
    same,
)
from inbox.connectors.fields import (
    PERSON_ID_LIMIT,
    UNKNOWN,
    array,
    attach_customers,
    ident,
    label,
    obj,
    optional_ident,
    optional_obj,
    person,
    text,
    timestamp,
)
from inbox.connectors.meta_whatsapp import parse_whatsapp_entry

MESSAGING_CHANNELS = {"page": "messenger", "instagram": "instagram"}
POST_ITEMS = {"post", "status", "photo", "video"}


class MetaConnector(Connector):
    platform = "meta"

    def verify_handshake(self, request: HttpRequest, account) -> HttpResponse:
        mode = request.GET.get("hub.mode", "")
        token = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        if (
            mode == "subscribe"
            and account.verify_token
            and token
            and same(token, account.verify_token)
        ):
            return HttpResponse(challenge, content_type="text/plain; charset=utf-8")
        return HttpResponseForbidden("verification failed", content_type="text/plain")

    def verify_signature(self, account, body: bytes, headers) -> bool:
        given = headers.get("X-Hub-Signature-256", "")
        if not given or not account.secret:
            return False
        expected = "sha256=" + hmac_sha256(account.secret, body).hex()
        return same(given.strip().lower(), expected)

    def parse(self, account, body: bytes) -> ParseResult:
        data = obj(load_json(body), "body")
        kind = data.get("object")
        if not isinstance(kind, str) or not kind:
            raise PayloadError("body.object is missing")
        entries = require(data, "entry", "body")
        if not isinstance(entries, list):
            raise PayloadError("body.entry is not a list")
        result = ParseResult()
        for i, entry in enumerate(entries):
            where = f"entry[{i}]"
            entry = obj(entry, where)
            if kind in MESSAGING_CHANNELS:
                _parse_social_entry(account, kind, entry, where, result)
            elif kind == "whatsapp_business_account":
                parse_whatsapp_entry(account, entry, where, result)
            else:
                result.ignored += 1
        result.messages = attach_customers(result.messages)
        return result


def _parse_social_entry(account, kind: str, entry: dict, where: str, result: ParseResult):
    owner = optional_ident(entry.get("id"), f"{where}.id", limit=PERSON_ID_LIMIT)
    channel = MESSAGING_CHANNELS[kind]
    # `standby` carries the same events while another app of the page has the thread.
    for key in ("messaging", "standby"):
        for j, event in enumerate(array(entry, key, where)):
            _parse_messaging(account, owner, channel, event, f"{where}.{key}[{j}]", result)
    for j, change in enumerate(array(entry, "changes", where)):
        change_where = f"{where}.changes[{j}]"
        change = obj(change, change_where)
        field = change.get("field")
        value = change.get("value")
        if kind == "page" and field == "feed":
            parsed = _parse_feed(account, owner, obj(value, f"{change_where}.value"), change_where)
        elif kind == "instagram" and field in ("comments", "live_comments"):
            parsed = _parse_ig_comment(account, owner, entry, value, where, change_where)
        elif kind == "instagram" and field == "mentions":
            parsed = _parse_ig_mention(entry, value, where, change_where)
        else:
            parsed = None
        if parsed is None:
            result.ignored += 1
        else:
            result.messages.append(parsed)


def _is_own(account, owner: str, external_id: str) -> bool:
    return bool(external_id) and (external_id == owner or account.is_own_id(external_id))


def _attachment_text(message: dict, where: str) -> str:
    """`[image]`, `[video]`, ... for a message without text."""
    for k, attachment in enumerate(array(message, "attachments", where)):
        attachment = obj(attachment, f"{where}.attachments[{k}]")
        kind = label(attachment.get("type"), 32)
        if kind:
            return f"[{kind}]"
    if message.get("is_unsupported") is True:
        return "[unsupported]"
    return ""


def _parse_messaging(account, owner: str, channel: str, event: Any, where: str, result):
    event = obj(event, where)
    message = event.get("message")
    if message is None:
        postback = event.get("postback")
        if isinstance(postback, dict) and postback.get("mid") and postback.get("title"):
            message = {"mid": postback["mid"], "text": postback["title"]}
            where_message = f"{where}.postback"
        else:
            result.ignored += 1
            return
    else:
        where_message = f"{where}.message"
    message = obj(message, where_message)
    if message.get("is_deleted") is True:
        result.ignored += 1
        return
    mid = ident(message.get("mid"), f"{where_message}.mid")
    sender = obj(require(event, "sender", where), f"{where}.sender")
    recipient = obj(require(event, "recipient", where), f"{where}.recipient")
    author = person(sender.get("id"), f"{where}.sender.id")
    addressee = person(recipient.get("id"), f"{where}.recipient.id")
    outbound = message.get("is_echo") is True or _is_own(account, owner, author.external_id)
    customer = addressee if outbound else author
    body = text(message.get("text"), f"{where_message}.text")
    reply_to = optional_obj(message, "reply_to", where_message)
    story = optional_obj(reply_to, "story", f"{where_message}.reply_to")
    in_reply_to = optional_ident(
        reply_to.get("mid") or story.get("id"), f"{where_message}.reply_to.mid"
    )
    result.messages.append(
        ParsedMessage(
            external_id=mid,
            channel=channel,
            direction="out" if outbound else "in",
            kind="dm",
            is_public=False,
            text=body or _attachment_text(message, where_message),
            author=author,
            customer=customer,
            created_at=timestamp(event.get("timestamp"), f"{where}.timestamp"),
            in_reply_to=in_reply_to,
            conversation_id=customer.external_id,
            raw=event,
        )
    )


def _from(value: dict, where: str) -> Person:
    """The author Meta names in `from` ({id, name} or {id, username}); hidden ones are unknown."""
    author = value.get("from")
    if author is None:
        return UNKNOWN
    author = obj(author, f"{where}.from")
    return person(
        author.get("id"),
        f"{where}.from.id",
        handle=author.get("username", ""),
        name=author.get("name", ""),
    )


def _parse_feed(account, owner: str, value: dict, where: str) -> ParsedMessage | None:
    where = f"{where}.value"
    item, verb = value.get("item"), value.get("verb")
    if verb != "add" or not isinstance(item, str) or (item != "comment" and item not in POST_ITEMS):
        return None
    author = _from(value, where)
    outbound = _is_own(account, owner, author.external_id)
    post_id = ident(value.get("post_id"), f"{where}.post_id")
    if item == "comment":
        external_id = ident(value.get("comment_id"), f"{where}.comment_id")
        in_reply_to = optional_ident(value.get("parent_id"), f"{where}.parent_id") or post_id
        kind = "comment"
    elif outbound:
        return None
    else:
        external_id, in_reply_to, kind = post_id, "", "post"
    body = text(value.get("message"), f"{where}.message")
    if not body:
        body = "[photo]" if value.get("photo") else "[video]" if value.get("video") else ""
    return ParsedMessage(
        external_id=external_id,
        channel="facebook",
        direction="out" if outbound else "in",
        kind=kind,
        is_public=True,
        text=body,
        author=author,
        customer=UNKNOWN if outbound else author,
        created_at=timestamp(value.get("created_time"), f"{where}.created_time"),
        in_reply_to=in_reply_to,
        conversation_id=post_id,
        raw=value,
    )


def _parse_ig_comment(
    account, owner: str, entry: dict, value: Any, entry_where: str, where: str
) -> ParsedMessage:
    where = f"{where}.value"
    value = obj(value, where)
    author = _from(value, where)
    outbound = _is_own(account, owner, author.external_id)
    media = optional_obj(value, "media", where)
    media_id = optional_ident(media.get("id"), f"{where}.media.id")
    parent_id = optional_ident(value.get("parent_id"), f"{where}.parent_id")
    return ParsedMessage(
        external_id=ident(value.get("id"), f"{where}.id"),
        channel="instagram",
        direction="out" if outbound else "in",
        kind="comment",
        is_public=True,
        text=text(value.get("text"), f"{where}.text"),
        author=author,
        customer=UNKNOWN if outbound else author,
        # Comment notifications carry no time of their own; the entry's is when it happened.
        created_at=timestamp(entry.get("time"), f"{entry_where}.time"),
        in_reply_to=parent_id or media_id,
        conversation_id=media_id,
        raw=value,
    )


def _parse_ig_mention(entry: dict, value: Any, entry_where: str, where: str) -> ParsedMessage:
    where = f"{where}.value"
    value = obj(value, where)
    media_id = ident(value.get("media_id"), f"{where}.media_id")
    comment_id = optional_ident(value.get("comment_id"), f"{where}.comment_id")
    return ParsedMessage(
        external_id=ident(f"mention:{comment_id or media_id}", f"{where}.comment_id"),
        channel="instagram",
        direction="in",
        kind="comment" if comment_id else "post",
        is_public=True,
        text="[mention]",
        author=UNKNOWN,
        customer=UNKNOWN,
        created_at=timestamp(entry.get("time"), f"{entry_where}.time"),
        conversation_id=media_id,
        raw=value,
    )
