"""Every connector reads any body into a ParseResult or refuses it with PayloadError.

Nothing else may escape `parse()`: an uncaught exception would answer 500 and lose the
body. Bodies are arbitrary bytes, arbitrary JSON, and documented payloads with one part
replaced by arbitrary JSON (which reaches the deep paths random JSON never finds). What a
connector returns must also be storable: ids fit their columns, no NUL, aware times.
"""

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.connectors import get_connector
from inbox.connectors.base import ParsedMessage, ParseResult, PayloadError, StatusUpdate
from inbox.models import Account
from tests.conftest import generic_message
from tests.payloads import meta, telegram, x

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = [
    # keys and values the connectors branch on
    *("object", "entry", "messaging", "standby", "changes", "field", "value", "message"),
    *("mid", "text", "sender", "recipient", "id", "timestamp", "is_echo", "reply_to"),
    *("attachments", "type", "postback", "title", "item", "verb", "from", "post_id"),
    *("comment_id", "parent_id", "created_time", "media", "media_id", "time", "contacts"),
    *("messages", "statuses", "status", "errors", "message_echoes", "context", "to"),
    *("page", "instagram", "whatsapp_business_account", "feed", "comments", "mentions"),
    *("comment", "post", "add", "remove", "image", "interactive", "button_reply", "failed"),
    *("for_user_id", "tweet_create_events", "direct_message_events", "users", "user"),
    *("id_str", "in_reply_to_status_id_str", "in_reply_to_user_id_str", "created_at"),
    *("extended_tweet", "full_text", "retweeted_status", "message_create", "sender_id"),
    *("target", "recipient_id", "message_data", "created_timestamp", "update_id"),
    *("message_id", "chat", "date", "caption", "photo", "sticker", "reply_to_message"),
    *("sender_chat", "private", "supergroup", "external_id", "author", "direction", "out"),
    *("Wed Oct 10 20:19:24 +0000 2018", "2026-11-20T10:00:00Z", "1706200013", "\x00", "\udc80"),
    # the edges of the calendar and of floats
    *("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "Fri Dec 31 23:59:59 -0100 9999"),
]
EDGES = [10**400, -(10**400), 10**20, 1e308, -1e308, 2**63, -1, 0, 1.5]

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(WORDS)
    | st.sampled_from(EDGES)
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(WORDS) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)

DOCUMENTED = {
    "meta": [
        meta.messaging(meta.messenger_message()),
        meta.messaging(meta.messenger_echo()),
        meta.messaging(meta.messenger_postback()),
        meta.feed_change(**meta.page_comment()),
        meta.feed_change(**meta.page_post()),
        meta.ig_changes({"field": "comments", "value": meta.ig_comment(parent_id="1")}),
        meta.ig_changes({"field": "mentions", "value": {"media_id": "1", "comment_id": "2"}}),
        meta.whatsapp(contacts=meta.wa_contacts(), messages=[meta.wa_text()]),
        meta.whatsapp(statuses=[meta.wa_status("wamid.1", "failed", errors=[{"code": 1}])]),
    ],
    "x": [
        x.tweet_events(x.tweet()),
        x.tweet_events(x.tweet(author=x.brand_user(), in_reply_to=("1", x.CUSTOMER_ID, "c"))),
        x.dm_events(x.dm_event()),
        x.dm_events(x.dm_event(sender=x.BRAND_ID, recipient=x.CUSTOMER_ID)),
        *x.other_events().values(),
    ],
    "telegram": [
        telegram.update(message=telegram.message()),
        telegram.update(message=telegram.message(reply_to_message=telegram.reply_to())),
        telegram.update(message=telegram.message(sender=telegram.BOT, chat=telegram.GROUP_CHAT)),
        *telegram.ignored_updates().values(),
    ],
    "generic": [
        generic_message(),
        [generic_message("a"), generic_message("b", direction="out", recipient={"id": "u"})],
    ],
}


def account_for(platform: str) -> Account:
    """An unsaved account: parse() never touches the database."""
    own = {"meta": [meta.PAGE_ID], "x": [x.BRAND_ID], "telegram": [telegram.BOT_ID]}
    return Account(platform=platform, slug=platform, secret="s", own_ids=own.get(platform, []))


@st.composite
def mutated(draw, platform: str):
    """A documented payload with one value, anywhere in it, replaced by arbitrary JSON."""
    payload = json.loads(json.dumps(draw(st.sampled_from(DOCUMENTED[platform]))))
    node = payload
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return payload
        key = draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and draw(st.booleans()):
            node = child
            continue
        node[key] = draw(json_values)
        return payload


def assert_storable(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    assert isinstance(result.ignored, int)
    for message in result.messages:
        assert isinstance(message, ParsedMessage)
        assert message.direction in ("in", "out")
        assert message.kind in ("post", "comment", "dm")
        assert isinstance(message.is_public, bool)
        assert isinstance(message.created_at, datetime)
        assert message.created_at.tzinfo is not None
        assert 0 < len(message.external_id) <= 191
        for value in (message.in_reply_to, message.conversation_id):
            assert isinstance(value, str)
            assert len(value) <= 191
        for person in (message.author, message.customer):
            assert len(person.external_id) <= 128
            assert len(person.handle) <= 200
            assert len(person.name) <= 200
            assert 0 <= person.followers <= 2_000_000_000
        for value in (
            message.text,
            message.external_id,
            message.author.name,
            message.author.handle,
            message.customer.external_id,
        ):
            assert "\x00" not in value
            value.encode("utf-8")  # no lone surrogates
    for update in result.statuses:
        assert isinstance(update, StatusUpdate)
        assert update.status in ("sent", "delivered", "read", "failed")


def parses_or_refuses(platform: str, body: bytes) -> None:
    try:
        result = get_connector(platform).parse(account_for(platform), body)
    except PayloadError as exc:
        assert str(exc)
        return
    assert_storable(result)


PLATFORMS = ["meta", "x", "telegram", "generic"]


@pytest.mark.parametrize("platform", PLATFORMS)
@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes_parse_or_are_refused(platform, body):
    parses_or_refuses(platform, body)


@pytest.mark.parametrize("platform", PLATFORMS)
@FUZZ
@given(value=json_values)
def test_any_json_parses_or_is_refused(platform, value):
    parses_or_refuses(platform, json.dumps(value).encode())


@pytest.mark.parametrize("platform", PLATFORMS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_documented_payload_with_any_part_replaced_parses_or_is_refused(platform, data):
    payload = data.draw(mutated(platform))
    parses_or_refuses(platform, json.dumps(payload).encode())


@pytest.mark.parametrize("platform", PLATFORMS)
def test_documented_payloads_parse(platform):
    for payload in DOCUMENTED[platform]:
        assert_storable(
            get_connector(platform).parse(account_for(platform), json.dumps(payload).encode())
        )


NASTY = [
    *(None, True, False, 0, -1, 1.5, 10**20, 10**400, -(10**400), 1e308, float("inf")),
    *(float("nan"), "", "x", "\x00", "\udc80", "a" * 300, "99999999999999999999"),
    *("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "Fri Dec 31 23:59:59 -0100 9999"),
    *([], {}, [None], {"id": None}, [[]], {"": {}}),
]


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict | list):
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from paths(child, (*prefix, key))


def replaced(payload, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(payload))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_part_of_documented_payloads_replaced_by_edge_values_parses_or_is_refused(
    platform,
):
    for payload in DOCUMENTED[platform]:
        for path in paths(payload):
            for value in NASTY:
                parses_or_refuses(platform, json.dumps(replaced(payload, path, value)).encode())
