"""caremgr: a self-hosted social-media customer care case manager."""

from caremgr.celery import app as celery_app

__all__ = ["celery_app"]
