"""Filters of the case and message lists, each backed by an index the inbox uses."""

from datetime import UTC, datetime

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django_filters.rest_framework import DjangoFilterBackend

from cases.models import Case, Priority, Status
from cases.search import text_query
from inbox.models import Direction, Message

SENTIMENTS = [("negative", "negative"), ("neutral", "neutral"), ("positive", "positive")]
MAX_ID = 2**63 - 1  # a bigger number reaches the database as an overflow (500), not a miss


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number the database can hold, else a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class MomentFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 moment, compared in UTC: PostgreSQL refuses offsets past ±15:59 that
    ISO 8601 (and Python) allow, and would answer 500."""

    def filter(self, qs, value):
        if value:
            try:
                value = value.astimezone(UTC)
            except OverflowError:  # past the calendar's end (or start) once in UTC
                value = (datetime.max if value.year == datetime.max.year else datetime.min).replace(
                    tzinfo=UTC
                )
        return super().filter(qs, value)


def names_a_filter(filterset_class, params) -> bool:
    """Whether the query names one of the filter set's filters: without one the filter set
    would build and validate an empty form (about 2 ms) to change nothing."""
    return bool(filterset_class.base_filters.keys() & params.keys())


class NamedFilterBackend(DjangoFilterBackend):
    """Filters only when the query names a filter (`names_a_filter`)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class and names_a_filter(filterset_class, request.query_params):
            return super().filter_queryset(request, queryset, view)
        return queryset


class FormOnceFilterSet(django_filters.FilterSet):
    """Builds its form class once, not per request: the fields depend on nothing the
    request holds (no choices from the database), and each form copies them anyway."""

    def get_form_class(self):
        cls = type(self)
        if "form_class" not in cls.__dict__:
            cls.form_class = super().get_form_class()
        return cls.form_class


class CaseFilter(FormOnceFilterSet):
    # distinct=False: a plain IN needs no DISTINCT, which would defeat every index
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    tier = django_filters.CharFilter(field_name="tier_id")
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, distinct=False)
    assignee = django_filters.CharFilter(method="filter_assignee", help_text="id, 'me' or 'none'")
    team = django_filters.CharFilter(
        method="filter_team",
        help_text="id or 'none'",
        validators=[RegexValidator(r"^(?i:none|[1-9][0-9]{0,17})$", "a team id or 'none'")],
    )
    account = django_filters.CharFilter(field_name="account__slug")
    platform = django_filters.CharFilter(field_name="channel")
    sentiment = django_filters.ChoiceFilter(choices=SENTIMENTS)
    created_after = MomentFilter(field_name="created_at", lookup_expr="gte")
    created_before = MomentFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_q", help_text="text search")

    class Meta:
        model = Case
        fields = [
            "status",
            "tier",
            "priority",
            "assignee",
            "team",
            "account",
            "platform",
            "sentiment",
            "created_after",
            "created_before",
            "q",
        ]

    def filter_team(self, queryset, name, value):
        value = value.strip().lower()
        if value == "none":
            return queryset.filter(team__isnull=True)
        return queryset.filter(team_id=int(value))

    def filter_assignee(self, queryset, name, value):
        value = value.strip().lower()
        if value == "me":
            return queryset.filter(assignee=self.request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value.isdigit():
            if int(value) > MAX_ID:
                return queryset.none()
            return queryset.filter(assignee_id=int(value))
        return queryset.filter(assignee__username=value)

    def filter_q(self, queryset, name, value):
        return queryset.filter(text_query(value)) if value.strip() else queryset


class MessageFilter(FormOnceFilterSet):
    case = IdFilter(field_name="case_id")
    account = django_filters.CharFilter(field_name="account__slug")
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    sentiment = django_filters.ChoiceFilter(field_name="sentiment_label", choices=SENTIMENTS)
    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains")

    class Meta:
        model = Message
        fields = ["case", "account", "direction", "sentiment", "q"]
