"""Celery app for the scale-out path; with no REDIS_URL tasks run inline."""

import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")

app = Celery("caremgr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def ready_for_deliveries(**kwargs) -> None:
    """The intake's handlers and the sentiment engine built before the first task (and,
    in a prefork pool, before the children fork, which inherit them). What is loaded by
    then lasts the worker's life: the collector's full passes leave it alone, as the
    server's do (`serve`)."""
    from inbox.handoff import prepare

    prepare()
    gc.freeze()


@worker_init.connect
@worker_process_init.connect
def keep_an_event_loop(**kwargs) -> None:
    """Live events from a worker go out on one kept loop (see caremgr.kept_loop)."""
    from caremgr.kept_loop import keep_loop

    keep_loop()


@task_prerun.connect
@task_postrun.connect
def keep_database_connections(sender=None, **kwargs) -> None:
    """Database connections kept between tasks as Django keeps them between requests.

    Celery's Django fixup closes them before and after every task, so each intake batch
    started a new PostgreSQL backend (a process, its catalog caches filled again), and the
    production comparison filed a sixth fewer messages a second for it. Its own count is
    put out of reach in settings (`CELERY_DB_REUSE_MAX`); here a connection is closed when
    it saw an error it did not survive or outlived CONN_MAX_AGE, and checked before its
    next query. A task run eagerly runs inside its caller's request, whose connection is
    not the task's to close.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
