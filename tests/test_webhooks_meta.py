"""Meta webhooks: the subscription handshake, signatures, Messenger, Page feed, Instagram."""

from datetime import UTC, datetime

import pytest

from inbox.models import Delivery, Message
from tests.conftest import make_account
from tests.payloads import meta
from tests.payloads.meta import IG_ID, IGSID, PAGE_ID, POST_ID, PSID, post_meta

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand():
    return make_account("meta", slug="brand", own_ids=[PAGE_ID, IG_ID], handle="brand")


def handshake(client, slug="brand", **params):
    query = {"hub.mode": "subscribe", "hub.verify_token": "vt0ken", "hub.challenge": "1158201444"}
    query.update(params)
    return client.get(f"/webhooks/meta/{slug}/", query)


def test_handshake_with_the_verify_token_echoes_the_challenge_as_text(client, brand):
    answer = handshake(client)
    assert answer.status_code == 200
    assert answer.content == b"1158201444"
    assert answer["Content-Type"].startswith("text/plain")


def test_handshake_with_a_wrong_verify_token_is_refused(client, brand):
    assert handshake(client, **{"hub.verify_token": "guess"}).status_code == 403
    assert handshake(client, **{"hub.verify_token": ""}).status_code == 403


def test_handshake_without_subscribe_mode_is_refused(client, brand):
    assert handshake(client, **{"hub.mode": "unsubscribe"}).status_code == 403


def test_handshake_is_refused_when_the_account_has_no_verify_token(client):
    make_account("meta", slug="bare", verify_token="")
    assert handshake(client, slug="bare", **{"hub.verify_token": ""}).status_code == 403


def test_unknown_account_answers_404_to_handshake_and_post(client, brand):
    assert handshake(client, slug="nobody").status_code == 404
    other = client.post("/webhooks/meta/nobody/", b"{}", content_type="application/json")
    assert other.status_code == 404
    assert other.json() == {"error": "unknown account"}


def test_account_of_another_platform_is_unknown_on_the_meta_path(client):
    make_account("generic", slug="plain")
    assert handshake(client, slug="plain").status_code == 404


def test_signed_post_is_stored_and_processed(client, brand):
    answer = post_meta(client, brand, meta.messaging(meta.messenger_message()))
    assert answer.status_code == 200
    assert answer.json()["status"] == "stored"
    delivery = Delivery.objects.get()
    assert delivery.status == "processed"
    assert delivery.message_count == 1


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "0" * 64,
        "sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
        "sha256=",
        "garbage",
    ],
)
def test_post_with_a_wrong_signature_is_refused_and_not_stored(client, brand, signature):
    answer = post_meta(client, brand, meta.messaging(meta.messenger_message()), signature=signature)
    assert answer.status_code == 403
    assert Delivery.objects.count() == 0


def test_post_without_a_signature_is_refused(client, brand):
    answer = post_meta(client, brand, meta.messaging(meta.messenger_message()), signature="")
    assert answer.status_code == 403
    assert answer.json() == {"error": "bad or missing signature"}


def test_post_signed_with_another_secret_is_refused(client, brand):
    answer = post_meta(client, brand, meta.messaging(meta.messenger_message()), secret="other")
    assert answer.status_code == 403


def test_messenger_text_is_inbound_dm_with_the_platform_time(client, brand):
    post_meta(client, brand, meta.messaging(meta.messenger_message(text="Where is my order?")))
    message = Message.objects.select_related("contact").get()
    assert message.direction == "in"
    assert message.channel == "messenger"
    assert message.kind == "dm"
    assert message.is_public is False
    assert message.text == "Where is my order?"
    assert message.author_external_id == PSID
    assert message.contact.external_id == PSID
    assert message.contact.channel == "messenger"
    assert message.conversation_id == PSID
    assert message.created_at == datetime(2020, 3, 2, 18, 27, 46, 767000, tzinfo=UTC)
    assert message.status == "received"


def test_messenger_echo_is_outbound_to_the_customer(client, brand):
    post_meta(client, brand, meta.messaging(meta.messenger_echo(text="We're on it.")))
    message = Message.objects.select_related("contact").get()
    assert message.direction == "out"
    assert message.text == "We're on it."
    assert message.author_external_id == PAGE_ID
    assert message.contact.external_id == PSID
    assert message.conversation_id == PSID


