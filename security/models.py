"""The audit log of what case timelines and Django's admin log do not record: sign-ins,
failed sign-ins and lockouts, report exports, admin actions on the delivery log."""

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    LOGIN_SUCCEEDED = "login.succeeded", "Signed in"
    LOGIN_FAILED = "login.failed", "Sign-in failed"
    LOGIN_LOCKED = "login.locked", "Sign-in refused: too many failures"
    REPORT_EXPORTED = "report.exported", "Report exported"
    DELIVERIES_REPLAYED = "deliveries.replayed", "Deliveries replayed"


class AuditEntry(models.Model):
    """One security-relevant action: who (a user, or the name someone typed), from where,
    what, and the details that make it findable."""

    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["action", "at"], name="audit_action_period"),
            models.Index(fields=["username", "at"], name="audit_username_period"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.username or 'anonymous'} at {self.at:%Y-%m-%d %H:%M}"
