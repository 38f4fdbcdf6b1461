"""ASGI entry point: HTTP through Django, WebSocket through the Channels router."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator

from caremgr.request_threads import get_asgi_application

django_asgi_app = get_asgi_application()

from inbox.handoff import prepare  # noqa: E402

prepare()  # ready before the first delivery (filed here when inline) and the first reply

from caremgr.routing import websocket_urlpatterns  # noqa: E402
from inbox.webhook_asgi import WebhookFastPath  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Webhook POSTs take a short way past Django's request cycle (inbox.webhook_asgi).
        "http": WebhookFastPath(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

from caremgr.preload import load_and_freeze  # noqa: E402

load_and_freeze()  # under any ASGI server, before the first request