def test_message_sent_by_the_page_without_echo_flag_is_outbound(client, brand):
    event = meta.messenger_message("m_page_1", "Hello", sender=PAGE_ID, recipient=PSID)
    post_meta(client, brand, meta.messaging(event))
    assert Message.objects.get().direction == "out"


def test_messenger_reply_keeps_the_message_it_answers(client, brand):
    event = meta.messenger_message("m_2", "Still waiting", reply_to={"mid": "m_1"})
    post_meta(client, brand, meta.messaging(event))
    assert Message.objects.get().in_reply_to == "m_1"


def test_messenger_attachment_without_text_is_kept_with_a_placeholder(client, brand):
    post_meta(client, brand, meta.messaging(meta.messenger_attachment(kind="image")))
    assert Message.objects.get().text == "[image]"


def test_postback_is_kept_with_the_title_of_the_button(client, brand):
    post_meta(client, brand, meta.messaging(meta.messenger_postback(title="Talk to an agent")))
    message = Message.objects.get()
    assert (message.direction, message.text, message.external_id) == (
        "in",
        "Talk to an agent",
        "m_postback_1",
    )


@pytest.mark.parametrize(
    "event", [meta.messenger_delivery(), meta.messenger_read(), meta.messenger_reaction()]
)
def test_delivery_read_and_reaction_events_are_acknowledged_and_ignored(client, brand, event):
    answer = post_meta(client, brand, meta.messaging(event))
    assert answer.status_code == 200
    assert Delivery.objects.get().status == "ignored"
    assert Message.objects.count() == 0


def test_instagram_direct_message_is_a_dm_on_the_instagram_channel(client, brand):
    event = meta.messenger_message("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE", "hi", sender=IGSID)
    event["recipient"]["id"] = IG_ID
    post_meta(client, brand, meta.messaging(event, obj="instagram", owner=IG_ID))
    message = Message.objects.select_related("contact").get()
    assert (message.channel, message.direction, message.kind) == ("instagram", "in", "dm")
    assert message.contact.external_id == IGSID


def test_instagram_echo_of_the_account_is_outbound(client, brand):
    event = meta.messenger_message("ig_echo", "thanks!", sender=IG_ID, recipient=IGSID)
    event["message"]["is_echo"] = True
    post_meta(client, brand, meta.messaging(event, obj="instagram", owner=IG_ID))
    message = Message.objects.select_related("contact").get()
    assert message.direction == "out"
    assert message.contact.external_id == IGSID


def test_page_comment_is_a_public_inbound_comment_on_its_post(client, brand):
    post_meta(client, brand, meta.feed_change(**meta.page_comment(message="Order 1234 is late")))
    message = Message.objects.select_related("contact").get()
    assert message.channel == "facebook"
    assert (message.direction, message.kind, message.is_public) == ("in", "comment", True)
    assert message.text == "Order 1234 is late"
    assert message.external_id == f"{POST_ID}_555555"
    assert message.in_reply_to == POST_ID
    assert message.conversation_id == POST_ID
    assert message.author_name == "Cinderella Hoover"
    assert message.contact.name == "Cinderella Hoover"
    assert message.created_at == datetime(2024, 10, 18, 15, 59, 40, tzinfo=UTC)


def test_page_reply_in_the_same_delivery_is_outbound_to_the_commenter(client, brand):
    customer = meta.page_comment("c_1", "Order 1234 is late")
    reply = meta.page_comment("c_2", "Sorry! DM us", author=(PAGE_ID, "Brand"), parent_id="c_1")
    payload = meta.feed_change(**customer)
    payload["entry"][0]["changes"].append({"field": "feed", "value": reply})
    post_meta(client, brand, payload)
    ours = Message.objects.select_related("contact").get(external_id="c_2")
    assert ours.direction == "out"
    assert ours.in_reply_to == "c_1"
    assert ours.contact.external_id == "5502894356478"


def test_page_reply_alone_is_outbound_and_left_to_threading_by_its_parent(client, brand):
    reply = meta.page_comment("c_9", "Sorry!", author=(PAGE_ID, "Brand"), parent_id="c_8")
    post_meta(client, brand, meta.feed_change(**reply))
    ours = Message.objects.select_related("contact").get()
    assert ours.direction == "out"
    assert ours.in_reply_to == "c_8"
    assert ours.contact.external_id == ""


