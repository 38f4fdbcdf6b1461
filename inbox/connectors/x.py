"""X (Twitter) Account Activity API webhooks.

Verification: the CRC check (GET `?crc_token=C` answered with
`{"response_token": "sha256=<base64 HMAC-SHA256(C, key consumer secret)>"}`) and
`x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256 of the body>` on every POST.

`tweet_create_events` become public messages (a reply is a comment, anything else a post);
`direct_message_events` of type `message_create` become DMs in the conversation of the
customer's user id. A tweet or DM by the subscribed user (`for_user_id`) or an own id is
outbound; its customer is the user it answers. The brand's own stand-alone tweets, retweets
and every other event (likes, follows, deletes, typing, read receipts) are acknowledged and
ignored. v1.1 tweets carry no conversation id: a reply's `conversation_id` stays empty and
threading follows `in_reply_to`.
"""

import base64
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from inbox.connectors.base import (
    Connector,
    ParsedMessage,
    ParseResult,
    PayloadError,
    Person,
    hmac_sha256,
    load_json,
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

IGNORED_EVENTS = (
    "favorite_events",
    "follow_events",
    "unfollow_events",
    "block_events",
    "unblock_events",
    "mute_events",
    "unmute_events",
    "user_event",
    "tweet_delete_events",
    "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
)
MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def signature(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(secret, data)).decode("ascii")


class XConnector(Connector):
    platform = "x"

    def verify_handshake(self, request: HttpRequest, account) -> HttpResponse:
        token = request.GET.get("crc_token", "")
        if not token:
            return JsonResponse({"error": "crc_token is missing"}, status=400)
        if not account.secret:
            return JsonResponse({"error": "the account has no consumer secret"}, status=403)
        return JsonResponse({"response_token": signature(account.secret, token.encode("utf-8"))})

    def verify_signature(self, account, body: bytes, headers) -> bool:
        given = headers.get("x-twitter-webhooks-signature", "")
        if not given or not account.secret:
            return False
        # base64 is case-sensitive: compare as sent.
        return same(given.strip(), signature(account.secret, body))

    def parse(self, account, body: bytes) -> ParseResult:
        data = obj(load_json(body), "body")
        for_user = optional_ident(data.get("for_user_id"), "body.for_user_id")
        own = {for_user} if for_user else set()
        result = ParseResult()
        for i, tweet in enumerate(array(data, "tweet_create_events", "body")):
            parsed = _parse_tweet(account, own, tweet, f"tweet_create_events[{i}]")
            if parsed is None:
                result.ignored += 1
            else:
                result.messages.append(parsed)
        users = optional_obj(data, "users", "body")
        for i, event in enumerate(array(data, "direct_message_events", "body")):
            parsed = _parse_dm(account, own, users, event, f"direct_message_events[{i}]")
            if parsed is None:
                result.ignored += 1
            else:
                result.messages.append(parsed)
        for key in IGNORED_EVENTS:
            events = data.get(key)
            result.ignored += len(events) if isinstance(events, list) else int(key in data)
        if not result.messages and not result.ignored:
            result.ignored = 1  # an event type this connector does not know yet
        result.messages = attach_customers(result.messages)
        return result


def tweet_time(value: Any, where: str) -> datetime:
    """`Wed Oct 10 20:19:24 +0000 2018`, read without the process locale."""
    if not isinstance(value, str):
        raise PayloadError(f"{where} is missing")
    parts = value.split()
    try:
        _weekday, month, day, clock, offset, year = parts
        hour, minute, second = (int(p) for p in clock.split(":"))
        sign = -1 if offset[0] == "-" else 1
        if offset[0] not in "+-" or len(offset) != 5:
            raise ValueError(offset)
        shift = sign * (int(offset[1:3]) * 3600 + int(offset[3:5]) * 60)
        moment = datetime(int(year), MONTHS[month], int(day), hour, minute, second, tzinfo=UTC)
        return datetime.fromtimestamp(moment.timestamp() - shift, tz=UTC)
    except (ValueError, KeyError, IndexError, OverflowError, OSError):
        raise PayloadError(f"{where} {value!r} is not an X time") from None


def _user(data: Any, where: str) -> Person:
    data = obj(data, where)
    return person(
        data.get("id_str") or data.get("id"),
        f"{where}.id_str",
        handle=data.get("screen_name", ""),
        name=data.get("name", ""),
        followers=data.get("followers_count", 0),
    )


def _is_own(account, own: set[str], external_id: str) -> bool:
    return bool(external_id) and (external_id in own or account.is_own_id(external_id))


def _tweet_text(tweet: dict, where: str) -> str:
    extended = optional_obj(tweet, "extended_tweet", where)
    if extended.get("full_text") is not None:
        body = text(extended["full_text"], f"{where}.extended_tweet.full_text")
    elif tweet.get("full_text") is not None:
        body = text(tweet["full_text"], f"{where}.full_text")
    else:
        body = text(tweet.get("text"), f"{where}.text")
    # v1.1 escapes exactly these three characters in tweet text; store what was written.
    return body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _addressee(tweet: dict, where: str) -> Person:
    """The user a tweet replies to, named as fully as the tweet itself allows."""
    user_id = optional_ident(
        tweet.get("in_reply_to_user_id_str") or tweet.get("in_reply_to_user_id"),
        f"{where}.in_reply_to_user_id_str",
        limit=PERSON_ID_LIMIT,
    )
    if not user_id:
        return UNKNOWN
    name = ""
    entities = tweet.get("entities")
    mentions = entities.get("user_mentions") if isinstance(entities, dict) else None
    for mention in mentions if isinstance(mentions, list) else ():
        if isinstance(mention, dict) and str(mention.get("id_str")) == user_id:
            name = mention.get("name", "")
    return person(user_id, where, handle=tweet.get("in_reply_to_screen_name", ""), name=name)


def _parse_tweet(account, own: set[str], tweet: Any, where: str) -> ParsedMessage | None:
    tweet = obj(tweet, where)
    if tweet.get("retweeted_status") is not None:
        return None
    author = _user(tweet.get("user"), f"{where}.user")
    in_reply_to = optional_ident(
        tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id"),
        f"{where}.in_reply_to_status_id_str",
    )
    outbound = _is_own(account, own, author.external_id)
    if outbound:
        if not in_reply_to:
            return None  # the brand's own announcement, not a conversation
        customer = _addressee(tweet, where)
        if _is_own(account, own, customer.external_id):
            customer = UNKNOWN  # a reply to its own reply: attached by the reply chain
    else:
        customer = author
    external_id = ident(tweet.get("id_str") or tweet.get("id"), f"{where}.id_str")
    if tweet.get("created_at") is not None:
        created_at = tweet_time(tweet["created_at"], f"{where}.created_at")
    else:
        created_at = timestamp(tweet.get("timestamp_ms"), f"{where}.created_at")
    return ParsedMessage(
        external_id=external_id,
        channel="x",
        direction="out" if outbound else "in",
        kind="comment" if in_reply_to else "post",
        is_public=True,
        text=_tweet_text(tweet, where),
        author=author,
        customer=customer,
        created_at=created_at,
        in_reply_to=in_reply_to,
        conversation_id="" if in_reply_to else external_id,
        raw=tweet,
    )


def _dm_person(users: dict, user_id: str, where: str) -> Person:
    described = users.get(user_id)
    if not isinstance(described, dict):
        return person(user_id, where)
    return person(
        user_id,
        where,
        handle=described.get("screen_name", ""),
        name=described.get("name", ""),
        followers=described.get("followers_count", 0),
    )


def _parse_dm(account, own: set[str], users: dict, event: Any, where: str):
    event = obj(event, where)
    if event.get("type") != "message_create":
        return None
    create = obj(event.get("message_create"), f"{where}.message_create")
    sender_id = ident(
        create.get("sender_id"), f"{where}.message_create.sender_id", limit=PERSON_ID_LIMIT
    )
    target = obj(create.get("target"), f"{where}.message_create.target")
    recipient_id = ident(
        target.get("recipient_id"),
        f"{where}.message_create.target.recipient_id",
        limit=PERSON_ID_LIMIT,
    )
    author = _dm_person(users, sender_id, f"{where}.message_create.sender_id")
    outbound = _is_own(account, own, sender_id)
    customer = (
        _dm_person(users, recipient_id, f"{where}.message_create.target") if outbound else author
    )
    data = obj(create.get("message_data"), f"{where}.message_create.message_data")
    body = text(data.get("text"), f"{where}.message_create.message_data.text")
    if not body and isinstance(data.get("attachment"), dict):
        media = data["attachment"].get("media")
        kind = label(media.get("type"), 32) if isinstance(media, dict) else ""
        body = f"[{kind or 'attachment'}]"
    return ParsedMessage(
        external_id=ident(event.get("id"), f"{where}.id"),
        channel="x",
        direction="out" if outbound else "in",
        kind="dm",
        is_public=False,
        text=body,
        author=author,
        customer=customer,
        created_at=timestamp(event.get("created_timestamp"), f"{where}.created_timestamp"),
        conversation_id=customer.external_id,
        raw=event,
    )
