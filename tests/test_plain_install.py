"""`make run` installs caremgr without the `scale` extras: no psycopg, no channels-redis, no
Celery's Redis client. Every module the embedded server loads, and every management command
a user of it runs, must import without them."""

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
# What the embedded install really lacks (Celery's Redis client comes with Celery), and the
# one module that needs it, loaded only with REDIS_URL set.
NOT_INSTALLED = ["psycopg", "psycopg2", "psycopg_binary", "channels_redis"]
SCALE_OUT_ONLY = ["caremgr.channel_layer"]
EVERY_MODULE = f"""
import importlib, pkgutil, sys
for name in {NOT_INSTALLED!r}:
    sys.modules[name] = None
import django
django.setup()
for package in ("caremgr", "inbox", "cases", "sentiment"):
    for found in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if ".migrations" not in found.name and found.name not in {SCALE_OUT_ONLY!r}:
            importlib.import_module(found.name)  # the commands too: import_messages, demo, …
print("ok")
"""


def run_without_scale_out(script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")} | {
        "DJANGO_SETTINGS_MODULE": "caremgr.settings"
    }
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_embedded_server_loads_without_the_scale_out_packages():
    done = run_without_scale_out(SCRIPT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_every_module_and_command_imports_without_the_scale_out_packages():
    done = run_without_scale_out(EVERY_MODULE)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
