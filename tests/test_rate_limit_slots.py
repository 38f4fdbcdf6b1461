"""A large limit on Redis is taken from the shared count in slots, and still holds.

A webhook account's limit is thousands a minute; counting each delivery is a Redis round
trip per request. A process takes a thousandth of the limit at a time and spends it
locally: the limit is exact in one process, other processes' slots only move refusals a
little earlier, and the first refusal of a window is still marked as the first.
"""

import time

import pytest
from django.core.cache import caches

from security import rate_limit

pytestmark = pytest.mark.usefixtures("needs_redis")


@pytest.fixture(autouse=True)
def _no_kept_slots():
    rate_limit._slots.clear()
    yield
    rate_limit._slots.clear()


def count_in_redis(ident: str, rate) -> int:
    key, _ = rate_limit._key("webhook", ident, rate, time.time())
    return int(caches["default"].get(key, 0))


def test_one_process_gets_exactly_the_limit_and_one_first_refusal():
    rate = (4000, 600)  # slots of 4
    verdicts = [rate_limit.hit("webhook", "acct-slots", rate) for _ in range(4003)]
    assert verdicts[:4000] == [None] * 4000
    refusals = verdicts[4000:]
    assert all(r is not None and r.retry_after >= 1 for r in refusals)
    assert [r.is_first for r in refusals] == [True, False, False]


def test_slots_are_taken_a_share_at_a_time():
    rate = (5000, 600)  # slots of 5
    for _ in range(7):
        assert rate_limit.hit("webhook", "acct-share", rate) is None
    assert count_in_redis("acct-share", rate) == 10  # two reservations for seven events


def test_slots_another_process_took_count_against_this_one():
    rate = (3000, 600)  # slots of 3
    key, _ = rate_limit._key("webhook", "acct-other", rate, time.time())
    caches["default"].set(key, 2997, 600)  # another process took all but three
    assert [rate_limit.hit("webhook", "acct-other", rate) for _ in range(3)] == [None] * 3
    first = rate_limit.hit("webhook", "acct-other", rate)
    assert first is not None and first.is_first
    assert not rate_limit.hit("webhook", "acct-other", rate).is_first


def test_a_small_limit_is_counted_event_by_event():
    rate = (1999, 600)
    rate_limit.hit("webhook", "acct-small", rate)
    assert count_in_redis("acct-small", rate) == 1
    assert rate_limit._slots == {}
