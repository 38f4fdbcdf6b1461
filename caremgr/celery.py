"""Celery app for the scale-out path; with no REDIS_URL tasks run inline."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")

app = Celery("caremgr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
