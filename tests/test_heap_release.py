"""Freed C-heap memory leaves the server's resident set instead of piling up."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.test import override_settings

from caremgr import heap_release
from caremgr.memory_watch import process_memory
from cases.management.commands.serve import start_beside_server

pytestmark = pytest.mark.skipif(heap_release._trim is None, reason="glibc's malloc_trim only")

kept: list[bytes] = []


def churn_in_threads(rounds: int = 4, threads: int = 4) -> None:
    """What a server's sync threads do: allocate (above pymalloc's 512-byte blocks, so from
    malloc), keep a little, free the rest, end; the kept pieces pin the freed space."""

    def work() -> None:
        pieces = [bytes(2000 + k % 64) for k in range(15000)]
        kept.extend(pieces[::500])

    for _ in range(rounds):
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


@pytest.fixture(autouse=True)
def _release_kept():
    yield
    kept.clear()


def test_freed_memory_of_finished_threads_leaves_the_resident_set():
    heap_release.release_free_heap()
    before = process_memory()["rss"]
    churn_in_threads()
    grown = process_memory()["rss"]
    assert grown - before > 40  # MB: freed yet resident, the growth the soak measured
    assert heap_release.release_free_heap()
    assert process_memory()["rss"] - before < (grown - before) / 3


def test_the_server_releases_freed_memory_by_itself_every_interval():
    stop = threading.Event()
    with override_settings(CAREMGR_HEAP_RELEASE_SECONDS=0.2, CAREMGR_MEMORY_WATCH_SECONDS=0):
        threads = start_beside_server(stop, background=False, interval=5)
    try:
        assert [t.name for t in threads] == ["caremgr-heap-release"]
        heap_release.release_free_heap()
        before = process_memory()["rss"]
        churn_in_threads()
        grown = process_memory()["rss"]
        stop.wait(1.0)  # a few intervals
        assert process_memory()["rss"] - before < (grown - before) / 3
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
    assert not any(t.is_alive() for t in threads)


def test_release_can_be_switched_off():
    stop = threading.Event()
    with override_settings(CAREMGR_HEAP_RELEASE_SECONDS=0, CAREMGR_MEMORY_WATCH_SECONDS=0):
        assert start_beside_server(stop, background=False, interval=5) == []


LARGE_BLOCKS = """
import sys
from caremgr.heap_release import keep_heap_compact
from caremgr.memory_watch import process_memory
if sys.argv[1] == "compact":
    assert keep_heap_compact()
big = bytes(4 * 2**20)
del big  # a large block freed: glibc would now carve blocks up to 4 MB from the heap
live = []
for n in range(200):  # 200 kB blocks, one in 20 kept, as frames and rows come and go
    blocks = [bytes(200_000 + n) for _ in range(20)]
    live.append(blocks[-1])
    del blocks
memory = process_memory()
print(memory["rss"] - memory["malloc_used"])
"""


def test_a_compact_heap_keeps_no_freed_large_blocks_resident():
    def resident_beyond_use(mode: str) -> float:
        done = subprocess.run(
            [sys.executable, "-c", LARGE_BLOCKS, mode],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        return float(done.stdout)

    assert resident_beyond_use("default") - resident_beyond_use("compact") > 20  # MB
