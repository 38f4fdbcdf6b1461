"""URL map of caremgr."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("inbox.urls")),
    path("", include("cases.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
]
