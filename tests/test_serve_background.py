"""The background loop of `manage.py serve` sends live events from one thread, not one each,
and a server that stops lets the pass under way finish first."""

import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from cases import events
from cases.management.commands.serve import background_loop, stop_beside_server

pytestmark = pytest.mark.django_db(transaction=True)

PASSES = 40


def test_live_events_of_many_passes_arrive_and_start_no_thread_per_pass(monkeypatch, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.SUPERVISORS, channel)

    started = []
    real_start = threading.Thread.start

    def counting_start(thread):
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    stop, passes = threading.Event(), []

    def work():  # a pass that publishes, as the SLA monitor and the outbox do
        passes.append(len(passes))
        events.publish([events.SUPERVISORS], {"type": "sla.warning", "pass": passes[-1]})
        if len(passes) == PASSES:
            stop.set()

    loop = threading.Thread(target=background_loop, args=(stop, 0.0, work))
    real_start(loop)
    loop.join(timeout=60)
    assert not loop.is_alive()
    threads_of_the_loop = list(started)

    received = [async_to_sync(layer.receive)(channel)["event"]["pass"] for _ in range(PASSES)]
    assert received == list(range(PASSES))
    assert len(threads_of_the_loop) <= 1, f"{threads_of_the_loop} started for {PASSES} passes"


def test_a_stopping_server_lets_the_pass_under_way_finish():
    stop, began, done = threading.Event(), threading.Event(), []

    def work():  # a pass still sending when the server is told to stop
        began.set()
        time.sleep(0.3)
        events.publish([events.SUPERVISORS], {"type": "sla.warning"})
        done.append("finished")

    loop = threading.Thread(target=background_loop, args=(stop, 0.0, work), daemon=True)
    loop.start()
    assert began.wait(10)

    stop_beside_server(stop, [loop], timeout=30)

    assert done == ["finished"]  # the pass ended before stopping returned, not after it
    assert not loop.is_alive()
