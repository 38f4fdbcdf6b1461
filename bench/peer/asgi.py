"""The peer's ASGI entry point, served by daphne like caremgr."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
application = get_asgi_application()
