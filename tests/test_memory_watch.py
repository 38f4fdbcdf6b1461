"""The memory-growth diagnostic names the line that keeps memory, and places the rest."""

import logging
import sqlite3
import tracemalloc

import pytest

from caremgr.memory_watch import MemoryWatch, log_growth, process_memory

kept: list[bytes] = []


def keep_growing(n: int) -> None:
    kept.extend(bytes(1024) + bytes([k % 256]) for k in range(n))


GROWING_LINE = keep_growing.__code__.co_firstlineno + 1


@pytest.fixture
def watch():
    was_tracing = tracemalloc.is_tracing()
    watch = MemoryWatch()
    watch.start()
    yield watch
    kept.clear()
    if not was_tracing:
        tracemalloc.stop()


def test_a_growing_line_is_reported_first_with_its_caller(watch):
    assert watch.report().since_start == []  # the baseline
    keep_growing(3000)
    growth = watch.report()
    top = growth.since_start[0]
    allocating, caller = top.split(" at ")[1].split(" < ")[:2]
    assert allocating == f"{__file__}:{GROWING_LINE}"
    assert caller.startswith(f"{__file__}:")
    assert int(top.split(" KiB")[0]) >= 3000
    assert growth.since_last[0] == top


def test_memory_that_stopped_growing_is_gone_from_since_last(watch):
    watch.report()
    keep_growing(2000)
    first = watch.report()
    second = watch.report()
    assert any(f"test_memory_watch.py:{GROWING_LINE}" in line for line in first.since_last)
    assert not any(f"test_memory_watch.py:{GROWING_LINE}" in line for line in second.since_last)
    assert any(f"test_memory_watch.py:{GROWING_LINE}" in line for line in second.since_start)


def test_sqlite_page_cache_is_placed_outside_python():
    before = process_memory()
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (x)")
    connection.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 4000)
    during = process_memory()
    connection.close()
    assert during["sqlite"] - before["sqlite"] > 1.5  # MB: 2 MB of rows in its pages
    assert process_memory()["sqlite"] < during["sqlite"] - 1.5
    assert during["rss"] > 0 and during["malloc_used"] > 0


def test_a_report_is_logged_with_the_memory_of_each_owner(watch, caplog):
    caplog.set_level(logging.INFO, logger="caremgr.memory")
    log_growth(watch.report())
    keep_growing(1000)
    log_growth(watch.report())
    baseline, report = (r.getMessage() for r in caplog.records)
    assert baseline.startswith("memory watch (MB): rss ") and "baseline taken" in baseline
    assert "sqlite " in report and "malloc_free " in report
    assert f"test_memory_watch.py:{GROWING_LINE}" in report.split("since last:")[1]


class Node:
    """An object the garbage collector tracks, so its count shows."""

    def __init__(self):
        self.links = []


def test_without_tracing_growing_object_counts_and_owners_are_still_reported():
    was_tracing = tracemalloc.is_tracing()
    watch = MemoryWatch(frames=0)
    watch.start()
    assert tracemalloc.is_tracing() == was_tracing
    watch.report()
    nodes = [Node() for _ in range(5000)]
    growth = watch.report()
    assert growth.since_start == []
    assert "Node 5000 (+5000)" in growth.objects
    assert growth.memory["python_kblocks"] > 0 and "sqlite" in growth.memory
    del nodes
