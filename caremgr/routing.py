"""WebSocket routes."""

from django.urls import path

from cases.consumers import InboxConsumer

websocket_urlpatterns = [path("ws/inbox/", InboxConsumer.as_asgi())]
