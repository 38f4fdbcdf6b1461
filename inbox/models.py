"""Platforms and messages: connected accounts, the people who write, what they wrote, and
every webhook body as it arrived."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from security.encryption import EncryptedTextField


class Platform(models.TextChoices):
    """The connector an account speaks through."""

    META = "meta", "Meta (Facebook, Instagram, WhatsApp)"
    X = "x", "X"
    TELEGRAM = "telegram", "Telegram"
    GENERIC = "generic", "Generic JSON"


class Channel(models.TextChoices):
    """The network a single message travelled on (one Meta account serves several)."""

    FACEBOOK = "facebook", "Facebook"
    MESSENGER = "messenger", "Messenger"
    INSTAGRAM = "instagram", "Instagram"
    WHATSAPP = "whatsapp", "WhatsApp"
    X = "x", "X"
    TELEGRAM = "telegram", "Telegram"
    GENERIC = "generic", "Generic"


class TierSlug(models.TextChoices):
    TECH = "tech", "Tech-touch"
    LOW = "low", "Low-touch"
    MID = "mid", "Mid-touch"
    HIGH = "high", "High-touch"


class Account(models.Model):
    """A brand's connected social account, addressed by slug in webhook URLs."""

    platform = models.CharField(max_length=16, choices=Platform.choices)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True)
    # Credentials are encrypted in the database (security.encryption).
    secret = EncryptedTextField(max_length=512, help_text="Signing secret of webhook deliveries.")
    verify_token = EncryptedTextField(max_length=256, blank=True)
    access_token = EncryptedTextField(
        max_length=1024, blank=True, help_text="Token for outbound API calls."
    )
    # The brand's own identities on the platform (page id, IG user id, bot id, X user id, ...):
    # messages from them are outbound.
    own_ids = models.JSONField(default=list, blank=True)
    handle = models.CharField(max_length=200, blank=True)
    default_tier = models.CharField(max_length=8, choices=TierSlug.choices, default=TierSlug.MID)
    default_team = models.ForeignKey(
        "cases.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    poll_state = models.JSONField(
        default=dict, blank=True, help_text="Checkpoints of API polling (e.g. X since_id)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.slug} ({self.platform})"

    def is_own_id(self, external_id: str | None) -> bool:
        return bool(external_id) and str(external_id) in {str(i) for i in self.own_ids}


class LifecycleStage(models.TextChoices):
    AWARENESS = "awareness", "Awareness"
    CONSIDERATION = "consideration", "Consideration"
    PURCHASE = "purchase", "Purchase"
    LOYALTY = "loyalty", "Loyalty"
    ADVOCACY = "advocacy", "Advocacy"


class Health(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    AT_RISK = "at_risk", "At risk"
    HIGH_RISK = "high_risk", "High risk"


class Contact(models.Model):
    """One person on one platform identity."""

    channel = models.CharField(max_length=16, choices=Channel.choices)
    external_id = models.CharField(max_length=128)
    handle = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200, blank=True)
    followers = models.PositiveIntegerField(default=0)
    tier = models.CharField(max_length=8, choices=TierSlug.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
        help_text="Dedicated customer success manager (high-touch).",
        db_index=False,  # few contacts have one: indexed where set, below
    )
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.AWARENESS
    )
    health = models.CharField(max_length=16, choices=Health.choices, default=Health.HEALTHY)
    bad_experiences = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="contact_identity")
        ]
        indexes = [
            models.Index(fields=["handle"], name="contact_handle"),
            models.Index(fields=["owner"], condition=Q(owner__isnull=False), name="contact_owner"),
        ]

    def __str__(self) -> str:
        return f"@{self.handle or self.external_id} ({self.channel})"


class Direction(models.TextChoices):
    IN = "in", "Inbound"
    OUT = "out", "Outbound"


class Kind(models.TextChoices):
    POST = "post", "Public post"
    COMMENT = "comment", "Comment or reply"
    DM = "dm", "Private message"


class SendStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class Message(models.Model):
    """One message in or out, with the platform's own timestamp and its sentiment."""

    # Every index is paid for on each of the many messages written: a foreign key that leads
    # a composite index below has no index of its own, and one that is mostly empty indexes
    # only the rows that have it (`WHERE … IS NOT NULL`).
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    delivery = models.ForeignKey(
        "inbox.Delivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Null until an outbound reply has been accepted by the platform.
    external_id = models.CharField(max_length=191, null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.DM)
    is_public = models.BooleanField(default=False)
    text = models.TextField(blank=True)
    author_external_id = models.CharField(max_length=128, blank=True)
    author_handle = models.CharField(max_length=200, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    in_reply_to = models.CharField(max_length=191, blank=True)
    conversation_id = models.CharField(max_length=191, blank=True)
    created_at = models.DateTimeField(help_text="When the platform says it was written.")
    received_at = models.DateTimeField(auto_now_add=True)
    language = models.CharField(max_length=8, blank=True)
    sentiment_label = models.CharField(max_length=8, blank=True)
    sentiment_polarity = models.FloatField(default=0.0)
    sentiment_subjectivity = models.FloatField(default=0.0)
    status = models.CharField(
        max_length=10, choices=SendStatus.choices, default=SendStatus.RECEIVED
    )
    is_automatic = models.BooleanField(default=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_messages",
        db_index=False,
    )
    send_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_per_account",
            )
        ]
        indexes = [
            models.Index(fields=["case", "created_at"], name="message_case_timeline"),
            models.Index(fields=["account", "conversation_id"], name="message_conversation"),
            models.Index(fields=["contact", "created_at"], name="message_contact_history"),
            # The message list's order (newest first), which its filters but `case` keep.
            models.Index(fields=["created_at"], name="message_recent"),
            # The same for one account: SQLite keeps no statistics, and from the account's
            # other indexes it sorted every message of the account for each page.
            models.Index(fields=["account", "created_at"], name="message_account_recent"),
            # The brand's replies that wait for the message they answer: few rows, looked up
            # by what they answer for every delivery.
            models.Index(
                fields=["account", "in_reply_to"],
                condition=Q(direction="out", case__isnull=True),
                name="message_unfiled_reply",
            ),
            models.Index(
                fields=["delivery"], condition=Q(delivery__isnull=False), name="message_delivery"
            ),
            models.Index(
                fields=["sent_by"], condition=Q(sent_by__isnull=False), name="message_sent_by"
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="message_outbox_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.external_id or self.pk}"


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Acknowledged, nothing to do"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """A webhook body exactly as it arrived, stored before anything else happens."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="deliveries")
    body = models.BinaryField()
    content_type = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    message_count = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=Q(status__in=["received", "failed"]),
                name="delivery_pending",
            )
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"
