"""Celery app for the scale-out path; with no REDIS_URL tasks run inline."""

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")

app = Celery("caremgr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def keep_an_event_loop(**kwargs) -> None:
    """Live events from a worker go out on one kept loop (see caremgr.kept_loop)."""
    from caremgr.kept_loop import keep_loop

    keep_loop()
