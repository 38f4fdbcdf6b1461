"""Many stored deliveries filed in one intake batch: the worker's side of the intake queue.

Filing one delivery costs about twenty queries whatever it holds; a batch of a hundred
costs a few more than one. Each delivery ends exactly as `cases.intake.process_delivery`
would leave it (processed or ignored, its message count, one more attempt), and a message
that came twice is stored once, for the delivery that brought it first. Should anything in
the batch fail, the batch is rolled back and every delivery is filed on its own, so one
unreadable delivery is marked failed without holding up the others.

Batches are filed one at a time (`_one_filer_at_a_time`), so what needs no lock is done
before the lock is taken: the bodies read, parsed and their messages scored for sentiment,
about a third of a batch's CPU. A second worker does that for its batch while the first
files; a body is never changed once stored, so nothing read ahead goes stale.
"""

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import suppress

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cases.intake import intake_messages, process_delivery
from inbox.connectors import get_connector
from inbox.connectors.base import ParsedMessage, ParseResult, PayloadError
from inbox.lookups import in_bulk, instances_in, rows_in
from inbox.models import Account, Delivery, DeliveryStatus
from inbox.store import apply_statuses
from sentiment import Sentiment, analyze

log = logging.getLogger(__name__)

# The advisory lock key batch filing holds (any constant no other lock of ours uses).
BATCH_FILING_LOCK = 0x6361_7265_6261_7463  # "carebatc"
DELIVERIES = connection.ops.quote_name(Delivery._meta.db_table)


def process_deliveries(delivery_ids: Sequence[int]) -> int:
    """File the deliveries of `delivery_ids` still waiting; returns how many were filed.

    Deliveries already processed, or locked by another worker filing them, are skipped:
    a queue that hands an id out twice adds nothing.
    """
    if not delivery_ids:
        return 0
    try:
        ahead = _read_ahead(delivery_ids)
    except Exception:  # the filing reads them itself
        log.warning("deliveries not read ahead", exc_info=True)
        ahead = {}
    try:
        with transaction.atomic():
            return _file_together(delivery_ids, ahead)
    except Exception:
        log.warning(
            "a batch of %d deliveries failed; filing them one by one",
            len(delivery_ids),
            exc_info=True,
        )
    return sum(process_delivery(pk) == DeliveryStatus.PROCESSED for pk in delivery_ids)


Scored = tuple[ParseResult, list[Sentiment]]


def _read_ahead(delivery_ids: Sequence[int]) -> dict[int, Scored]:
    """The waiting deliveries parsed and scored, before any lock; a delivery that does not
    parse is left out (the filing parses it again and fails the batch as before).

    Plain reads here and in the filing, once per batch of a hundred: compiling the
    querysets and building their rows took a sixth of a worker's CPU."""
    waiting = rows_in(
        f"SELECT id, account_id, body FROM {DELIVERIES}"  # noqa: S608 - our table, quoted
        " WHERE status = %s AND id IN ({keys})",
        [DeliveryStatus.RECEIVED],
        delivery_ids,
    )
    accounts = in_bulk(Account, {account_id for _, account_id, _ in waiting})
    ahead: dict[int, Scored] = {}
    for pk, account_id, body in waiting:
        account = accounts.get(account_id)
        if account is None:
            continue
        with suppress(PayloadError):  # met again in the filing, which says what it was
            ahead[pk] = _scored(account, bytes(body))
    return ahead


def _scored(account: Account, body: bytes) -> Scored:
    result = get_connector(account.platform).parse(account, body)
    return result, [analyze(message.text) for message in result.messages]


def _file_together(delivery_ids: Sequence[int], ahead: dict[int, Scored]) -> int:
    _one_filer_at_a_time()
    features = connection.features
    # Rows another worker is filing are skipped, not waited for.
    lock = " FOR UPDATE SKIP LOCKED" if features.has_select_for_update_skip_locked else ""
    deliveries = instances_in(
        Delivery,
        "status = %s AND id IN ({keys}) ORDER BY id" + lock,
        [DeliveryStatus.RECEIVED],
        delivery_ids,
        defer=("body",),  # read ahead; loaded here only for one that was not
    )
    if not deliveries:
        return 0
    deliveries.sort(key=lambda delivery: delivery.pk)
    accounts = in_bulk(Account, {d.account_id for d in deliveries})
    by_account: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_account[delivery.account_id].append(delivery)
    new_per_delivery: Counter[int] = Counter()
    carried: set[int] = set()
    for account_id, group in by_account.items():
        account = accounts[account_id]
        parsed: list[ParsedMessage] = []
        moods: list[Sentiment] = []
        brought_by: dict[str, Delivery] = {}
        statuses = []
        for delivery in group:
            result, scores = ahead.get(delivery.pk) or _scored(account, bytes(delivery.body))
            if result.messages:
                carried.add(delivery.pk)
            for message in result.messages:
                brought_by.setdefault(message.external_id, delivery)
            parsed.extend(result.messages)
            moods.extend(scores)
            statuses.extend(result.statuses)
        intake = intake_messages(account, parsed, delivery_of=brought_by, sentiments=moods)
        apply_statuses(account, statuses)
        new_per_delivery.update(m.delivery_id for m in intake.new)
    _mark_done(deliveries, carried, new_per_delivery)
    return len(deliveries)


def _one_filer_at_a_time() -> None:
    """Batches from several workers are filed one after another on PostgreSQL.

    A batch touches many cases and, assigning them, the agents of several teams; two
    batches locking those rows in their own orders deadlock. Receiving stays parallel
    (webhooks only insert), and a batch files a hundred deliveries in a few milliseconds
    each, so one filer at a time keeps up; SQLite has one writer anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [BATCH_FILING_LOCK])


def _mark_done(deliveries: list[Delivery], carried: set[int], new: Counter[int]) -> None:
    """One UPDATE per (status, message count), usually one or two for the whole batch."""
    outcome: dict[tuple[str, int], list[int]] = defaultdict(list)
    for delivery in deliveries:
        status = DeliveryStatus.PROCESSED if delivery.pk in carried else DeliveryStatus.IGNORED
        outcome[(status, new[delivery.pk])].append(delivery.pk)
    now = timezone.now()
    for (status, count), ids in outcome.items():
        Delivery.objects.filter(pk__in=ids).update(
            status=status,
            message_count=count,
            attempts=F("attempts") + 1,
            error="",
            processed_at=now,
        )
