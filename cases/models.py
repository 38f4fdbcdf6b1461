"""The work: cases and their timeline, the people who work them and how work is routed."""

from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce

from inbox.models import Channel

User = settings.AUTH_USER_MODEL


class Tier(models.Model):
    """An engagement tier with its SLA targets (seeded with the four standard tiers)."""

    slug = models.SlugField(max_length=8, primary_key=True)
    name = models.CharField(max_length=50)
    position = models.PositiveSmallIntegerField(default=0)
    first_response_minutes = models.PositiveIntegerField()
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField()
    warning_percent = models.PositiveSmallIntegerField(default=80)
    is_automated = models.BooleanField(
        default=False, help_text="Answered by automation; a human only on escalation."
    )
    sends_acknowledgement = models.BooleanField(default=False)
    breach_notifies_supervisors = models.BooleanField(default=True)
    breach_raises_priority = models.BooleanField(default=False)
    breach_reassigns = models.BooleanField(default=False)
    survey = models.CharField(
        max_length=4,
        choices=[("csat", "CSAT"), ("nps", "NPS"), ("ces", "CES"), ("", "None")],
        default="csat",
        blank=True,
    )

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class AssignmentStrategy(models.TextChoices):
    MANUAL = "manual", "Manual"
    ROUND_ROBIN = "round_robin", "Round robin"
    LEAST_LOADED = "least_loaded", "Least loaded (with capacity)"
    SKILLS = "skills", "Skills and language, then least loaded"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=64, unique=True)
    strategy = models.CharField(
        max_length=16, choices=AssignmentStrategy.choices, default=AssignmentStrategy.LEAST_LOADED
    )
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    """An opening interval of a team on one weekday; a team without any is open 24/7."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (0, "Monday"),
            (1, "Tuesday"),
            (2, "Wednesday"),
            (3, "Thursday"),
            (4, "Friday"),
            (5, "Saturday"),
            (6, "Sunday"),
        ]
    )
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_order")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"


class Presence(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class AgentProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.AGENT)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    skills = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(default=10)
    presence = models.CharField(max_length=8, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    class Meta:
        indexes = [models.Index(fields=["presence"], name="agent_presence")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)
# Cases without a running target sort after every due time in "SLA due" order.
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)


def sla_rank() -> Coalesce:
    """The SLA-due sort key that is never null (an index is built on the same expression)."""
    return Coalesce("sla_due", Value(NO_DUE), output_field=models.DateTimeField())


class Priority(models.TextChoices):
    P1 = "P1", "P1 urgent"
    P2 = "P2", "P2 high"
    P3 = "P3", "P3 normal"
    P4 = "P4", "P4 low"


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def for_user(self, user):
        """The cases a user may see: everything for supervisors, their teams' for agents."""
        profile = getattr(user, "profile", None)
        if user.is_superuser or (profile and profile.is_supervisor):
            return self
        if profile is None:
            return self.none()
        team_ids = profile.teams.values_list("id", flat=True)
        return self.filter(Q(team__in=team_ids) | Q(assignee=user))


class Case(models.Model):
    # A foreign key that leads a composite index below has no index of its own, and one that
    # is mostly empty indexes only the rows that have it: every index costs each write.
    account = models.ForeignKey(
        "inbox.Account", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    contact = models.ForeignKey(
        "inbox.Contact", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="cases", db_index=False)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    assignee = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
    )
    previous_assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P3)
    priority_score = models.PositiveSmallIntegerField(default=0)
    priority_reason = models.CharField(max_length=500, blank=True)
    is_priority_manual = models.BooleanField(default=False)
    priority_floor = models.CharField(max_length=2, choices=Priority.choices, blank=True)
    priority_floor_source = models.CharField(max_length=20, default="routing", blank=True)
    urgency_words = models.CharField(
        max_length=500, blank=True, help_text="Urgency words of the customer's latest messages."
    )
    priority_check_at = models.DateTimeField(
        null=True, blank=True, help_text="When waiting next moves the score: scored again then."
    )
    required_skills = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, blank=True)
    is_public = models.BooleanField(default=False)

    # Denormalised for lists.
    sentiment = models.CharField(max_length=8, default="neutral")
    sentiment_polarity = models.FloatField(default=0.0)
    sentiment_trend = models.FloatField(default=0.0)
    message_count = models.PositiveIntegerField(default=0)
    inbound_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=280, blank=True)
    last_message_direction = models.CharField(max_length=3, blank=True)

    # SLA clocks (all from the messages' own timestamps).
    created_at = models.DateTimeField(db_index=False)
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.FloatField(
        null=True, blank=True, help_text="Business seconds until a person first answered."
    )
    resolution_seconds = models.FloatField(
        null=True, blank=True, help_text="Business seconds from the first message to resolution."
    )
    first_response_due = models.DateTimeField(null=True, blank=True)
    automated_response_at = models.DateTimeField(null=True, blank=True)
    awaiting_since = models.DateTimeField(
        null=True, blank=True, help_text="Earliest inbound message not yet answered."
    )
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    next_response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    sla_due = models.DateTimeField(null=True, blank=True, help_text="The nearest open target.")
    sla_check_at = models.DateTimeField(
        null=True, blank=True, help_text="When the monitor must look again (warning or breach)."
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    breach_count = models.PositiveSmallIntegerField(default=0)
    first_response_warned = models.BooleanField(default=False)
    first_response_breached = models.BooleanField(default=False)
    next_response_warned = models.BooleanField(default=False)
    next_response_breached = models.BooleanField(default=False)
    resolution_warned = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    is_escalated = models.BooleanField(default=False)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_cases",
        db_index=False,
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="case_recent"),
            models.Index(fields=["priority", "-updated_at"], name="case_priority"),
            models.Index(
                fields=["sla_due"],
                condition=Q(status__in=["new", "open", "pending"]),
                name="case_open_sla_due",
            ),
            # Set only while a warning or breach is still to fire (`sla.refresh_sla_due`).
            models.Index(
                fields=["sla_check_at"],
                condition=Q(sla_check_at__isnull=False),
                name="case_sla_check",
            ),
            # Only the few cases whose wait still moves their score. Neither index has a
            # status term: SQLite's planner answers that from the status index and a sort.
            models.Index(
                fields=["priority_check_at"],
                condition=Q(priority_check_at__isnull=False),
                name="case_waiting_check",
            ),
            models.Index(fields=["status", "team", "-updated_at"], name="case_team_queue"),
            models.Index(fields=["assignee", "status"], name="case_assignee_load"),
            models.Index(fields=["assignee", "-updated_at", "-id"], name="case_assignee_recent"),
            models.Index(
                fields=["status", "tier", "-updated_at", "-id"], name="case_status_tier_recent"
            ),
            models.Index(sla_rank(), "id", name="case_sla_rank"),
            models.Index(fields=["contact", "account", "status"], name="case_contact_open"),
            models.Index(fields=["tier", "created_at"], name="case_tier_period"),
            models.Index(fields=["account", "created_at"], name="case_account_period"),
            models.Index(fields=["created_at"], name="case_period"),
            models.Index(fields=["sentiment", "-updated_at"], name="case_sentiment"),
            models.Index(
                fields=["previous_assignee"],
                condition=Q(previous_assignee__isnull=False),
                name="case_previous_assignee",
            ),
            models.Index(
                fields=["merged_into"], condition=Q(merged_into__isnull=False), name="case_merged"
            ),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"

    @property
    def number(self) -> int:
        return self.pk

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def has_breached(self) -> bool:
        return self.breach_count > 0


