"""Peer-side steps of bench/peer_helpdesk.py, run with the peer virtualenv's Python.

    python -m peer.tools prepare   # staff user, API token, session, the queue: JSON out
    python -m peer.tools count     # tickets and follow-ups stored: JSON out
    python -m peer.tools probe N   # queries and time of N API creations and one list, in-process

The database comes from PEER_DATABASE_URL (see peer/settings.py), already migrated.
"""

import cProfile
import json
import os
import pstats
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from helpdesk.models import FollowUp, Queue, Ticket  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

USERNAME = "peer-supervisor"
AREAS = [  # where a ticket's time goes: (label, path parts), first match wins
    ("helpdesk forms, models, mail", ["/helpdesk/"]),
    ("database driver", ["sqlite", "psycopg"]),
    ("Django ORM (django/db)", ["/django/db/"]),
    ("Django templates (mail bodies)", ["/django/template/"]),
    ("DRF", ["/rest_framework/"]),
    ("Django, other (forms, request, mail)", ["/django/"]),
    ("builtins and stdlib", [""]),
]
ROWS_ON_PAGE = 100  # caremgr's inbox shows 100 rows; the staff list is set to the same


def prepare() -> dict:
    """A superuser (helpdesk's API is for staff only), its token and a logged-in session."""
    user = get_user_model().objects.create_superuser(
        USERNAME, "supervisor@example.invalid", "peer-pass-1"
    )
    settings = user.usersettings_helpdesk
    settings.tickets_per_page = ROWS_ON_PAGE
    settings.save()
    queue = Queue.objects.create(title="Social media", slug="social")
    client = Client()
    client.force_login(user)
    return {
        "token": Token.objects.create(user=user).key,
        "session": client.cookies["sessionid"].value,
        "queue": queue.pk,
    }


def count() -> dict:
    return {"tickets": Ticket.objects.count(), "followups": FollowUp.objects.count()}


def probe(number: int) -> dict:
    """Queries and in-process time per ticket created through the API, and of one list."""
    user = get_user_model().objects.get(username=USERNAME)
    token = Token.objects.get(user=user).key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")
    queue = Queue.objects.get(slug="social").pk
    profiler = cProfile.Profile()
    queries, began = 0, time.perf_counter()
    for n in range(number):
        body = {
            "queue": queue,
            "title": f"probe {n}",
            "description": "My order still hasn't arrived, where is it?",
            "submitter_email": f"probe{n}@customers.invalid",
            "priority": 3,
        }
        with CaptureQueriesContext(connection) as captured:
            profiler.enable()
            answer = client.post("/api/tickets/", body, content_type="application/json")
            profiler.disable()
        assert answer.status_code == 201, answer.content
        queries += len(captured)
    elapsed = time.perf_counter() - began
    areas = dict.fromkeys((label for label, _ in AREAS), 0.0)
    for (path, _, name), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():
        areas[
            next(label for label, parts in AREAS if any(p in (path + name).lower() for p in parts))
        ] += own
    total = sum(areas.values())
    with CaptureQueriesContext(connection) as listed:
        assert client.get("/api/tickets/").status_code == 200
    return {
        "queries_per_ticket": queries / number,
        "ms_per_ticket": elapsed / number * 1000,
        "list_queries": len(listed),
        "areas": {label: round(own / total * 100, 1) for label, own in areas.items()},
    }


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "prepare":
        result = prepare()
    elif command == "count":
        result = count()
    elif command == "probe":
        result = probe(int(sys.argv[2]))
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))
