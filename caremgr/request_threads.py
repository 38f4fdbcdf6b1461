"""Django's ASGI handler, keeping its request threads, and their database connections,
from one request to the next.

Django runs the sync part of each ASGI request (middleware, view) in a thread made for that
request and ended after it. Database connections belong to their thread, so every request
opened a new PostgreSQL connection, and PostgreSQL started a new backend that loaded its
catalog caches again before the first query: CONN_MAX_AGE never applied. Here a request
borrows a thread an earlier request used, with its open connection; requests served at the
same time still each have a thread of their own, as before.
"""

import inspect
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

# Idle threads kept per process, each holding at most one connection per database.
IDLE_THREADS = 8


class ReusedThreadsASGIHandler(ASGIHandler):
    """`ASGIHandler` with a pool of single-thread executors instead of one per request.

    A view still running when its client went away keeps its thread until it ends; a
    request that borrows that thread meanwhile waits for it, one after the other on the
    thread's connection, never at the same time.
    """

    def __init__(self, idle_threads: int = IDLE_THREADS):
        super().__init__()
        self.idle_threads = idle_threads
        self._idle: list[ThreadPoolExecutor] = []  # touched only in the event loop

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else self._new_thread()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        except BaseException:
            self._retire(executor)
            raise
        if len(self._idle) < self.idle_threads:
            self._idle.append(executor)
        else:
            self._retire(executor)

    def load_middleware(self, is_async=False):
        """The middleware and view as one sync chain, entered with one thread hop.

        Django's own ASGI chain runs each sync-capable middleware in async mode, hopping to
        the request thread and back for every `process_request` and `process_response`:
        about twenty hops a request. Our middleware and views are all sync, so they run in
        the thread one after the other, as under WSGI.
        """
        super().load_middleware(is_async=False)
        self._middleware_chain = self.adapt_method_mode(True, self._middleware_chain, False)

    def close(self) -> None:
        """End the idle threads and close their connections (tests; a stopping server)."""
        while self._idle:
            executor = self._idle.pop()
            executor.submit(connections.close_all)
            executor.shutdown(wait=True)

    @staticmethod
    def _new_thread() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    @staticmethod
    def _retire(executor: ThreadPoolExecutor) -> None:
        """End the thread after closing its connections, once its work is done."""
        executor.submit(connections.close_all)
        executor.shutdown(wait=False)


def get_asgi_application() -> ASGIHandler:
    """`django.core.asgi.get_asgi_application` with the reused request threads; Django's
    own handler under an older asgiref, whose contexts cannot be given their executor."""
    import django

    django.setup(set_prefix=False)
    if "executor" not in inspect.signature(ThreadSensitiveContext).parameters:
        return ASGIHandler()
    return ReusedThreadsASGIHandler()
