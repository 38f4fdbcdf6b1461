"""A process about to take deliveries or replies builds the sentiment engine before the
first one: cold, the first webhook a server filed inline (or the first reply an agent sent
through a scale-out web process) paid for TextBlob's import, the lexicons and the language
detector, and the first German message for its lexicon again.

Each check runs in a fresh interpreter (this one has built everything long ago): after the
process started the way a server or a Celery worker starts, scoring English and German
must not build anything more, nor import a connector.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK_NOTHING_LEFT_TO_BUILD = """
import sentiment.lexicon as lexicon

def refuse(key):
    raise AssertionError(f"the {key} lexicon was built on the first message")

lexicon._build = refuse
from sentiment import analyze
assert analyze("Meine Bestellung ist zu spät, ich will mein Geld zurück").language == "de"
assert analyze("my order is late and nobody answers").label == "negative"
import sys
connectors = {f"inbox.connectors.{name}" for name in ("meta", "x", "telegram", "generic")}
assert connectors <= set(sys.modules), "a connector is imported on its first delivery"
print("warm")
"""


def run(start: str, check: str = CHECK_NOTHING_LEFT_TO_BUILD, **env: str):
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "caremgr.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", start + check],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("inline", ["1", "0"], ids=["filing-inline", "scale-out-web"])
def test_a_server_is_warm_before_its_first_request(inline):
    """Filing inline, its first delivery; on the scale-out path, an agent's first reply,
    which is scored too (240-350 ms more before, against 11-16 ms for the next)."""
    done = run("import caremgr.asgi\n", CAREMGR_TASKS_INLINE=inline)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "warm"


def test_a_celery_worker_is_warm_before_its_first_task():
    done = run(
        "import django\n"
        "django.setup()\n"
        "from caremgr.celery import ready_for_deliveries\n"
        "ready_for_deliveries()\n"
        "import gc\n"
        "assert gc.get_freeze_count() > 10_000  # full passes skip what lasts the worker's life\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "warm"


def test_the_check_fails_in_a_cold_process():
    done = run("import django\ndjango.setup()\n")
    assert done.returncode != 0
    assert "lexicon was built on the first message" in done.stderr


def test_a_web_process_of_the_scale_out_path_freezes_what_it_loaded():
    """uvicorn's processes import caremgr.asgi: every view loaded and frozen before the
    first request, so no full pass over them holds up the requests under load."""
    done = run(
        "import caremgr.asgi\n",
        "import gc, sys\n"
        "assert gc.get_freeze_count() > 10_000\n"
        "assert {'cases.views', 'cases.api.views', 'inbox.webhooks'} <= set(sys.modules)\n"
        "print('frozen')\n",
        CAREMGR_TASKS_INLINE="0",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "frozen"
