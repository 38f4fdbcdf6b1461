"""A local stand-in for the Meta Graph, X v2, Telegram Bot and generic APIs, over real HTTP.

It checks what the real APIs check (path shape, the token, required JSON fields), answers
with each platform's own success and error shapes, records every request, and can be told
to fail or hang the next requests. The `fake_platform` fixture starts one per test and
points settings.CAREMGR_API_BASE at it; `make_outbound` creates queued replies. A test module
loads both with

    pytest_plugins = ["tests.fake_platform"]

and reads the credentials the fake accepts from the fixture (`fake_platform.META_TOKEN`).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

META_TOKEN = "EAAfake-meta-page-token-0123456789"
X_TOKEN = "x-fake-user-context-token-0123456789"
TELEGRAM_TOKEN = "123456789:AAFakeBotTokenForTests_0123456789ab"
GENERIC_SECRET = "generic-outbound-secret"

META_PATH = re.compile(
    r"^/v\d+\.\d+/(?P<node>[\w.:-]+)/(?P<edge>messages|comments|replies|mentions)$"
)
X_TWEETS = re.compile(r"^/2/tweets$")
X_DM = re.compile(r"^/2/dm_conversations/with/(?P<participant>[^/]+)/messages$")
TELEGRAM_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")
GENERIC_PATH = re.compile(r"^/generic/messages$")


@dataclass
class Recorded:
    """One request as the fake saw it, and the status it answered."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any
    status: int = 0


@dataclass
class Fault:
    status: int = 500
    retry_after: int | None = None
    error: str | None = None
    code: int | None = None
    hang: float | None = None