class CaseEvent(models.Model):
    """One entry of a case's timeline; append-only, and the audit log of the case.

    Its id grows across all cases, so a reconnecting browser asks for what came after the
    last id it saw.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", db_index=False
    )  # event_case_timeline leads with it
    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    at = models.DateTimeField()
    message = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    before = models.CharField(max_length=200, blank=True)
    after = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    is_automatic = models.BooleanField(default=False)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="event_case_timeline"),
            models.Index(fields=["kind", "at"], name="event_kind_period"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="event_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"


class ResponseTime(models.Model):
    """One human response to a waiting customer: the first or a next response.

    Written when the reply is recorded, measured in the team's business time, with the
    dimensions reports group by, so SLA figures are one indexed aggregation.
    """

    FIRST, NEXT = "first", "next"
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="responses")
    kind = models.CharField(max_length=5, choices=[(FIRST, "First"), (NEXT, "Next")])
    at = models.DateTimeField()
    waited_since = models.DateTimeField()
    seconds = models.FloatField()
    target_seconds = models.FloatField(null=True, blank=True)
    agent = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tier = models.CharField(max_length=8)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL)
    account = models.ForeignKey("inbox.Account", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["kind", "at"], name="response_kind_period")]

    def __str__(self) -> str:
        return f"{self.kind} response on case {self.case_id}: {self.seconds:.0f} s"

    @property
    def is_within_target(self) -> bool:
        return self.target_seconds is None or self.seconds <= self.target_seconds


class RoutingRule(models.Model):
    """Ordered rule: when every set condition matches a message, apply its actions."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    stop_processing = models.BooleanField(
        default=True, help_text="Later rules are not looked at once this one matched."
    )
    # Conditions (blank = any).
    account = models.ForeignKey(
        "inbox.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    language = models.CharField(max_length=8, blank=True)
    contact_tier = models.CharField(max_length=8, blank=True)
    lifecycle_stage = models.CharField(max_length=16, blank=True)
    keywords = models.CharField(
        max_length=500, blank=True, help_text="Comma-separated; any one matches (word start)."
    )
    sentiment = models.CharField(
        max_length=8,
        blank=True,
        choices=[("negative", "negative"), ("neutral", "neutral"), ("positive", "positive")],
    )
    min_followers = models.PositiveIntegerField(null=True, blank=True)
    is_public = models.BooleanField(null=True, blank=True)
    # Actions.
    set_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority_floor = models.CharField(max_length=2, choices=Priority.choices, blank=True)
    required_skills = models.JSONField(default=list, blank=True)
    add_tag = models.CharField(max_length=50, blank=True)
    auto_reply = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    title = models.CharField(max_length=100)
    shortcut = models.SlugField(max_length=50, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=8, default="en")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class KnowledgeArticle(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField()
    language = models.CharField(max_length=8, default="en")
    keywords = models.CharField(max_length=500, blank=True)
    url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class SurveyResponse(models.Model):
    """A customer's answer to the survey sent after resolution; one per case."""

    KINDS = [("csat", "CSAT"), ("nps", "NPS"), ("ces", "CES")]
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="survey_response")
    kind = models.CharField(max_length=4, choices=KINDS)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "answered_at"], name="survey_kind_period")]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} on case {self.case_id}"
