"""Admin for connected accounts, contacts, messages and the webhook delivery log."""

from django import forms
from django.contrib import admin, messages

from inbox.account_cache import forget_accounts
from inbox.models import Account, Contact, Delivery, DeliveryStatus, Message
from security import audit
from security.models import AuditAction


class AccountForm(forms.ModelForm):
    """Secrets are write-only: never shown again, kept as they are when left empty."""

    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Signing secret of webhook deliveries; leave empty to keep the current one.",
    )
    verify_token = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Token of Meta's subscription handshake; leave empty to keep the current one.",
    )
    access_token = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Token for outbound API calls; leave empty to keep the current one.",
    )

    class Meta:
        model = Account
        fields = [
            "platform",
            "slug",
            "name",
            "secret",
            "verify_token",
            "access_token",
            "own_ids",
            "handle",
            "default_tier",
            "default_team",
            "is_active",
        ]

    def clean(self):
        data = super().clean()
        for name in ("secret", "verify_token", "access_token"):
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        if not data.get("secret"):
            self.add_error("secret", "a new account needs a signing secret")
        return data


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountForm
    list_display = ["slug", "platform", "name", "default_tier", "default_team", "is_active"]
    list_filter = ["platform", "default_tier", "is_active"]
    search_fields = ["slug", "name", "handle"]

    # Webhooks of this process see a changed secret or a deactivation at once; other
    # processes when their kept copy expires (inbox.account_cache).
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_accounts()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_accounts()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        forget_accounts()


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["handle", "name", "channel", "followers", "tier", "owner", "health"]
    list_filter = ["channel", "tier", "health", "lifecycle_stage"]
    list_editable = ["tier", "owner"]
    search_fields = ["handle", "name", "external_id"]
    raw_id_fields = ["owner"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "channel",
        "direction",
        "author_handle",
        "created_at",
        "sentiment_label",
        "status",
    ]
    list_filter = ["channel", "direction", "sentiment_label", "status", "account"]
    search_fields = ["text", "external_id", "author_handle"]
    raw_id_fields = ["contact", "case", "delivery", "sent_by"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "account",
        "status",
        "attempts",
        "message_count",
        "received_at",
        "short_error",
    ]
    list_filter = ["status", "account"]
    readonly_fields = [
        "account",
        "body_text",
        "content_type",
        "status",
        "error",
        "attempts",
        "message_count",
        "received_at",
        "processed_at",
    ]
    exclude = ["body"]
    actions = ["replay"]
    list_select_related = ["account"]

    @admin.display(description="error")
    def short_error(self, delivery: Delivery) -> str:
        return delivery.error[:80]

    @admin.display(description="body")
    def body_text(self, delivery: Delivery) -> str:
        return bytes(delivery.body)[:20_000].decode("utf-8", "replace")

    @admin.action(description="Process the selected failed deliveries again")
    def replay(self, request, queryset):
        from inbox.handoff import delivery_handler

        failed = list(queryset.filter(status=DeliveryStatus.FAILED).values_list("pk", flat=True))
        results = [delivery_handler()(pk) for pk in failed]
        done = sum(1 for r in results if r in (DeliveryStatus.PROCESSED, DeliveryStatus.IGNORED))
        audit.record(AuditAction.DELIVERIES_REPLAYED, request, deliveries=failed, processed=done)
        self.message_user(request, f"{done} of {len(results)} processed", messages.INFO)

    def has_add_permission(self, request) -> bool:
        return False
