"""Memory growth diagnostic: periodic tracemalloc snapshots and object counts, logged.

Off by default. With `CAREMGR_MEMORY_WATCH_SECONDS` set (e.g. 60), the server traces Python
allocations from start-up and, every that many seconds, logs on `caremgr.memory` the sites
(file:line) whose live memory grew most since the first snapshot and since the previous one,
and the object types whose counts grew most. A site that keeps growing from one report to the
next is a leak; growth that stops is warm-up. Memory that Python does not allocate itself is
reported beside it, so RSS growth can be placed: SQLite's own allocations (its page caches)
and the C heap (malloc) in use and held free. Tracing costs CPU and memory of its own (on a
busy machine it slows the server enough to change what is measured), so
`CAREMGR_MEMORY_WATCH_FRAMES=0` leaves it off and reports only memory by owner, Python's
allocated blocks and the object counts, which cost little.
"""

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
import threading
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger("caremgr.memory")


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
        ).split()
    ]


def _c_function(library: str | None, name: str, restype):
    """A function of a C library loaded in this process, or None where there is none."""
    try:
        function = getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError, TypeError):
        return None
    function.restype = restype
    return function


_sqlite_memory_used = _c_function(
    ctypes.util.find_library("sqlite3"), "sqlite3_memory_used", ctypes.c_int64
)
_mallinfo2 = _c_function(None, "mallinfo2", _MallInfo2)  # glibc 2.33+


def process_memory() -> dict[str, float]:
    """MB: resident set; traced by Python (when tracing); SQLite's; C heap in use and held
    free by malloc. And Python's allocated blocks, in thousands, which cost nothing to count."""
    with open(f"/proc/{os.getpid()}/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    figures = {"rss": resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20}
    if tracemalloc.is_tracing():
        figures["python"] = tracemalloc.get_traced_memory()[0] / 2**20
    figures["python_kblocks"] = sys.getallocatedblocks() / 1000
    if _sqlite_memory_used is not None:
        figures["sqlite"] = _sqlite_memory_used() / 2**20
    if _mallinfo2 is not None:
        info = _mallinfo2()
        figures["malloc_used"] = (info.uordblks + info.hblkhd) / 2**20
        figures["malloc_free"] = info.fordblks / 2**20
    return figures


@dataclass
class Growth:
    """One report: memory by owner, allocation sites and object types that grew."""

    memory: dict[str, float]
    is_baseline: bool = False
    since_start: list[str] = field(default_factory=list)
    since_last: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)


class MemoryWatch:
    """Snapshots compared with the first one (the baseline) and with the one before."""

    def __init__(self, frames: int = 4, top: int = 12):
        self.frames, self.top = frames, top
        self.baseline: tracemalloc.Snapshot | None = None
        self.previous: tracemalloc.Snapshot | None = None
        self.counts_before: Counter | None = None

    def start(self) -> None:
        if self.frames and not tracemalloc.is_tracing():
            tracemalloc.start(self.frames)

    def snapshot(self) -> tracemalloc.Snapshot | None:
        gc.collect()  # garbage waiting for a cycle pass is not growth
        if not tracemalloc.is_tracing():
            return None
        return tracemalloc.take_snapshot().filter_traces(
            [
                tracemalloc.Filter(False, tracemalloc.__file__),
                tracemalloc.Filter(False, __file__),
                tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
            ]
        )

    def report(self) -> Growth:
        """Take a snapshot and compare; the first call only sets the baseline."""
        current = self.snapshot()
        counts = object_counts()
        growth = Growth(memory=process_memory())
        if self.counts_before is None:
            self.baseline, growth.is_baseline = current, True
        else:
            if current is not None:
                growth.since_start = self.top_growth(current, self.baseline)
                growth.since_last = self.top_growth(current, self.previous)
            growth.objects = [
                f"{name} {counts[name]} ({delta:+d})"
                for name, delta in (counts - self.counts_before).most_common(self.top)
            ]
        self.previous, self.counts_before = current, counts
        return growth

    def top_growth(self, current, before) -> list[str]:
        lines = []
        for stat in current.compare_to(before, "traceback")[: self.top]:
            if stat.size_diff <= 0:
                break
            # Innermost frame first: the line that allocated, then who called it.
            frames = [f"{f.filename}:{f.lineno}" for f in reversed(stat.traceback)]
            lines.append(
                f"{stat.size_diff / 1024:+.0f} KiB ({stat.count_diff:+d} blocks, "
                f"{stat.size / 1024:.0f} KiB live) at {' < '.join(frames)}"
            )
        return lines


def object_counts() -> Counter:
    """Live objects tracked by the garbage collector, by type name."""
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def log_growth(growth: Growth) -> None:
    memory = ", ".join(f"{name} {mb:.1f}" for name, mb in growth.memory.items())
    if growth.is_baseline:
        log.info("memory watch (MB): %s; baseline taken", memory)
        return
    log.info(
        "memory watch (MB): %s\n since start:\n  %s\n since last:\n  %s\n objects:\n  %s",
        memory,
        "\n  ".join(growth.since_start) or "-",
        "\n  ".join(growth.since_last) or "-",
        "\n  ".join(growth.objects) or "-",
    )


def watch_in_background(interval: float, frames: int, stop: threading.Event) -> threading.Thread:
    """Trace from now on (`frames` deep; 0: no tracing) and log a report every `interval`
    seconds until `stop` is set."""
    watch = MemoryWatch(frames)
    watch.start()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                log_growth(watch.report())
            except Exception:  # a diagnostic never takes the server down
                log.exception("memory watch failed")

    thread = threading.Thread(target=loop, name="caremgr-memory-watch", daemon=True)
    thread.start()
    return thread
