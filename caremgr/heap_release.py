"""Freed C-heap memory handed back to the operating system, now and then.

glibc's malloc keeps what Python and SQLite free for later reuse, in one arena per thread
that allocated, and gives a page back only when it lies at the very top of its arena. A
long-running server whose threads come and go (daphne's sync threads; a fresh event-loop
thread for each `async_to_sync` call of the background thread) so holds more and more freed
memory, resident, while the memory in use stays level: the embedded soak measured the heap's
free part growing by about 4 MB a minute. `malloc_trim(0)` returns the free pages of every
arena. Where the C library is not glibc there is no such call and nothing is done.

Keeping less to begin with works better under steady load (the soak in docs/benchmarks.md):
two arenas instead of up to eight per core, and a fixed threshold above which blocks are
mapped on their own and unmapped when freed, where glibc would otherwise raise that
threshold after the first large block freed and carve every later one from the heap.
`keep_heap_compact()` sets both, as MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 would.
"""

import ctypes
import logging
import threading

log = logging.getLogger(__name__)


def _malloc_trim():
    try:
        function = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = [ctypes.c_size_t], ctypes.c_int
    return function


_trim = _malloc_trim()

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # mallopt() parameters, from glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024


def keep_heap_compact() -> bool:
    """Two malloc arenas and a fixed mmap threshold for this process; whether both took.
    Call before starting threads: arenas already made stay."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, 2)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_free_heap() -> bool:
    """Return the C heap's free pages to the system; whether any were returned."""
    return bool(_trim(0)) if _trim is not None else False


def release_in_background(interval: float, stop: threading.Event) -> threading.Thread | None:
    """Release every `interval` seconds until `stop` is set; None where there is no trim or
    `interval` is 0."""
    if _trim is None or interval <= 0:
        return None

    def loop() -> None:
        while not stop.wait(interval):
            try:
                release_free_heap()
            except Exception:  # never take the server down for a courtesy to the system
                log.exception("heap release failed")

    thread = threading.Thread(target=loop, name="caremgr-heap-release", daemon=True)
    thread.start()
    return thread
