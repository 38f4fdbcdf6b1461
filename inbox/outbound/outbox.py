"""The outbox: queued outbound messages leave through here, once each, with retries.

A reply is stored as a `queued` Message inside the transaction that records it; only after
that commits does anything talk to a platform (never inside a request or a transaction).
Each attempt first claims the row with a conditional UPDATE `queued → sending`, so two
workers (an inline thread, a Celery task, the periodic drain) can race for a message and
only one posts it. While a row is `sending`, `next_attempt_at` is its lease: a worker that
died mid-send leaves a row whose lease runs out, and the drain puts it back in the queue.

Failures the platform may get over (network, timeout, 429, 5xx) are retried with backoff,
honouring Retry-After; any other refusal fails the message at once with the platform's
words, so the agent sees why and can press "resend".
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from inbox.models import Direction, Message, SendStatus
from inbox.outbound import generic, meta, telegram, x
from inbox.outbound.base import PermanentError, RetryableError, short

logger = logging.getLogger("inbox.outbound")

SENDERS = {"meta": meta.send, "x": x.send, "telegram": telegram.send, "generic": generic.send}
MAX_ATTEMPTS = 5
# Wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure is final.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
)
# Far longer than one attempt can take (connect 5 s + read 15 s), so a live worker never
# loses its claim; a dead one's message is sent again within minutes.
SENDING_LEASE = timedelta(minutes=5)
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
ERROR_LIMIT = 1000
BOT_TOKEN = re.compile(r"/bot[^/\s]+/")
LOCKED_PAUSES = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)

T = TypeVar("T")

_client: httpx.Client | None = None
_client_lock = threading.Lock()
_background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="caremgr-outbox")
_in_flight: set[Future] = set()  # sends handed to `_background` and not done yet


def queue_send(message_id: int) -> None:
    """Send the queued message once the current transaction commits.

    Inline mode hands it to a background thread; Celery mode to the `send_message` task. If
    that hand-over fails (a broker outage) the message stays queued for `drain_outbox`.
    """
    transaction.on_commit(partial(_dispatch, message_id), robust=True)


def send_now(message_id: int) -> str:
    """Make one attempt at sending the message, if it is queued and due; return its status.

    A message another worker is sending, or one waiting for its next attempt, is left alone.
    Raises Message.DoesNotExist for an unknown id.
    """
    now = timezone.now()
    claim = _due(_outbound(status=SendStatus.QUEUED).filter(pk=message_id), now)
    claimed = _retrying(
        lambda: claim.update(
            status=SendStatus.SENDING,
            send_attempts=F("send_attempts") + 1,
            next_attempt_at=now + SENDING_LEASE,
        )
    )
    if not claimed:
        return _status_of(message_id)
    message = _retrying(
        lambda: Message.objects.select_related("account", "contact").get(pk=message_id)
    )
    account = message.account
    try:
        if not account.is_active:
            raise PermanentError("the account is switched off")
        sender = SENDERS.get(account.platform)
        if sender is None:
            raise PermanentError(f"no sender for platform {account.platform!r}")
        external_id = sender(message, account, http_client())
    except PermanentError as exc:
        return _record_failure(message, str(exc), retry=False)
    except RetryableError as exc:
        return _record_failure(message, str(exc), retry=True, retry_after=exc.retry_after)
    except Exception as exc:
        # A bug or a database hiccup: keep the message and try again later.
        logger.exception("outbound message %s: unexpected error while sending", message_id)
        return _record_failure(message, f"internal error: {type(exc).__name__}", retry=True)
    return _record_sent(message, external_id)


def drain_outbox(limit: int = 100) -> int:
    """Attempt every due queued message (oldest first, at most `limit`); return how many.

    First puts back what a dead worker left in `sending`, so nothing queued is forgotten.
    """
    now = timezone.now()
    _release_stuck(now)
    due = _due(_outbound(status=SendStatus.QUEUED), now).order_by("created_at", "id")
    ids = list(due.values_list("pk", flat=True)[:limit])
    for message_id in ids:
        try:
            send_now(message_id)
        except Message.DoesNotExist:
            continue
    return len(ids)


def resend(message_id: int) -> bool:
    """Put a failed message back in the queue with fresh attempts, and send it after commit.

    False when the message is not failed (sent meanwhile, or already queued again by a
    second click): the conditional update lets one of two racing resends through.
    """
    updated = (
        _outbound(status=SendStatus.FAILED)
        .filter(pk=message_id)
        .update(status=SendStatus.QUEUED, send_attempts=0, next_attempt_at=None, error="")
    )
    if updated:
        logger.info("outbound message %s queued again", message_id)
        queue_send(message_id)
    return bool(updated)


def http_client() -> httpx.Client:
    """The one HTTP client every sender shares (connection pooling, fixed timeouts)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=TIMEOUT, follow_redirects=False, headers={"User-Agent": "caremgr"}
            )
        return _client


def _outbound(*, status: str) -> QuerySet[Message]:
    return Message.objects.filter(direction=Direction.OUT, status=status)


def _due(messages: QuerySet[Message], now: datetime) -> QuerySet[Message]:
    return messages.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def _dispatch(message_id: int) -> None:
    if settings.CAREMGR_TASKS_INLINE:
        future = _background.submit(_send_in_background, message_id)
        _in_flight.add(future)
        future.add_done_callback(_in_flight.discard)
    else:
        from inbox.tasks import send_message

        send_message.delay(message_id)