def test_visitor_post_on_the_page_is_a_public_post(client, brand):
    post_meta(client, brand, meta.feed_change(**meta.page_post(message="Cake?")))
    message = Message.objects.get()
    assert (message.kind, message.is_public, message.text) == ("post", True, "Cake?")
    assert message.created_at == datetime(2018, 3, 8, 21, 33, 34, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        meta.page_comment(verb="edited"),
        meta.page_comment(verb="remove"),
        {"item": "reaction", "verb": "add", "reaction_type": "like", "post_id": POST_ID},
        {"item": "like", "verb": "add", "post_id": POST_ID},
        {**meta.page_post(), "from": {"id": PAGE_ID, "name": "Brand"}},
    ],
    ids=["edited", "removed", "reaction", "like", "page-own-post"],
)
def test_feed_changes_without_a_customer_message_are_ignored(client, brand, value):
    assert post_meta(client, brand, meta.feed_change(**value)).status_code == 200
    assert Delivery.objects.get().status == "ignored"
    assert Message.objects.count() == 0


def test_instagram_comment_is_public_with_the_time_of_its_entry(client, brand):
    post_meta(client, brand, meta.ig_changes({"field": "comments", "value": meta.ig_comment()}))
    message = Message.objects.select_related("contact").get()
    assert (message.channel, message.kind, message.is_public) == ("instagram", "comment", True)
    assert message.text == "This is an example."
    assert message.contact.handle == "test"
    assert message.conversation_id == "123123123"
    assert message.in_reply_to == "123123123"
    assert message.created_at == datetime(2019, 9, 23, 18, 14, 46, tzinfo=UTC)


def test_instagram_reply_by_the_account_is_outbound_to_the_commenter(client, brand):
    theirs = {"field": "comments", "value": meta.ig_comment("1", "broken zip")}
    ours = meta.ig_comment("2", "DM us", author_id=IG_ID, username="brand", parent_id="1")
    post_meta(client, brand, meta.ig_changes(theirs, {"field": "comments", "value": ours}))
    reply = Message.objects.select_related("contact").get(external_id="2")
    assert reply.direction == "out"
    assert reply.in_reply_to == "1"
    assert reply.contact.handle == "test"


def test_instagram_mention_is_kept_for_an_agent_under_its_own_id(client, brand):
    mention = {"field": "mentions", "value": {"media_id": "17918195224117851", "comment_id": "9"}}
    post_meta(client, brand, meta.ig_changes(mention))
    message = Message.objects.get()
    assert (message.external_id, message.text, message.is_public) == (
        "mention:9",
        "[mention]",
        True,
    )


def test_same_delivery_twice_is_accepted_twice_and_stored_once(client, brand):
    payload = meta.messaging(meta.messenger_message())
    assert post_meta(client, brand, payload).status_code == 200
    assert post_meta(client, brand, payload).status_code == 200
    assert Message.objects.count() == 1
    assert Delivery.objects.count() == 2


def test_unknown_object_is_acknowledged_and_ignored(client, brand):
    payload = {"object": "permissions", "entry": [{"id": "1", "time": 1, "changes": []}]}
    assert post_meta(client, brand, payload).status_code == 200
    assert Delivery.objects.get().status == "ignored"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"object": "page", "entry": [\xff]}', "not valid UTF-8"),
        (b"[]", "body is not an object"),
        (b'{"object": "page", "entry": {}}', "body.entry is not a list"),
        (b'{"entry": []}', "body.object is missing"),
        (b'{"object": "page", "entry": ["x"]}', "entry[0] is not an object"),
    ],
)
def test_unreadable_body_answers_400_and_is_kept_as_a_failed_delivery(client, brand, body, reason):
    answer = post_meta(client, brand, body)
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    delivery = Delivery.objects.get()
    assert (delivery.status, bytes(delivery.body)) == ("failed", body)
    assert Message.objects.count() == 0


def test_message_without_mid_is_refused_with_the_path_to_it(client, brand):
    event = meta.messenger_message()
    del event["message"]["mid"]
    answer = post_meta(client, brand, meta.messaging(event))
    assert answer.status_code == 400
    assert answer.json()["error"] == "entry[0].messaging[0].message.mid is missing"
    assert Delivery.objects.get().status == "failed"
