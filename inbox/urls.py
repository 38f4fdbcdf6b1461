from django.urls import path

from inbox.webhooks import webhook

urlpatterns = [
    path(
        "webhooks/<str:platform>/<slug:slug>/",
        webhook,
        name="webhook",
    ),
]
