"""Deliveries that arrive at once are stored together.

Alone, a webhook request stores its delivery with one INSERT in autocommit and pushes its
id onto the intake queue: a statement, a commit and a Redis round trip for every delivery,
about 0.3 ms of the web process's CPU and 0.16 ms of the database's per delivery. Under a
burst a web process answers several requests at once, each in a thread of its own. Here the
first of them writes for every request waiting: one INSERT of all their rows, one commit,
one push of all their ids; four at once cost 0.09 and 0.06 ms each
(`bench/store_together_bench.py`). The others wait for that commit, then answer, each with
its own delivery's id.

Nobody waits for a batch to fill: the writer takes what has arrived, and what arrives
while it writes goes into the next batch, written by the first of those requests once the
writer has answered. A request is answered only after its row has committed, as before;
a batch that fails fails every request in it, and each answers with that error.
"""

import copy
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from inbox.bulk import insert_rows
from inbox.handoff import hand_over
from inbox.models import Delivery

# Rows in one INSERT at most: what waits beyond goes into the next batch.
MOST_IN_A_BATCH = 256


@dataclass(eq=False)
class _Waiting:
    item: object
    ready: threading.Event = field(default_factory=threading.Event)
    writes: bool = False
    error: BaseException | None = None


class Together:
    """Stores items of concurrent callers with one call of `write(items)` per batch.

    `store(item)` returns once `write` has returned for a batch holding `item`, or raises
    what it raised. Batches are written one after another, each by the thread of its
    first caller, so `write` runs in a caller's thread (with its database connection).
    """

    def __init__(self, write: Callable[[Sequence], None], most: int = MOST_IN_A_BATCH):
        self._write = write
        self._most = most
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._busy = False

    def store(self, item) -> None:
        me = _Waiting(item)
        with self._lock:
            self._waiting.append(me)
            if not self._busy:
                self._busy = me.writes = True
        if not me.writes:
            me.ready.wait()  # written by another, or its turn to write has come
        if me.writes:
            self._write_batch(me)
        if me.error is not None:
            raise me.error

    def waiting(self) -> int:
        """How many items wait to be written (the batch being written not counted)."""
        with self._lock:
            return len(self._waiting)

    def _write_batch(self, me: _Waiting) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
        error = None
        try:
            self._write([waiting.item for waiting in batch])
        except BaseException as exc:  # every request of the batch answers with it
            error = exc
        with self._lock:
            following = self._waiting[0] if self._waiting else None
            if following is not None:
                following.writes = True
            else:
                self._busy = False
        for waiting in batch:
            if waiting is not me:
                waiting.error = None if error is None else _own_copy(error)
                waiting.ready.set()
        me.error = error
        if following is not None:
            following.ready.set()


def _own_copy(error: BaseException) -> BaseException:
    """The error for another thread to raise: raising writes its traceback into it."""
    try:
        mine = copy.copy(error)
    except Exception:  # an exception that cannot be made again from its arguments
        return error
    mine.__cause__, mine.__context__ = error.__cause__, error.__context__
    return mine


def store_and_hand_over(deliveries: Sequence[Delivery]) -> None:
    """One write of a batch: the rows in one INSERT, durable (in autocommit) before they
    are handed over in one push. Prepared by inbox.bulk, which costs a third of the ORM's
    compiler for the same rows."""
    insert_rows(deliveries)
    hand_over(*(delivery.pk for delivery in deliveries))


_together = Together(store_and_hand_over)


def store_delivery(delivery: Delivery) -> None:
    """Store a new delivery (it gets its key) and hand it over to be filed.

    Inside a transaction it is stored in that transaction. Filed inline, it is stored
    alone: its request files it right after, and would otherwise file others' too.
    """
    if connection.in_atomic_block or settings.CAREMGR_TASKS_INLINE:
        store_and_hand_over([delivery])
    else:
        _together.store(delivery)
