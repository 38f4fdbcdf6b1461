"""The audit log and Django's record of admin changes, read-only for admins."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry

from security.models import AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """A log is never edited: no add, change or delete, not even for superusers."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "username", "ip", "path", "detail"]
    list_filter = ["action"]
    search_fields = ["username", "ip", "path"]
    date_hierarchy = "at"
    list_select_related = ["actor"]


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ["action_time", "user", "content_type", "object_repr", "action_flag"]
    list_filter = ["action_flag", "content_type"]
    search_fields = ["object_repr", "change_message", "user__username"]
    date_hierarchy = "action_time"
    list_select_related = ["user", "content_type"]
