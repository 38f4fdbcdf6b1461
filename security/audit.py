"""Writing the audit log: one call per action, from the view or operation that did it."""

from django.http import HttpRequest

from security.models import AuditAction, AuditEntry


def record(
    action: AuditAction,
    request: HttpRequest | None = None,
    *,
    user=None,
    username: str = "",
    **detail,
) -> AuditEntry:
    """Record an action; the actor defaults to the signed-in user of the request."""
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        user = candidate if candidate is not None and candidate.is_authenticated else None
    meta = request.META if request is not None else {}
    return AuditEntry.objects.create(
        action=action,
        actor=user,
        username=(username or (user.get_username() if user else ""))[:150],
        ip=meta.get("REMOTE_ADDR") or None,
        path=request.path[:200] if request is not None else "",
        detail=detail,
    )