class ApiError(Exception):
    """An answer other than success: status, the platform-shaped body, extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class FakePlatform:
    META_TOKEN = META_TOKEN
    X_TOKEN = X_TOKEN
    TELEGRAM_TOKEN = TELEGRAM_TOKEN
    GENERIC_SECRET = GENERIC_SECRET

    def __init__(self) -> None:
        self.tokens = {META_TOKEN, X_TOKEN, TELEGRAM_TOKEN}
        self.generic_secret = GENERIC_SECRET
        self.requests: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1001)
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def api_bases(self) -> dict[str, str]:
        """CAREMGR_API_BASE pointing every platform at this fake."""
        return {
            "meta": f"{self.url}/v21.0",
            "x": f"{self.url}/2",
            "telegram": self.url,
            "generic": f"{self.url}/generic",
        }

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        *,
        retry_after: int | None = None,
        error: str | None = None,
        code: int | None = None,
    ) -> None:
        """Answer the next `count` requests with `status` in the platform's error shape."""
        with self._lock:
            for _ in range(count):
                self._faults.append(Fault(status, retry_after, error, code))

    def hang_next(self, count: int = 1, seconds: float = 2.0) -> None:
        """Hold the next `count` requests for `seconds` before answering them normally."""
        with self._lock:
            for _ in range(count):
                self._faults.append(Fault(hang=seconds))

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def start(self) -> FakePlatform:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one interval
            name="fake-platform",
            daemon=True,
        ).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- serving -------------------------------------------------------------------------

    def handle(self, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append(record)
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.hang is not None:
            self._stop.wait(fault.hang)
            fault = None
        try:
            if fault is not None:
                raise self._fault_error(record.path, fault)
            status, body = self._route(record)
            return status, body, {}
        except ApiError as exc:
            return exc.status, exc.body, exc.headers

    def _route(self, r: Recorded) -> tuple[int, Any]:
        if match := META_PATH.match(r.path):
            self._check_bearer(r, "meta")
            return 200, _meta(match["node"], match["edge"], _json_object(r, "meta"), self._id())
        if X_TWEETS.match(r.path):
            self._check_bearer(r, "x")
            return 201, _x_tweet(_json_object(r, "x"), self._id())
        if match := X_DM.match(r.path):
            self._check_bearer(r, "x")
            return 201, _x_dm(match["participant"], _json_object(r, "x"), self._id())
        if match := TELEGRAM_PATH.match(r.path):
            if match["token"] not in self.tokens:
                raise ApiError(401, _telegram_error(401, "Unauthorized"))
            if match["method"] != "sendMessage":
                raise ApiError(404, _telegram_error(404, "Not Found: method not found"))
            return 200, _telegram_send(_json_object(r, "telegram"), self._id())
        if GENERIC_PATH.match(r.path):
            expected = (
                "sha256="
                + hmac.new(self.generic_secret.encode(), r.body, hashlib.sha256).hexdigest()
            )
            if not hmac.compare_digest(r.headers.get("x-caremgr-signature", ""), expected):
                raise ApiError(403, {"error": "bad signature"})
            return 200, _generic(_json_object(r, "generic"), self._id())
        raise ApiError(404, {"error": f"no such endpoint: {r.method} {r.path}"})

    def _check_bearer(self, r: Recorded, platform: str) -> None:
        scheme, _, token = r.headers.get("authorization", "").partition(" ")
        if scheme == "Bearer" and token in self.tokens:
            return
        if platform == "meta":
            raise ApiError(
                400, _meta_error("Invalid OAuth access token - Cannot parse access token", 190)
            )
        raise ApiError(401, _x_problem(401, "Unauthorized", "Unauthorized"))

    def _fault_error(self, path: str, fault: Fault) -> ApiError:
        status, wait = fault.status, fault.retry_after
        headers = {"Retry-After": str(wait)} if wait is not None else {}
        if path.startswith("/bot"):
            body = _telegram_error(status, fault.error or _reason(status))
            if wait is not None:
                body["parameters"] = {"retry_after": wait}
            return ApiError(status, body)  # Telegram says when in the body only
        if path.startswith("/2/"):
            if wait is not None:
                headers = {"x-rate-limit-reset": str(int(time.time()) + wait)}
            return ApiError(status, _x_problem(status, _reason(status), fault.error), headers)
        if path.startswith("/generic/"):
            return ApiError(status, {"error": fault.error or _reason(status)}, headers)
        code = fault.code if fault.code is not None else (2 if status >= 500 else 100)
        return ApiError(status, _meta_error(fault.error or _reason(status), code), headers)

    def _id(self) -> int:
        return next(self._ids)


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakePlatform/1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        record = Recorded(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=decoded,
        )
        status, answer, headers = self.server.fake.handle(record)  # type: ignore[attr-defined]
        record.status = status
        payload = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines would carry the Telegram token into the test output."""


# -- per-platform checks and answers --------------------------------------------------------


def _json_object(r: Recorded, platform: str) -> dict:
    if not r.headers.get("content-type", "").startswith("application/json") or not isinstance(
        r.json, dict
    ):
        raise _invalid(platform, "the body must be a JSON object")
    return r.json


def _invalid(platform: str, message: str) -> ApiError:
    if platform == "meta":
        return ApiError(400, _meta_error(f"(#100) {message}", 100))
    if platform == "x":
        body = _x_problem(
            400, "Invalid Request", "One or more parameters to your request was invalid."
        )
        body["type"] = "https://api.twitter.com/2/problems/invalid-request"
        body["errors"] = [{"message": message}]
        return ApiError(400, body)
    if platform == "telegram":
        return ApiError(400, _telegram_error(400, f"Bad Request: {message}"))
    return ApiError(400, {"error": message})


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _meta(node: str, edge: str, body: dict, n: int) -> dict:
    if edge == "messages" and node == "me":
        if not _text((body.get("recipient") or {}).get("id")):
            raise _invalid("meta", "param recipient must be non-empty.")
        if body.get("messaging_type") not in {"RESPONSE", "UPDATE", "MESSAGE_TAG"}:
            raise _invalid("meta", "param messaging_type must be one of {RESPONSE, UPDATE, ...}")
        if not _text((body.get("message") or {}).get("text")):
            raise _invalid("meta", "param message must be non-empty.")
        return {"recipient_id": body["recipient"]["id"], "message_id": f"m_fake{n}"}
    if edge == "messages":  # WhatsApp Cloud API: /{phone_number_id}/messages
        if body.get("messaging_product") != "whatsapp":
            raise _invalid("meta", "The parameter messaging_product is required.")
        if body.get("recipient_type", "individual") != "individual":
            raise _invalid("meta", "Invalid parameter recipient_type")
        if not _text(body.get("to")) or body.get("type") != "text":
            raise _invalid("meta", "Invalid parameter: to and type=text are required")
        if not _text((body.get("text") or {}).get("body")):
            raise _invalid("meta", "Invalid parameter: text.body is required")
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": f"wamid.FAKE{n}"}],
        }
    if node == "me":
        raise _invalid("meta", f"Unsupported post request: /me/{edge}")
    if edge == "mentions" and not _text(body.get("media_id")):
        raise _invalid("meta", "The parameter media_id is required.")
    if not _text(body.get("message")):
        raise _invalid("meta", "The parameter message is required.")
    if edge == "comments" and "_" in node:
        return {"id": f"{node.split('_')[0]}_{n}"}
    return {"id": f"1790000000{n}"}


def _meta_error(message: str, code: int) -> dict:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AFake"}
    if code in (1, 2):
        error["is_transient"] = True
    return {"error": error}


def _x_tweet(body: dict, n: int) -> dict:
    if not _text(body.get("text")):
        raise _invalid("x", "text must be a non-empty string")
    if "reply" in body:
        target = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not isinstance(target, str) or not target.isdigit():
            raise _invalid("x", "reply.in_reply_to_tweet_id must be a numeric string")
    tweet_id = f"18600000000{n}"
    return {"data": {"id": tweet_id, "text": body["text"], "edit_history_tweet_ids": [tweet_id]}}


def _x_dm(participant: str, body: dict, n: int) -> dict:
    if not participant.isdigit():
        raise _invalid("x", f"participant_id {participant!r} is not a user id")
    if not _text(body.get("text")):
        raise _invalid("x", "text must be a non-empty string")
    return {"data": {"dm_conversation_id": f"1000-{participant}", "dm_event_id": f"17{n}"}}


def _x_problem(status: int, title: str, detail: str | None) -> dict:
    return {"title": title, "detail": detail or title, "type": "about:blank", "status": status}


def _telegram_send(body: dict, n: int) -> dict:
    chat_id = body.get("chat_id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int | str) or chat_id == "":
        raise _invalid("telegram", "chat_id is empty")
    if not _text(body.get("text")):
        raise _invalid("telegram", "message text is empty")
    reply = body.get("reply_parameters")
    if reply is not None and (
        not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int)
    ):
        raise _invalid("telegram", "can't parse reply parameters JSON object")
    return {
        "ok": True,
        "result": {
            "message_id": n,
            "from": {"id": 123456789, "is_bot": True, "first_name": "Care", "username": "carebot"},
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": body["text"],
        },
    }


def _telegram_error(status: int, description: str) -> dict:
    return {"ok": False, "error_code": status, "description": description}


def _generic(body: dict, n: int) -> dict:
    if not _text(body.get("text")):
        raise _invalid("generic", "text is required")
    if not _text((body.get("recipient") or {}).get("id")):
        raise _invalid("generic", "recipient.id is required")
    return {"external_id": f"gen-{n}"}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


@pytest.fixture
def fake_platform(settings):
    """A running FakePlatform with every platform's API base pointed at it."""
    fake = FakePlatform().start()
    settings.CAREMGR_API_BASE = {**settings.CAREMGR_API_BASE, **fake.api_bases()}
    yield fake
    fake.stop()


@pytest.fixture
def quick_timeouts(monkeypatch):
    """The outbox's HTTP client gives up after half a second (timeout tests)."""
    import httpx

    from inbox.outbound import outbox

    client = httpx.Client(timeout=httpx.Timeout(0.5))
    monkeypatch.setattr(outbox, "_client", client)
    yield
    client.close()


@pytest.fixture
def make_outbound(db):
    """`make_outbound(account, channel=..., customer=..., **fields)`: a queued reply to the
    customer with that platform id."""
    from django.utils import timezone

    from inbox.models import Contact, Message

    def make(account, *, channel: str, customer: str, handle: str = "", **fields: Any) -> Message:
        contact, _ = Contact.objects.get_or_create(
            channel=channel, external_id=customer, defaults={"handle": handle}
        )
        fields = {"text": "Sorry about that, a refund is on its way.", **fields}
        fields = {"direction": "out", "status": "queued", "kind": "dm", **fields}
        fields.setdefault("created_at", timezone.now())
        return Message.objects.create(account=account, contact=contact, channel=channel, **fields)

    return make
