"""Report what a stuck test's event loops are waiting on.

pytest-timeout prints every thread's stack, which for an async test only shows the loop
sitting in `select`. Shortly before it fires, this plugin prints each pending asyncio task
with the line it is suspended at, so a hang names the coroutine that caused it.
"""

import asyncio
import sys
import threading

import pytest

# Seconds into one test (setup, call and teardown) at which the tasks are printed.
REPORT_AFTER = 180


def _print_pending_tasks(nodeid: str) -> None:
    tasks = [task for task in list(asyncio.tasks._all_tasks) if not task.done()]
    out = sys.__stderr__
    print(f"\n== {nodeid}: {len(tasks)} pending asyncio task(s) after {REPORT_AFTER}s", file=out)
    for task in tasks:
        print(f"-- {task!r}", file=out)
        task.print_stack(limit=20, file=out)
    out.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    timer = threading.Timer(REPORT_AFTER, _print_pending_tasks, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
