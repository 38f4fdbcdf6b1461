"""`serve`: the embedded single-process setup of `make run`.

Daphne serves HTTP and WebSocket; beside it, a background thread runs the SLA monitor and
drains the outbox, so nothing needs a second terminal. The scale-out path runs daphne (or
uvicorn) processes, Celery workers and Celery beat instead.
"""

import logging
import threading
import time
from collections.abc import Callable

from asgiref.sync import AsyncSingleThreadContext
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

# How long a stopping server waits for the background pass under way to finish.
FINISH_PASS_SECONDS = 10.0


def background_pass() -> None:
    """One pass of the SLA monitor, the waiting cases' priority, the outbox and recovery."""
    from cases import monitor, waiting
    from inbox.outbound.outbox import drain_outbox
    from inbox.recovery import redeliver_stale

    close_old_connections()
    monitor.tick()
    waiting.tick()
    drain_outbox()
    redeliver_stale()


def background_loop(
    stop: threading.Event, interval: float, work: Callable[[], None] = background_pass
) -> None:
    """`work` every `interval` seconds until `stop` is set.

    Live events sent from here cross into async code with `async_to_sync`; outside a server
    thread that starts a thread of its own for each call, thousands an hour, and the memory
    they free stays with glibc as fragments. One thread for the loop's lifetime does it all.
    """
    with AsyncSingleThreadContext():
        while not stop.is_set():
            try:
                work()
            except Exception:  # keep serving; the next pass tries again
                log.exception("background pass failed")
            finally:
                close_old_connections()
            stop.wait(interval)


def load_before_serving() -> None:
    """Load the application, its URLs and views before the first request, and leave what is
    loaded out of the collector's full passes (`caremgr.preload`)."""
    from caremgr.preload import load_and_freeze

    import_string(settings.ASGI_APPLICATION)
    load_and_freeze()


def start_beside_server(
    stop: threading.Event, *, background: bool, interval: float
) -> list[threading.Thread]:
    """The threads that run beside daphne until `stop` is set: the background loop (inline
    mode), the release of freed heap memory and, when asked for, the memory watch. The C
    heap is made to keep less first, while no thread but this one allocates."""
    from caremgr.heap_release import keep_heap_compact, release_in_background

    keep_heap_compact()
    threads = [release_in_background(settings.CAREMGR_HEAP_RELEASE_SECONDS, stop)]
    if settings.CAREMGR_MEMORY_WATCH_SECONDS > 0:
        from caremgr.memory_watch import watch_in_background

        threads.append(
            watch_in_background(
                settings.CAREMGR_MEMORY_WATCH_SECONDS, settings.CAREMGR_MEMORY_WATCH_FRAMES, stop
            )
        )
    if background and settings.CAREMGR_TASKS_INLINE:
        threads.append(
            threading.Thread(
                target=background_loop,
                args=(stop, interval),
                name="caremgr-background",
                daemon=True,
            )
        )
        threads[-1].start()
    return [thread for thread in threads if thread is not None]


def stop_beside_server(
    stop: threading.Event, threads: list[threading.Thread], timeout: float = FINISH_PASS_SECONDS
) -> None:
    """Stop the threads beside the server, letting a pass under way finish while the
    interpreter is still whole. Left to die with it, a pass that was sending the outbox
    when the server stopped met a closing interpreter halfway: its live events refused,
    a traceback for each in the log."""
    stop.set()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.warning("%s still running after %.0f s; stopping without it", thread.name, timeout)


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket with daphne, with the SLA monitor and outbox beside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument(
            "--no-background", action="store_true", help="without the SLA monitor/outbox thread"
        )

    def handle(self, *args, host: str, port: int, interval: float, no_background: bool, **opts):
        from daphne.cli import CommandLineInterface

        load_before_serving()
        stop = threading.Event()
        threads = start_beside_server(stop, background=not no_background, interval=interval)
        self.stdout.write(f"caremgr on http://{host}:{port}/  (Ctrl-C stops)")
        started = time.monotonic()
        try:
            CommandLineInterface().run(
                [
                    "--bind",
                    host,
                    "--port",
                    str(port),
                    "--proxy-headers",
                    settings.ASGI_APPLICATION.replace(".application", ":application"),
                ]
            )
        finally:
            stop_beside_server(stop, threads)
            log.info("stopped after %.0f s", time.monotonic() - started)
