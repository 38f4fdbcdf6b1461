"""Scoring batches of texts in worker processes while the caller works on earlier batches.

A bulk import spends most of its CPU on sentiment and on the database, and the two do not
depend on each other within a batch: the workers score batch N+1 while the importer files
batch N. The look-ahead is bounded, so memory stays flat whatever the file's size, and
results come back in the order the batches went in. With one worker nothing is started
and nothing is scored ahead: the caller scores in its own process what it keeps.

Workers are forked: a fork server or spawned workers would import the caller's main module
again (scripts without a `__main__` guard would run twice). A forked worker only ever calls
`analyze`; it never touches the database connections it inherits and leaves with
`os._exit`, so they stay the caller's. The caller builds the lexicons and the language
detector before the workers are forked, and they inherit them: built in each worker
instead, the same work (a fifth of a second per language) ran on every core at once before
the first batch could be scored, and again in every pool a long-lived caller started.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from .analyzer import Sentiment, analyze

__all__ = ["default_workers", "scored_batches"]

T = TypeVar("T")
A = TypeVar("A")

# Batches in flight beyond the one being filed: enough to keep every worker busy while the
# caller files one, few enough that a slow caller does not pile up parsed batches.
AHEAD_PER_WORKER = 1
# Each batch goes out in this many parts per worker: a worker the scheduler holds back
# keeps one small part waiting, not half the batch, while the others take the rest.
PARTS_PER_WORKER = 4
# The workers score at a lower priority: with one per core beside the process that files,
# there are more busy processes than cores, and the filing (the import's bound) and a
# server on the same machine should keep theirs.
WORKER_NICENESS = 10


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def warm_up() -> None:
    """Build the lexicons and the detector now, not on a worker's first batch; a no-op
    once they are built."""
    for text in (
        "thanks, my order is late and nobody answers",
        "danke, meine Bestellung ist zu spät und keiner antwortet",
        "merci, ma commande est en retard et personne ne répond",
    ):
        analyze(text)


def _score(texts: Sequence[str], also: Callable[[str], A] | None) -> list[tuple]:
    # Plain tuples: cheaper to send back between processes than the dataclass.
    moods = [(m.label, m.polarity, m.subjectivity, m.language) for m in map(analyze, texts)]
    return list(zip(moods, map(also, texts), strict=True)) if also else moods


def _pool(workers: int) -> ProcessPoolExecutor:
    warm_up()  # here, once: the workers inherit it
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=os.nice,
        initargs=(WORKER_NICENESS,),
    )


def _split(texts: list[str], parts: int) -> list[list[str]]:
    size = -(-len(texts) // parts) if texts else 1
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def scored_batches(
    batches: Iterable[list[T]],
    text: Callable[[T], str],
    *,
    workers: int,
    also: Callable[[str], A] | None = None,
) -> Iterator[tuple[list[T], list[Sentiment] | None, list[A] | None]]:
    """Each batch with the sentiment of each item's text, in order, and what `also` (a
    module-level function, sent to the workers by name) gives for each text; with one
    worker, None for both.

    Each batch is split across the workers, so one batch is ready as soon as possible;
    the next batches are read while earlier ones are scored. An error reading a batch is
    raised after the batches before it were handed out. Leaving the loop early cancels
    what was not scored yet.
    """
    if workers <= 1:
        # Nothing to overlap with: the caller scores what it keeps (a re-run keeps nothing).
        for batch in batches:
            yield batch, None, None
        return
    pending: deque[tuple[list[T], list[Future], bool]] = deque()
    pool = _pool(workers)
    items = iter(batches)
    try:
        while True:
            try:
                batch = next(items)
            except StopIteration:
                break
            except Exception:
                # The batches read before the failing one are handed out first, as if
                # they had been scored one at a time.
                while pending:
                    yield _collect(*pending.popleft())
                raise
            parts = _split([text(item) for item in batch], workers * PARTS_PER_WORKER)
            futures = [pool.submit(_score, part, also) for part in parts]
            pending.append((batch, futures, also is not None))
            if len(pending) > AHEAD_PER_WORKER * workers:
                yield _collect(*pending.popleft())
        while pending:
            yield _collect(*pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    batch: list[T], futures: list[Future], with_also: bool
) -> tuple[list[T], list[Sentiment], list | None]:
    rows = [row for future in futures for row in future.result()]
    if not with_also:
        return batch, [Sentiment(*row) for row in rows], None
    return batch, [Sentiment(*mood) for mood, _ in rows], [extra for _, extra in rows]
