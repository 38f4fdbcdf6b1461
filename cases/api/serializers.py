"""API representations; also the rows live events carry, so the list and the events agree."""

from rest_framework import serializers

from cases.models import Case, CaseEvent, KnowledgeArticle, Priority, Status
from inbox.models import Contact, Message, TierSlug


class ContactBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "handle", "name", "followers"]


class CaseSerializer(serializers.ModelSerializer):
    number = serializers.IntegerField(read_only=True)
    tier = serializers.CharField(source="tier_id", read_only=True)
    assignee = serializers.IntegerField(source="assignee_id", read_only=True, allow_null=True)
    assignee_name = serializers.SerializerMethodField()
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)
    account = serializers.CharField(source="account.slug", read_only=True)
    platform = serializers.CharField(source="channel", read_only=True)
    contact = ContactBriefSerializer(read_only=True)
    has_breached = serializers.BooleanField(read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "status",
            "priority",
            "priority_score",
            "priority_reason",
            "is_priority_manual",
            "tier",
            "assignee",
            "assignee_name",
            "team",
            "account",
            "platform",
            "contact",
            "sentiment",
            "sentiment_polarity",
            "language",
            "is_public",
            "tags",
            "created_at",
            "updated_at",
            "first_response_at",
            "first_response_due",
            "next_response_due",
            "resolution_due",
            "sla_due",
            "resolved_at",
            "message_count",
            "last_message_at",
            "last_message_preview",
            "last_message_direction",
            "is_escalated",
            "has_breached",
            "breach_count",
            "merged_into",
        ]
        read_only_fields = fields

    def get_assignee_name(self, case: Case) -> str | None:
        user = case.assignee if case.assignee_id else None
        if user is None:
            return None
        return user.get_full_name() or user.get_username()


class SentimentSerializer(serializers.Serializer):
    label = serializers.CharField(source="sentiment_label")
    polarity = serializers.FloatField(source="sentiment_polarity")
    subjectivity = serializers.FloatField(source="sentiment_subjectivity")


class AuthorSerializer(serializers.Serializer):
    handle = serializers.CharField(source="author_handle")
    name = serializers.CharField(source="author_name")


class MessageSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(source="*", read_only=True)
    sentiment = SentimentSerializer(source="*", read_only=True)
    account = serializers.CharField(source="account.slug", read_only=True)
    platform = serializers.CharField(source="channel", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "case",
            "account",
            "platform",
            "external_id",
            "direction",
            "kind",
            "is_public",
            "text",
            "author",
            "created_at",
            "language",
            "sentiment",
            "status",
            "is_automatic",
            "sent_by",
            "in_reply_to",
            "conversation_id",
            "error",
        ]
        read_only_fields = fields


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "kind",
            "actor",
            "at",
            "before",
            "after",
            "text",
            "is_automatic",
            "message",
        ]
        read_only_fields = fields

    def get_actor(self, entry: CaseEvent) -> str | None:
        return entry.actor.get_username() if entry.actor_id else None


class CaseDetailSerializer(CaseSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    timeline = CaseEventSerializer(source="events", many=True, read_only=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "messages", "timeline"]
        read_only_fields = fields


class ReplyInput(serializers.Serializer):
    text = serializers.CharField(max_length=10_000, trim_whitespace=True)


class NoteInput(ReplyInput):
    pass


class AssignInput(serializers.Serializer):
    agent = serializers.CharField(allow_null=True, help_text="user id, username, 'me' or null")


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)


class PriorityInput(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


class TierInput(serializers.Serializer):
    tier = serializers.CharField(max_length=8)


class MergeInput(serializers.Serializer):
    into = serializers.IntegerField(min_value=1)


class ContactSerializer(serializers.ModelSerializer):
    history = serializers.SerializerMethodField(help_text="the contact's cases, newest first")
    tier = serializers.ChoiceField(
        choices=TierSlug.choices,
        allow_blank=True,
        read_only=True,
        help_text="the customer's own tier; empty: the account's default applies",
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "channel",
            "external_id",
            "handle",
            "name",
            "followers",
            "tier",
            "owner",
            "lifecycle_stage",
            "health",
            "bad_experiences",
            "language",
            "created_at",
            "history",
        ]
        read_only_fields = fields

    def get_history(self, contact: Contact) -> list[dict]:
        cases = self.context.get("cases")
        if cases is None:
            cases = contact.cases.select_related("account", "contact", "assignee")[:50]
        return CaseSerializer(cases, many=True).data


class _LinkOrNull(serializers.URLField):
    """An optional link: null when there is none (an empty text is no URI)."""

    def to_representation(self, value):
        return value or None


class KnowledgeArticleSerializer(serializers.ModelSerializer):
    url = _LinkOrNull(read_only=True, allow_null=True)

    class Meta:
        model = KnowledgeArticle
        fields = ["id", "title", "body", "language", "url"]
        read_only_fields = fields
