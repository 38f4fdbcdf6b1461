"""An import's batches filed in independent parts at once, on PostgreSQL.

Filing a batch is Python and waiting on the database by turns, about half each on two
cores. Split into parts that can never meet in a case (`cases.independent`), a batch is
filed by one thread per part, each in its own transaction on its own connection: one
part's statements run in the database while another part's Python runs.

The parts commit together or not at all. Each waits for the others before it commits; if
one fails, every part rolls back and its error is raised, as when the batch is filed in
one piece. Parts that still meet on a row stored before the batch (a case merged into
another customer's, a webhook filing the same customer meanwhile) would wait for each
other's commit while the other waits for them: a part that waits on a lock longer than
`LOCK_WAIT` rolls back instead, and so do the parts after it; the parts before it commit,
then it and those after it are filed again one by one, in order.
"""

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from django.db import OperationalError, connection, connections, transaction

from cases.independent import independent_parts

R = TypeVar("R")

# How long a part waits on a row lock before it lets the others commit first.
LOCK_WAIT = "200ms"
# The SQLSTATE of a part's statement that waited that long (lock_not_available), or met
# another part in a cycle (deadlock_detected). By code: the embedded install has no
# PostgreSQL driver to import the classes from.
_MET = {"55P03", "40P01"}
FILED, MET, FAILED = "filed", "met", "failed"
# What a part that met another returns: file it again, on its own.
AGAIN = object()


class _Gate:
    """Where the parts of one batch wait for each other before they commit."""

    def __init__(self, parts: int) -> None:
        self.parts = parts
        self.outcomes: dict[int, str] = {}
        self.changed = threading.Condition()

    def arrive(self, part: int, outcome: str) -> dict[int, str]:
        """Say how this part went, wait for the others, and say how they all went."""
        with self.changed:
            self.outcomes[part] = outcome
            self.changed.notify_all()
            self.changed.wait_for(lambda: len(self.outcomes) == self.parts)
            return self.outcomes


class PartFilers(Generic[R]):
    """`file(messages, sentiments)` run for the parts of each batch at once, each part in a
    transaction begun with `begin()`; this thread files the first part, one thread of its
    own (and one connection) each the others. `close()` closes those connections."""

    def __init__(
        self, parts: int, file: Callable[[list, list | None], R], begin: Callable[[], None]
    ) -> None:
        self.most = parts
        self.file, self.begin = file, begin
        # One thread per executor, so each keeps its connection from batch to batch.
        self.helpers = [ThreadPoolExecutor(1) for _ in range(parts - 1)]

    def file_batch(self, messages: Sequence, sentiments: Sequence | None) -> list[R]:
        """The results of filing `messages` in parts, or of filing them in one piece when
        they do not split."""
        parts = independent_parts(messages, self.most)
        if len(parts) == 1:
            return [self._alone(list(messages), None if sentiments is None else list(sentiments))]
        pieces = [
            (
                [messages[i] for i in part],
                None if sentiments is None else [sentiments[i] for i in part],
            )
            for part in parts
        ]
        gate = _Gate(len(pieces))
        futures = [
            helper.submit(self._part, gate, index, *piece)
            for index, (helper, piece) in enumerate(
                zip(self.helpers, pieces[1:], strict=False), start=1
            )
        ]
        outcomes = [self._outcome(lambda: self._part(gate, 0, *pieces[0]))]
        outcomes += [self._outcome(future.result) for future in futures]
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        results = []
        for piece, outcome in zip(pieces, outcomes, strict=True):
            results.append(self._alone(*piece) if outcome is AGAIN else outcome)
        return results

    def close(self) -> None:
        for helper in self.helpers:
            helper.submit(connections.close_all).result()
            helper.shutdown()

    def _alone(self, messages: list, sentiments: list | None) -> R:
        with transaction.atomic():
            self.begin()
            return self.file(messages, sentiments)

    def _part(self, gate: _Gate, index: int, messages: list, sentiments: list | None):
        """This part's result once every part is filed; AGAIN when it must be filed again
        on its own; None when another part failed (this one rolled back)."""
        arrived = False
        try:
            with transaction.atomic():
                self.begin()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_WAIT])
                result = self.file(messages, sentiments)
                arrived = True
                outcomes = gate.arrive(index, FILED)
                if FAILED in outcomes.values():
                    transaction.set_rollback(True)
                    return None
                if any(outcomes[before] == MET for before in range(index)):
                    # Filed again after the part before it, in the batch's order.
                    transaction.set_rollback(True)
                    return AGAIN
            return result
        except OperationalError as exc:
            if arrived:
                raise
            if getattr(exc.__cause__, "sqlstate", None) in _MET:
                gate.arrive(index, MET)  # rolled back already: its locks are free
                return AGAIN
            gate.arrive(index, FAILED)
            raise
        except BaseException:
            if not arrived:
                gate.arrive(index, FAILED)
            raise

    @staticmethod
    def _outcome(run: Callable[[], object]) -> object:
        try:
            return run()
        except BaseException as exc:  # raised once every part has ended
            return exc
