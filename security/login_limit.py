"""Sign-in attempts are limited per username and address: after CAREMGR_LOGIN_RATE_LIMIT
failures (5 in 15 minutes by default) that pair is refused until the window ends, with 429
and Retry-After. A successful sign-in is never slowed and clears the failures.

The authentication backend counts (it is the one place every sign-in path passes); the view
wrapper answers 429 before a locked pair reaches the password check at all.
"""

import json
from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from security import audit, rate_limit
from security.models import AuditAction

SCOPE = "login"


def _ident(request: HttpRequest, username: str) -> str:
    return f"{username.strip().casefold()}|{request.META.get('REMOTE_ADDR', '')}"


def locked_for(request: HttpRequest, username: str) -> int | None:
    """Seconds until this username may try again from this address; None when it may now."""
    refusal = rate_limit.exhausted(
        SCOPE, _ident(request, username), settings.CAREMGR_LOGIN_RATE_LIMIT
    )
    return refusal.retry_after if refusal else None


def record_failure(request: HttpRequest, username: str) -> None:
    ident, rate = _ident(request, username), settings.CAREMGR_LOGIN_RATE_LIMIT
    rate_limit.hit(SCOPE, ident, rate)
    audit.record(AuditAction.LOGIN_FAILED, request, username=username)
    lock = rate_limit.exhausted(SCOPE, ident, rate)
    if lock is not None:
        audit.record(
            AuditAction.LOGIN_LOCKED, request, username=username, retry_after=lock.retry_after
        )


def record_success(request: HttpRequest, user) -> None:
    rate_limit.clear(SCOPE, _ident(request, user.get_username()), settings.CAREMGR_LOGIN_RATE_LIMIT)
    audit.record(AuditAction.LOGIN_SUCCEEDED, request, user=user)


class RateLimitedModelBackend(ModelBackend):
    """Django's username and password check, counting failures and refusing a locked pair."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not username:
            # Sign-ins without a request (tests, shell) are not limited.
            return super().authenticate(request, username, password, **kwargs)
        if locked_for(request, username):
            raise PermissionDenied("too many failed sign-ins")
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            record_failure(request, username)
        else:
            record_success(request, user)
        return user

    def get_user(self, user_id):
        """The signed-in user of a request with the agent profile every view asks for
        (role, teams), in one query instead of two."""
        model = get_user_model()
        try:
            user = model._default_manager.select_related("profile").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def _posted_username(request: HttpRequest) -> str:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return ""
        value = data.get("username", "") if isinstance(data, dict) else ""
    else:
        value = request.POST.get("username", "")
    return value if isinstance(value, str) else ""


def login_rate_limited(view=None, *, as_json: bool = False):
    """Wrap a sign-in view: a POST for a locked username and address answers 429."""

    def decorate(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            username = _posted_username(request) if request.method == "POST" else ""
            wait = locked_for(request, username) if username else None
            if wait is None:
                return view(request, *args, **kwargs)
            message = "Too many failed sign-ins for this user from your address."
            if as_json:
                response = JsonResponse({"detail": message, "retry_after": wait}, status=429)
            else:
                context = {"message": message, "minutes": -(-wait // 60)}
                response = render(request, "registration/locked.html", context, status=429)
            response["Retry-After"] = str(wait)
            add_never_cache_headers(response)
            return response

        return wrapper

    return decorate(view) if view is not None else decorate
