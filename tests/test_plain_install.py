"""`make run` installs caremgr without the `scale` extras: no psycopg, no channels-redis, no
Celery's Redis client. Every module the embedded server loads must import without them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each listed module is made unimportable, as when it is not installed.
ABSENT = ["psycopg", "psycopg2", "psycopg_binary", "channels_redis", "redis"]

SCRIPT = f"""
import sys
for name in {ABSENT!r}:
    sys.modules[name] = None
import django
django.setup()
from django.core.management import call_command
call_command("check")  # loads every URLconf, view, admin and model
import caremgr.asgi  # the ASGI application with its WebSocket routes
print("ok")
"""


def test_the_embedded_server_loads_without_the_scale_out_packages():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
        "DJANGO_SETTINGS_MODULE": "caremgr.settings"
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