def wait_for_sends(timeout: float | None = 60.0) -> None:
    """Wait until the sends handed to this process's background threads are done: a
    command that queued replies returns only then, not while they still write their
    outcome and live events into an interpreter shutting down."""
    wait(list(_in_flight), timeout=timeout)


def _send_in_background(message_id: int) -> None:
    try:
        send_now(message_id)
    except Exception:
        logger.exception("outbound message %s: background send failed", message_id)
    finally:
        # This thread's connections would otherwise stay open until the process ends.
        connections.close_all()


def _record_sent(message: Message, external_id: str) -> str:
    done: dict[str, Any] = {"status": SendStatus.SENT, "error": "", "next_attempt_at": None}
    mine = Message.objects.filter(pk=message.pk, status=SendStatus.SENDING)

    def record() -> int:
        try:
            with transaction.atomic():
                return mine.update(external_id=external_id, **done)
        except IntegrityError:
            # The platform's webhook echo of this very message was stored first under its id.
            logger.warning(
                "outbound message %s: sent as %s, which is already stored as another message",
                message.pk,
                external_id,
            )
            return mine.update(**done)

    updated = _retrying(record)
    if not updated:
        return _status_of(message.pk)
    logger.info("outbound message %s sent on %s as %s", message.pk, message.channel, external_id)
    _announce(message.pk, SendStatus.SENT)
    return SendStatus.SENT


def _record_failure(
    message: Message, reason: str, *, retry: bool, retry_after: float | None = None
) -> str:
    reason = short(_scrub(reason, message.account), ERROR_LIMIT)
    attempts = message.send_attempts  # read after the claim: includes this attempt
    now = timezone.now()
    if retry and attempts < MAX_ATTEMPTS:
        if retry_after is not None:
            delay = timedelta(seconds=retry_after)
        else:
            delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        status, next_attempt_at, error = SendStatus.QUEUED, now + delay, reason
        logger.warning(
            "outbound message %s: attempt %s failed, next at %s: %s",
            message.pk,
            attempts,
            next_attempt_at.isoformat(),
            reason,
        )
    else:
        status, next_attempt_at = SendStatus.FAILED, None
        error = f"{reason} (gave up after {attempts} attempts)" if retry else reason
        logger.warning("outbound message %s failed: %s", message.pk, error)
    mine = Message.objects.filter(pk=message.pk, status=SendStatus.SENDING)
    updated = _retrying(
        lambda: mine.update(
            status=status, next_attempt_at=next_attempt_at, error=short(error, ERROR_LIMIT)
        )
    )
    if not updated:
        return _status_of(message.pk)
    _announce(message.pk, status)
    return status


def _release_stuck(now: datetime) -> None:
    """Re-queue messages whose sender died mid-send (the lease ran out); fail exhausted ones."""
    stuck = _due(_outbound(status=SendStatus.SENDING), now)
    rows = list(stuck.values_list("pk", "send_attempts"))
    if not rows:
        return
    reason = "the previous attempt stopped while sending"
    exhausted = [pk for pk, attempts in rows if attempts >= MAX_ATTEMPTS]
    retry = [pk for pk, attempts in rows if attempts < MAX_ATTEMPTS]
    if exhausted:
        stuck.filter(pk__in=exhausted).update(
            status=SendStatus.FAILED,
            next_attempt_at=None,
            error=f"{reason} (gave up after {MAX_ATTEMPTS} attempts)",
        )
    if retry:
        stuck.filter(pk__in=retry).update(
            status=SendStatus.QUEUED, next_attempt_at=now, error=reason
        )
    logger.warning("outbox: %s stuck outbound message(s) released: %s", len(rows), rows)
    for pk in exhausted:
        _announce(pk, SendStatus.FAILED)


def _status_of(message_id: int) -> str:
    return _retrying(lambda: Message.objects.values_list("status", flat=True).get(pk=message_id))


def _retrying(statement: Callable[[], T]) -> T:
    """Run one short database statement, again after a pause if SQLite says "locked".

    SQLite may refuse a write at once rather than wait out its busy timeout (a stale WAL
    snapshot, a shared-cache table lock). Losing the write that records a sent message would
    leave it to be sent a second time, so it is worth a few tries. Inside a transaction the
    error is passed on: only the caller can retry the whole transaction.
    """
    for pause in (*LOCKED_PAUSES, None):
        try:
            return statement()
        except OperationalError as exc:
            if pause is None or "locked" not in str(exc) or connection.in_atomic_block:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


def _scrub(text: str, account: Any) -> str:
    """Remove credentials from text we keep or log (Telegram's token travels in the URL)."""
    for credential in (account.access_token, account.secret):
        if credential and len(credential) >= 4:
            text = text.replace(credential, "[redacted]")
    return BOT_TOKEN.sub("/bot[redacted]/", text)


def _announce(message_id: int, status: str) -> None:
    """Tell whoever shows messages that one changed status (the live inbox), if configured.

    inbox does not import cases: the handler is named in settings, like the delivery seam.
    """
    path = getattr(settings, "CAREMGR_SEND_STATUS_HANDLER", "")
    if not path:
        return
    try:
        import_string(path)(message_id, status)
    except Exception:
        logger.exception("outbound message %s: status handler failed", message_id)


class _RedactBotTokens(logging.Filter):
    """httpx logs every request URL at INFO; a Telegram URL holds the bot token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg, record.args = BOT_TOKEN.sub("/bot[redacted]/", message), ()
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _RedactBotTokens) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactBotTokens())
