"""Report what a stuck test's event loops are waiting on.

pytest-timeout prints every thread's stack, which for an async test only shows the loop
sitting in `select`. Shortly before it fires, this plugin prints each pending asyncio task
with the line it is suspended at, so a hang names the coroutine that caused it.
"""

import asyncio
import io
import os
import threading

import pytest

# Share of the test's timeout (setup, call and teardown) after which the tasks are printed.
REPORT_AT = 0.75


def _print_pending_tasks(nodeid: str, after: float) -> None:
    tasks = [task for task in list(asyncio.tasks._all_tasks) if not task.done()]
    out = io.StringIO()
    print(f"\n== {nodeid}: {len(tasks)} pending asyncio task(s) after {after:.0f}s", file=out)
    for task in tasks:
        state = "cancelling" if task.cancelling() else "pending"
        print(f"-- {task.get_name()} ({state})", file=out)
        for line in _awaiting(task.get_coro()):
            print(f"   {line}", file=out)
    # Straight to the process's stderr: under xdist, sys.stderr is captured per test.
    os.write(2, out.getvalue().encode(errors="replace"))


def _awaiting(coro) -> list[str]:
    """The chain of coroutines a task is suspended in, outermost first, down to what it
    waits on (a task's own stack shows only its outermost coroutine)."""
    lines = []
    while coro is not None and len(lines) < 40:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            lines.append(repr(coro)[:300])
            break
        lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return lines


def _timeout_of(item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker and marker.args:
        return float(marker.args[0])
    given = item.config.getoption("timeout", None)
    return float(given if given is not None else item.config.getini("timeout") or 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    timeout = _timeout_of(item)
    if not timeout:
        yield
        return
    after = timeout * REPORT_AT
    timer = threading.Timer(after, _print_pending_tasks, args=(item.nodeid, after))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
