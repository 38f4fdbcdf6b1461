"""Webhook POSTs answered straight from ASGI, beside Django's request cycle.

Django serves an ASGI request through its middleware and request signals, each sync step
a hop between the event loop and a thread: about thirty hops and several milliseconds of
CPU for a request that needs one INSERT and one queue push. Platforms send deliveries in
bursts and retry what is answered slowly, so POST /webhooks/<platform>/<slug>/ takes a
short way here: the body is read in the event loop, and `inbox.webhooks.accept_delivery`
(the same function the Django view answers with) runs in one worker thread. Everything
else, the GET handshakes included, goes to Django unchanged.
"""

import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection
from django.http import HttpResponse, JsonResponse
from django.http.request import split_domain_port, validate_host
from django.utils.datastructures import CaseInsensitiveMapping

from inbox.webhooks import accept_delivery

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# The URL pattern of inbox/urls.py: `<str:platform>` and `<slug:slug>`.
WEBHOOK_PATH = re.compile(r"/webhooks/(?P<platform>[^/]+)/(?P<slug>[-a-zA-Z0-9_]+)/")


def _answer(platform: str, slug: str, body: bytes | None, headers, content_type: str):
    """Runs in a worker thread, as a Django request would; the connection checked after."""
    try:
        return accept_delivery(platform, slug, body, headers, content_type)
    except Exception:
        log.exception("webhook %s/%s failed", platform, slug)
        return JsonResponse({"error": "internal error"}, status=500)
    finally:
        _recycle_connection()


def _recycle_connection() -> None:
    """What Django does after each request, without its per-request health check.

    Django checks connections at the end of every request, and the next request then
    pings the database before its first query: a round trip per delivery. Here a
    connection is only looked at when it saw an error or outlived CONN_MAX_AGE.
    """
    if connection.connection is None:
        return
    expired = connection.close_at is not None and time.monotonic() >= connection.close_at
    if connection.errors_occurred or expired:
        close_old_connections()


# On PostgreSQL requests of one process use several threads (and connections), so one
# delivery waiting on the database does not hold up the next. SQLite has one writer at a
# time: threads would only queue on its lock, whose busy handler sleeps in steps of up to
# 100 ms, so there every request takes the one thread Django's sync views share.
_answer_in_threads = sync_to_async(_answer, thread_sensitive=False)
_answer_in_one_thread = sync_to_async(_answer, thread_sensitive=True)


def _answer_in_thread(*args):
    if connection.vendor == "sqlite":
        return _answer_in_one_thread(*args)
    return _answer_in_threads(*args)


def _security_headers() -> list[tuple[bytes, bytes]]:
    """What Django's security middleware adds to every answer."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
        "Cross-Origin-Opener-Policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        "X-Frame-Options": settings.X_FRAME_OPTIONS,
    }
    if getattr(settings, "CAREMGR_CSP", ""):
        headers["Content-Security-Policy"] = settings.CAREMGR_CSP
    if settings.SECURE_HSTS_SECONDS:  # browsers ignore it over plain HTTP
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers["Strict-Transport-Security"] = hsts
    return [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items() if v]


class ClientGone(Exception):
    """The sender hung up before its body was complete."""


class WebhookFastPath:
    """ASGI app: webhook POSTs answered here, every other request passed to `app`."""

    def __init__(self, app: App):
        self.app = app
        self.extra_headers: list[tuple[bytes, bytes]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "POST":
            match = WEBHOOK_PATH.fullmatch(scope["path"])
        if match is None or not self._host_allowed(scope) or self._needs_tls(scope):
            await self.app(scope, receive, send)
            return
        headers = CaseInsensitiveMapping(
            {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        )
        try:
            body = await self._read_body(receive, headers.get("Content-Length"))
        except ClientGone:
            return  # half a body is not a delivery: nothing stored, nobody to answer
        content_type = headers.get("Content-Type", "").split(";", 1)[0].strip()
        response = await _answer_in_thread(
            match["platform"], match["slug"], body, headers, content_type
        )
        await self._send(send, response)

    @staticmethod
    def _host_allowed(scope: Scope) -> bool:
        # Anything Django would refuse (or has to judge) goes to Django.
        for name, value in scope["headers"]:
            if name == b"host":
                domain, _port = split_domain_port(value.decode("latin-1"))
                return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)
        return False

    @staticmethod
    def _needs_tls(scope: Scope) -> bool:
        return settings.SECURE_SSL_REDIRECT and scope.get("scheme") != "https"

    @staticmethod
    async def _read_body(receive: Receive, declared: str | None) -> bytes | None:
        """The body, or None once it is known to pass the limit (the rest is not read)."""
        limit = settings.CAREMGR_MAX_WEBHOOK_BYTES
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return None
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _send(self, send: Send, response: HttpResponse) -> None:
        if self.extra_headers is None:
            self.extra_headers = _security_headers()
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()] + [
            (k, v) for k, v in self.extra_headers if k.decode("latin-1") not in response
        ]
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": response.content})
