"""A webhook that cannot reach the database answers 503 with Retry-After.

Platforms retry a delivery that failed with a 5xx (Meta, X and Telegram all do), so while
the database is down or locked the message stays with the platform and comes back later;
a 500 HTML page would say the same less clearly, and some platforms stop retrying an
endpoint that keeps failing with errors they cannot read. A retried copy is stored once.
"""

import logging
from collections.abc import Callable
from functools import wraps

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
# What a lost connection, a refused login or a locked SQLite file raise.
DATABASE_DOWN = (OperationalError, InterfaceError)


def database_unavailable(where: str, exc: Exception) -> JsonResponse:
    """The 503 a webhook answers while the database cannot be reached."""
    log.warning("webhook %s: database unavailable: %s", where, exc)
    response = JsonResponse(
        {"error": "database unavailable, send this delivery again later"}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_while_database_is_down(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    @wraps(view)
    def answer(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DATABASE_DOWN as exc:
            return database_unavailable(request.path, exc)

    return answer
