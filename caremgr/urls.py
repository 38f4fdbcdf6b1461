"""URL map of caremgr."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from security.login_limit import login_rate_limited

urlpatterns = [
    path("", include("inbox.urls")),
    path("", include("cases.urls")),
    # Sign-in pages answer 429 to a username and address with too many failures.
    path("accounts/login/", login_rate_limited(auth_views.LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/login/", login_rate_limited(admin.site.login)),
    path("admin/", admin.site.urls),
]
