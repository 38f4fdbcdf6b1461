"""A worker process runs its calls into async code on one event loop, kept, and a forked
child starts its own."""

import asyncio

from caremgr import kept_loop


async def running_loop():
    return asyncio.get_running_loop()


def test_calls_share_one_loop_that_stays_open_and_a_fork_gets_its_own(monkeypatch):
    monkeypatch.setattr(kept_loop, "_enabled", True)
    monkeypatch.setattr(kept_loop, "_loop", None)
    first, second = kept_loop.run_async(running_loop), kept_loop.run_async(running_loop)
    assert first is second and first.is_running()

    monkeypatch.setattr(kept_loop.os, "getpid", lambda: -1)  # as in a forked child
    assert kept_loop.run_async(running_loop) is not first


def test_without_a_kept_loop_each_call_is_async_to_sync(monkeypatch):
    monkeypatch.setattr(kept_loop, "_enabled", False)
    assert kept_loop.run_async(running_loop) is not kept_loop.run_async(running_loop)
