"""The Redis channel layer, with a receive that always ends once its socket has closed, and
a send of many frames to many groups in a few round trips.

A closing WebSocket cancels its consumer's pending `receive`. When that cancellation lands
just as Redis answers the receive's blocking pop, the read under redis-py's socket timeout
can let it go unnoticed (Python 3.11; about 3 in 100 such cancels on this machine), and
channels_redis then pops again, empty every few seconds, for ever: a task and a
connection kept per closed socket, and an event loop that never finishes closing.

The task still knows it was asked to stop (`Task.cancelling()`), so after each pop this
layer checks and ends the receive then. Nothing is lost: a message popped in that instant
stays in channels_redis's backup queue, as for any cancelled receive.
"""

import asyncio
import logging
import time
from collections import defaultdict

from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer

log = logging.getLogger(__name__)

# Every frame to a channel: expired frames dropped, added when the channel has room, the
# channel's expiry renewed. KEYS[i] gets ARGV[i] scored ARGV[2n + i] if it holds fewer
# than ARGV[n + i]; ARGV[3n + 1] is the expiry, ARGV[3n + 2] the oldest score kept.
SEND_MANY = """
local n = #KEYS
local expiry = ARGV[3 * n + 1]
local oldest = ARGV[3 * n + 2]
local over_capacity = 0
for i = 1, n do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, oldest)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[n + i]) then
        redis.call('ZADD', KEYS[i], ARGV[2 * n + i], ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


class RedisChannelLayer(BaseRedisChannelLayer):
    async def _brpop_with_clean(self, index, channel, timeout):
        member = await super()._brpop_with_clean(index, channel, timeout)
        task = asyncio.current_task()
        if member is None and task is not None and task.cancelling():
            raise asyncio.CancelledError
        return member

    async def group_send_many(self, frames: list[tuple[str, dict]]) -> None:
        """`group_send` of each (group, message) in turn, in two round trips per Redis.

        channels_redis spends two round trips per group_send even on a group nobody
        listens to, and a worker filing a hundred deliveries sends several hundred frames.
        Here the members of every group are read in one pipeline, and every frame goes to
        its channels in one script. A channel gets its frames in the order given, as from
        one group_send after another (each frame scored a microsecond after the one
        before it).
        """
        members: dict[str, list[str]] = {}
        by_shard: dict[int, list[str]] = defaultdict(list)
        for group in dict.fromkeys(group for group, _ in frames):
            assert self.require_valid_group_name(group), "Group name not valid"
            by_shard[self.consistent_hash(group)].append(group)
        cutoff = int(time.time()) - self.group_expiry
        for index, groups in by_shard.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for group in groups:
                pipe.zremrangebyscore(self._group_key(group), min=0, max=cutoff)
                pipe.zrange(self._group_key(group), 0, -1)
            replies = await pipe.execute()
            for group, names in zip(groups, replies[1::2], strict=True):
                members[group] = [name.decode("utf8") for name in names]

        pushes: dict[int, list[tuple[bytes, bytes, int]]] = defaultdict(list)
        for group, message in frames:
            if not members[group]:
                continue
            keys, messages, capacities = self._map_channel_keys_to_connection(
                members[group], message
            )
            for index, channel_keys in keys.items():
                pushes[index].extend((k, messages[k], capacities[k]) for k in channel_keys)
        now = time.time()
        for index, items in pushes.items():
            keys = [key for key, _, _ in items]
            args = [message for _, message, _ in items]
            args += [capacity for _, _, capacity in items]
            args += [now + n * 1e-6 for n in range(len(items))]
            args += [self.expiry, int(now) - int(self.expiry)]
            over = await self.connection(index).eval(SEND_MANY, len(keys), *keys, *args)
            if over:
                log.info("%s of %s frames over channel capacity", over, len(items))
