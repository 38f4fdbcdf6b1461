"""Webhook requests answered at the same time store their deliveries together: one INSERT
and one queue push for all, each request answered after its own row committed, with its
own delivery's id; a failed write fails every request of its batch and nothing else."""

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inbox import intake_queue
from inbox.models import Delivery
from inbox.stored_together import Together
from inbox.tasks import drain_intake
from inbox.webhooks import accept_delivery
from tests.conftest import generic_message, hex_signature
from tests.faults import wait_until

WAIT = 10  # seconds a test waits for a thread at most


class Recorder:
    """A write that keeps its batches; it holds the first one until `release` is set."""

    def __init__(self, fail=lambda batch: False):
        self.batches: list[list] = []
        self.written: set = set()
        self.writing = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def __call__(self, batch) -> None:
        if not self.batches:
            self.writing.set()
            assert self.release.wait(WAIT)
        self.batches.append(list(batch))
        if self.fail(batch):
            raise OperationalError(f"could not write {batch}")
        self.written.update(batch)


def test_a_lone_request_is_written_at_once_by_itself():
    write = Recorder()
    write.release.set()
    together = Together(write)

    together.store("a")

    assert write.batches == [["a"]]
    assert together.waiting() == 0


def test_requests_arriving_during_a_write_are_written_together_in_the_next():
    write = Recorder()
    together = Together(write)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(together.store, "first")
        assert write.writing.wait(WAIT)
        later = [pool.submit(together.store, n) for n in range(5)]
        wait_until(lambda: together.waiting() == 5, seconds=WAIT, what="five waiting")
        assert not any(f.done() for f in [first, *later])  # nobody answered before the commit
        write.release.set()
        for future in [first, *later]:
            future.result(WAIT)

    assert write.batches[0] == ["first"]
    assert sorted(write.batches[1]) == [0, 1, 2, 3, 4]
    assert len(write.batches) == 2


def test_a_batch_holds_at_most_its_limit_and_the_rest_follows():
    write = Recorder()
    together = Together(write, most=2)
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(together.store, "first")]
        assert write.writing.wait(WAIT)
        futures += [pool.submit(together.store, n) for n in range(5)]
        wait_until(lambda: together.waiting() == 5, seconds=WAIT, what="five waiting")
        write.release.set()
        for future in futures:
            future.result(WAIT)

    assert [len(batch) for batch in write.batches] == [1, 2, 2, 1]
    assert sorted(item for batch in write.batches[1:] for item in batch) == [0, 1, 2, 3, 4]


def test_a_failed_write_fails_every_request_of_its_batch_and_the_next_is_written():
    write = Recorder(fail=lambda batch: "bad" in batch)
    together = Together(write)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(together.store, "first")
        assert write.writing.wait(WAIT)
        doomed = [pool.submit(together.store, item) for item in ("bad", "x", "y")]
        wait_until(lambda: together.waiting() == 3, seconds=WAIT, what="three waiting")
        write.release.set()
        first.result(WAIT)
        errors = [future.exception(WAIT) for future in doomed]

    assert all(isinstance(error, OperationalError) for error in errors)
    assert {str(error) for error in errors} == {str(errors[0])}
    assert len({id(error) for error in errors}) == 3  # each request raises its own copy
    together.store("after")
    assert write.written == {"first", "after"}


@hypothesis_settings(max_examples=25, deadline=None)
@given(
    callers=st.integers(min_value=1, max_value=12),
    most=st.integers(min_value=1, max_value=5),
    failing=st.sets(st.integers(min_value=0, max_value=11), max_size=3),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_every_item_is_written_once_and_its_caller_answered_after(callers, most, failing, seed):
    jitter = random.Random(seed)
    written: set[int] = set()
    batches: list[list[int]] = []
    lock = threading.Lock()

    def write(batch) -> None:
        time.sleep(jitter.random() / 1000)
        with lock:
            batches.append(list(batch))
            if failing & set(batch):
                raise OperationalError("down")
            written.update(batch)

    together = Together(write, most=most)

    def call(item: int) -> str:
        time.sleep(jitter.random() / 1000)
        try:
            together.store(item)
        except OperationalError:
            return "failed"
        with lock:
            assert item in written  # answered only once its row was written
        return "stored"

    with ThreadPoolExecutor(callers) as pool:
        outcomes = list(pool.map(call, range(callers)))

    items = [item for batch in batches for item in batch]
    assert sorted(items) == list(range(callers))  # each once
    assert all(1 <= len(batch) <= most for batch in batches)
    failed_batches = [set(batch) for batch in batches if failing & set(batch)]
    for item, outcome in enumerate(outcomes):
        assert (outcome == "failed") == any(item in batch for batch in failed_batches)
    assert together.waiting() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_webhooks_are_each_stored_once_and_queued_once(
    account, needs_postgres, needs_redis, settings
):
    settings.CAREMGR_TASKS_INLINE = False
    settings.CELERY_BROKER_URL = settings.REDIS_URL
    intake_queue.client().delete(*intake_queue.keys())
    start = threading.Barrier(8)

    def post(n: int):
        item = generic_message(f"burst-{n}", f"Order {n} is late", author={"id": f"c{n}"})
        body = json.dumps([item]).encode()
        headers = {"X-Caremgr-Signature": hex_signature(account.secret, body)}
        start.wait(WAIT)
        try:
            return accept_delivery("generic", account.slug, body, headers, "application/json")
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))

    assert [answer.status_code for answer in answers] == [200] * 8
    ids = [json.loads(answer.content)["delivery"] for answer in answers]
    assert len(set(ids)) == 8
    assert set(Delivery.objects.filter(status="received").values_list("pk", flat=True)) == set(ids)
    queued = [int(value) for value in intake_queue.client().lrange(intake_queue.keys()[0], 0, -1)]
    assert sorted(queued) == sorted(ids)

    assert drain_intake(limit=50) == 8
    assert set(Delivery.objects.values_list("status", flat=True)) == {"processed"}
