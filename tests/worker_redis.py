"""Each xdist worker gets a Redis database of its own, before Django reads its settings.

The workers share one Redis server. In one database, a worker's live groups (named by
team and user ids that both workers' test databases reuse), its intake queue and its
Celery broker would carry the other worker's events and deliveries into its tests. Loaded
with `-p` (see pyproject.toml), so it runs before pytest-django configures Django; the
servers and workers the tests start inherit the changed `REDIS_URL`.
"""

import os
import re
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16


def worker_redis_url(url: str, worker: str) -> str:
    """`url` moved to the database `worker` (gw0, gw1, …) owns: the given one plus its index."""
    index = int(re.sub(r"\D", "", worker) or 0)
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + index) % REDIS_DATABASES}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
