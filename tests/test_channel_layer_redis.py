"""The Redis channel layer as configured: a quiet live socket survives a busy server.

A socket's consumer waits for frames with a blocking pop that Redis answers empty after a
few seconds. If the client's read timeout is no longer than that pop, a server busy at that
moment (other sockets, a slow handler) times the read out, the consumer dies and the
browser's socket closes with 1011; the soak run found it under load.

A socket that closes cancels that receive. Cancelled just as Redis answered the pop, a
receive must still end: channels_redis's own could miss the cancellation and pop for
ever, which hung the event loop that closed it (`caremgr/channel_layer.py`).
"""

import asyncio
import random
import time

import pytest
from channels.layers import get_channel_layer

pytestmark = pytest.mark.redis


async def test_a_quiet_socket_gets_its_frame_after_the_server_was_busy_as_redis_answered(
    needs_redis,
):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(layer.brpop_timeout - 0.3)
    time.sleep(0.8)  # the event loop is busy just when Redis answers the empty pop
    await layer.send(channel, {"type": "inbox.event", "event": {"type": "ping"}})
    message = await asyncio.wait_for(receiving, 15)
    assert message["event"] == {"type": "ping"}
    await layer.flush()


async def test_a_receive_cancelled_as_redis_answers_the_pop_always_ends(needs_redis):
    layer = get_channel_layer()
    layer.brpop_timeout = 0.1  # Redis answers the empty pop ten times a second
    rng = random.Random(7)
    stuck = 0
    for _ in range(200):
        receiving = asyncio.ensure_future(layer.receive(await layer.new_channel()))
        await asyncio.sleep(rng.uniform(0.07, 0.15))
        receiving.cancel()
        done, _ = await asyncio.wait([receiving], timeout=2)
        stuck += not done
    await layer.flush()
    assert stuck == 0, f"{stuck} of 200 cancelled receives never ended"
