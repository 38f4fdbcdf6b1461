"""`manage.py serve` loads the application before the first request, and the collector's
full passes leave what it loaded alone: a pass no longer stalls the request that sets it off
for as long as walking every loaded object takes."""

import gc
import time

from cases.management.commands.serve import load_before_serving


def full_collection_seconds() -> float:
    began = time.perf_counter()
    gc.collect()
    return time.perf_counter() - began


def test_a_full_collection_skips_what_was_loaded_before_serving():
    gc.unfreeze()  # as a fresh process is: importing caremgr.asgi here froze the heap already
    gc.collect()
    loaded = full_collection_seconds()
    try:
        load_before_serving()
        assert gc.get_freeze_count() > 10_000
        assert full_collection_seconds() < loaded / 5
    finally:
        gc.unfreeze()
