"""REST API views: parse, check permission, call one operation, render."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from cases import actions, events, knowledge
from cases.api import rows
from cases.api import serializers as s
from cases.api.filters import CaseFilter, MessageFilter, NamedFilterBackend
from cases.api.message_items import message_items
from cases.api.pagination import CaseKeysetPagination
from cases.api.permissions import CanViewCase, IsAgent
from cases.models import Case, CaseEvent
from cases.permissions import (
    ActionError,
    Forbidden,
    check_can_assign,
    check_can_set_tier,
    check_can_work,
    is_supervisor,
)
from inbox.models import Contact, Message

User = get_user_model()


class MessagePagination(CursorPagination):
    ordering = "-created_at"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        """A cursor that is not one of ours is bad input (400), as on the case list."""
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": "not a cursor of this list"}) from None


def visible_cases(user):
    return Case.objects.for_user(user).select_related("account", "contact", "assignee")


def case_row(case: Case) -> dict:
    """The row of a case a user just acted on; it may have left their view meanwhile (an
    agent handing their own case of another team to a member of that team)."""
    return events.case_row(
        Case.objects.select_related("account", "contact", "assignee").get(pk=case.pk)
    )


def run(operation, *args, **kwargs):
    """Call an operation, turning its typed errors into API errors."""
    try:
        return operation(*args, **kwargs)
    except ActionError as exc:
        raise ValidationError({"error": str(exc)}) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc


def find_agent(value, request):
    if value is None or value == "" or str(value).lower() == "none":
        return None
    if str(value).lower() == "me":
        return request.user
    lookup = {"pk": int(value)} if str(value).isdigit() else {"username": str(value)}
    agent = User.objects.filter(**lookup, is_active=True).select_related("profile").first()
    if agent is None or not hasattr(agent, "profile"):
        raise ValidationError({"agent": "no such agent"})
    return agent


# Only ids the database can hold reach a view: anything else is an unknown URL (404),
# never a conversion error (500).
ID_PATTERN = "[0-9]{1,18}"


class CaseViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [CanViewCase]
    lookup_value_regex = ID_PATTERN
    filterset_class = CaseFilter
    filter_backends = [NamedFilterBackend]
    pagination_class = CaseKeysetPagination

    def get_queryset(self):
        queryset = visible_cases(self.request.user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("messages", queryset=Message.objects.select_related("account")),
                Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
            )
        return queryset

    def list(self, request, *args, **kwargs):
        """Rows straight from their columns (`cases/api/rows.py`), no model instances."""
        queryset = self.filter_queryset(self.get_queryset()).values(*rows.COLUMNS)
        return self.get_paginated_response(rows.case_rows(self.paginate_queryset(queryset)))

    def get_serializer_class(self):
        return s.CaseDetailSerializer if self.action == "retrieve" else s.CaseSerializer

    def _case(self):
        case = self.get_object()
        run(check_can_work, self.request.user, case)
        return case

    def _answer(self, case, code=status.HTTP_200_OK):
        return Response(case_row(case), status=code)

    @extend_schema(request=s.ReplyInput, responses={201: s.MessageSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        data = self._valid(s.ReplyInput)
        message = run(actions.record_reply, self._case(), data["text"], actor=request.user)
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AssignInput, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        data = self._valid(s.AssignInput)
        agent = find_agent(data["agent"], request)
        case = self._case()
        run(check_can_assign, request.user, case, agent)
        return self._answer(run(actions.assign_case, case, agent, actor=request.user))

    @extend_schema(request=s.StatusInput, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        data = self._valid(s.StatusInput)
        return self._answer(
            run(actions.set_status, self._case(), data["status"], actor=request.user)
        )

    @extend_schema(request=s.PriorityInput, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def priority(self, request, pk=None):
        data = self._valid(s.PriorityInput)
        case = run(actions.set_priority, self._case(), data["priority"], actor=request.user)
        return self._answer(case)

    @extend_schema(request=s.TierInput, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def tier(self, request, pk=None):
        data = self._valid(s.TierInput)
        case = self._case()
        run(check_can_set_tier, request.user, case)
        return self._answer(run(actions.set_tier, case, data["tier"], actor=request.user))

    @extend_schema(request=s.NoteInput, responses={201: s.CaseEventSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        data = self._valid(s.NoteInput)
        entry = run(actions.add_note, self._case(), data["text"], actor=request.user)
        return Response(s.CaseEventSerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MergeInput, responses=s.CaseSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        data = self._valid(s.MergeInput)
        case = self._case()
        into = visible_cases(request.user).filter(pk=data["into"]).first()
        if into is None:
            raise ValidationError({"into": "no such case"})
        run(check_can_work, request.user, into)
        return self._answer(run(actions.merge_cases, case, into, actor=request.user))

    @extend_schema(responses=s.KnowledgeArticleSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def suggestions(self, request, pk=None):
        """Knowledge-base articles matching what the customer wrote lately."""
        case = self.get_object()
        recent = case.messages.filter(direction="in").order_by("-created_at")[:3]
        text = " ".join(m.text for m in recent)
        articles = knowledge.suggestions(text, case.language or "en")
        return Response(s.KnowledgeArticleSerializer(articles, many=True).data)

    def _valid(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class MessageViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAgent]
    lookup_value_regex = ID_PATTERN
    serializer_class = s.MessageSerializer
    filterset_class = MessageFilter
    pagination_class = MessagePagination

    def get_queryset(self):
        user = self.request.user
        queryset = Message.objects.select_related("account")
        if is_supervisor(user):
            return queryset
        return queryset.filter(case__in=Case.objects.for_user(user).values("pk"))

    def list(self, request, *args, **kwargs):
        """The serializer's JSON written straight from each message (`message_items`)."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(message_items(page))

    @extend_schema(request=None, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Send a reply that failed again (fresh attempts); 400 unless it failed."""
        message = self.get_object()
        if message.case_id is None:
            raise ValidationError({"error": "that message is not in a case"})
        run(check_can_work, request.user, message.case)
        message = run(actions.resend_reply, message, actor=request.user)
        return Response(s.MessageSerializer(message).data)

    @extend_schema(request=None, responses={201: s.CaseSerializer})
    @action(detail=True, methods=["post"])
    def split(self, request, pk=None):
        message = self.get_object()
        if message.case_id is None:
            raise ValidationError({"error": "that message is not in a case"})
        run(check_can_work, request.user, message.case)
        case = run(actions.split_message, message, actor=request.user)
        return Response(case_row(case), status=status.HTTP_201_CREATED)


class ContactViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAgent]
    lookup_value_regex = ID_PATTERN
    serializer_class = s.ContactSerializer
    queryset = Contact.objects.all()

    def retrieve(self, request, pk=None):
        contact = get_object_or_404(Contact, pk=pk)
        cases = list(
            visible_cases(request.user).filter(contact=contact).order_by("-created_at")[:50]
        )
        if not cases and not is_supervisor(request.user):
            raise NotFound()
        return Response(s.ContactSerializer(contact, context={"cases": cases}).data)
