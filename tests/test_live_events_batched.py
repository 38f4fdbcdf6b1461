"""Live events of one transaction reach Redis together, as if sent one after another.

A worker filing a batch of deliveries sends hundreds of frames after its commit; the Redis
layer sends them in one pipeline and one script (`group_send_many`), and every channel
must still get exactly the frames of its groups, in the order they were published.
"""

import asyncio

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.redis


def frame(n: int) -> dict:
    return {"type": "inbox.event", "event": {"n": n}}


async def received(layer, channel: str, count: int) -> list[int]:
    got = []
    for _ in range(count):
        message = await asyncio.wait_for(layer.receive(channel), 5)
        got.append(message["event"]["n"])
    return got


async def test_each_channel_gets_the_frames_of_its_groups_in_order(needs_redis):
    layer = get_channel_layer()
    both, team_only, elsewhere = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("supervisors", both)
    await layer.group_add("team.1", both)
    await layer.group_add("team.1", team_only)
    await layer.group_add("team.2", elsewhere)

    frames = [
        ("supervisors", frame(1)),
        ("team.1", frame(2)),
        ("nobody.listens", frame(3)),
        ("supervisors", frame(4)),
        ("team.1", frame(5)),
    ]
    await layer.group_send_many(frames)

    assert await received(layer, both, 4) == [1, 2, 4, 5]
    assert await received(layer, team_only, 2) == [2, 5]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(elsewhere), 0.3)
    await layer.flush()


async def test_the_same_frame_twice_to_one_channel_arrives_twice(needs_redis):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("team.3", channel)
    await layer.group_send_many([("team.3", frame(7)), ("team.3", frame(7))])
    assert await received(layer, channel, 2) == [7, 7]
    await layer.flush()


def test_a_flush_sends_through_the_batch_when_the_layer_has_it(needs_redis):
    """cases.events hands a transaction's frames to `group_send_many` in one call."""
    from asgiref.sync import async_to_sync

    from cases import events

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("team.4", channel)
    flush = events._Flush()
    flush.frames.extend([("team.4", frame(1)), ("team.4", frame(2))])
    flush()
    assert async_to_sync(received)(layer, channel, 2) == [1, 2]
    async_to_sync(layer.flush)()


def test_a_worker_sends_each_flush_through_one_kept_loop(needs_redis, monkeypatch):
    """In a Celery worker every flush used to start an event loop and a Redis connection."""
    from asgiref.sync import async_to_sync

    from caremgr import kept_loop
    from cases import events

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("team.5", channel)
    monkeypatch.setattr(kept_loop, "_enabled", True)
    loops = []
    send_many = layer.group_send_many

    async def noting_the_loop(frames):
        loops.append(asyncio.get_running_loop())
        await send_many(frames)

    monkeypatch.setattr(layer, "group_send_many", noting_the_loop)
    for n in (1, 2):
        flush = events._Flush()
        flush.frames.append(("team.5", frame(n)))
        flush()
    assert len(loops) == 2 and loops[0] is loops[1] and not loops[0].is_closed()
    assert async_to_sync(received)(layer, channel, 2) == [1, 2]
    kept_loop.run_async(layer.flush)  # on the loop that holds the connections
