"""Operations on cases: the one place that changes a case, writes its timeline entry and
schedules the live event. Views, the API, commands and tasks all call these.

Each operation validates first (raising ActionError / Forbidden), then writes inside one
transaction with the case row locked, and sends live events only after commit.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cases import assignment, events, health, sla, surveys
from cases.business_time import business_duration
from cases.case_state import DERIVED_FIELDS, apply_message, replay, write_responses
from cases.models import (
    OPEN_STATUSES,
    AssignmentStrategy,
    Case,
    CaseEvent,
    Priority,
    Status,
    Tier,
)
from cases.permissions import ActionError
from cases.scoring import SCORE_FIELDS, rescore_logged
from cases.timeline import event
from inbox.models import Direction, Message, SendStatus

User = get_user_model()
MAX_TEXT = 10_000


def _locked(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("tier", "team", "contact", "account", "assignee")
        .get(pk=case.pk)
    )


def _touch(case: Case, fields: list[str], entry: CaseEvent) -> Case:
    case.updated_at = timezone.now()
    case.save(update_fields=[*fields, "updated_at"])
    if entry.pk is None:
        entry.save()
    events.case_event(case, "case.updated", entry.pk)
    return case


def assign_case(case: Case, agent, *, actor) -> Case:
    """Give the case to agent (None = back to the team queue) and tell everyone who sees it."""
    if agent is not None and not hasattr(agent, "profile"):
        raise ActionError("that user is not an agent")
    with transaction.atomic():
        case = _locked(case)
        if case.assignee_id == (agent.pk if agent else None):
            return case
        entry = assignment.give(case, agent, actor=actor)
        _touch(case, ["assignee", "previous_assignee"], entry)
        if agent is None and case.team_id:
            drain_queue(case.team_id)
    return case


def set_status(case: Case, status: str, *, actor) -> Case:
    if status not in Status.values:
        raise ActionError(f"status must be one of {', '.join(Status.values)}")
    with transaction.atomic():
        case = _locked(case)
        previous = case.status
        if previous == status:
            return case
        now = timezone.now()
        hours = sla.hours_of(case.team)
        if status == Status.PENDING:
            sla.pause(case, now)
        elif previous == Status.PENDING:
            sla.resume(case, hours, now)
        case.status = status
        if status == Status.RESOLVED:
            case.resolved_at = now
            case.paused_at = None
            case.resolution_seconds = business_duration(case.created_at, now, hours).total_seconds()
        elif status == Status.CLOSED:
            case.closed_at = now
        elif previous in (Status.RESOLVED, Status.CLOSED):
            case.reopen_count += 1
            case.resolved_at = case.closed_at = None
            sla.reopen_clocks(case, case.tier, hours, now)
        sla.refresh_sla_due(case)
        moved = rescore_logged(case, now=now)  # a case waits, and rises, only while new or open
        entry = event(case, "status", actor=actor, at=now, before=previous, after=status)
        _touch(
            case,
            [
                "status",
                "resolved_at",
                "resolution_seconds",
                "closed_at",
                "reopen_count",
                *sla.SLA_FIELDS,
                *SCORE_FIELDS,
            ],
            entry,
        )
        if moved is not None:  # after the entry that moved it
            moved.save()
        if status in (Status.RESOLVED, Status.CLOSED) and case.sentiment == "negative":
            _record_negative_close(case, now)
        if status == Status.RESOLVED and surveys.send_survey(case) is not None:
            case.refresh_from_db()
        frees_capacity = status in (Status.RESOLVED, Status.CLOSED) and previous in OPEN_STATUSES
        if frees_capacity and case.team_id:
            drain_queue(case.team_id)
    return case


def _record_negative_close(case: Case, now) -> None:
    """A case resolved or closed on negative sentiment is one bad experience (a case counts
    at most once, whatever made it count)."""
    health.count_bad_experience(case, "negative close", at=now)


def set_priority(case: Case, priority: str, *, actor) -> Case:
    """A person's priority sticks: the score goes on explaining, never overwrites it."""
    if priority not in Priority.values:
        raise ActionError(f"priority must be one of {', '.join(Priority.values)}")
    with transaction.atomic():
        case = _locked(case)
        previous = case.priority
        case.priority, case.is_priority_manual = priority, True
        entry = event(case, "priority", actor=actor, before=previous, after=priority)
        _touch(case, ["priority", "is_priority_manual"], entry)
    return case


def set_tier(case: Case, tier_slug: str, *, actor) -> Case:
    tier = Tier.objects.filter(slug=tier_slug).first()
    if tier is None:
        raise ActionError(f"unknown tier {tier_slug!r}")
    with transaction.atomic():
        case = _locked(case)
        previous = case.tier_id
        case.tier = tier
        sla.retarget(case, tier, sla.hours_of(case.team))
        entry = event(case, "tier", actor=actor, before=previous, after=tier.slug)
        _touch(case, ["tier", *sla.SLA_FIELDS], entry)
    return case


def add_note(case: Case, text: str, *, actor) -> CaseEvent:
    text = (text or "").strip()
    if not text:
        raise ActionError("a note needs text")
    if len(text) > MAX_TEXT:
        raise ActionError(f"a note has at most {MAX_TEXT} characters")
    with transaction.atomic():
        case = _locked(case)
        entry = event(case, "note", actor=actor, text=text)
        _touch(case, [], entry)
    return entry


def record_reply(
    case: Case, text: str, *, actor, automatic: bool = False, responds: bool = True
) -> Message:
    """Queue a reply to the customer; the response clocks stop now, sending happens after
    commit through the outbox. `responds=False`: a message that answers nothing (a survey
    invitation) and stops no clock."""
    from inbox.outbound.outbox import queue_send
    from sentiment import analyze

    text = (text or "").strip()
    if not text:
        raise ActionError("a reply needs text")
    if len(text) > MAX_TEXT:
        raise ActionError(f"a reply has at most {MAX_TEXT} characters")
    with transaction.atomic():
        case = _locked(case)
        answered = (
            Message.objects.filter(case=case, direction=Direction.IN)
            .order_by("-created_at", "-id")
            .first()
        )
        now = timezone.now()
        mood = analyze(text)
        message = Message.objects.create(
            account=case.account,
            contact=case.contact,
            case=case,
            channel=case.channel,
            direction=Direction.OUT,
            kind=answered.kind if answered else "dm",
            is_public=answered.is_public if answered else False,
            text=text,
            author_handle=case.account.handle,
            author_name=case.account.name,
            in_reply_to=(answered.external_id or "") if answered else "",
            conversation_id=answered.conversation_id if answered else "",
            created_at=now,
            language=mood.language,
            sentiment_label=mood.label,
            sentiment_polarity=mood.polarity,
            sentiment_subjectivity=mood.subjectivity,
            status=SendStatus.QUEUED,
            is_automatic=automatic,
            sent_by=None if automatic else actor,
        )
        apply_message(case, message, case.tier, sla.hours_of(case.team), responds=responds)
        moved = rescore_logged(case, now=now)  # the wait it answers no longer counts
        entry = event(
            case,
            "reply",
            actor=None if automatic else actor,
            at=now,
            message=message,
            text=text,
            automatic=automatic,
        )
        _touch(case, [*DERIVED_FIELDS, *SCORE_FIELDS], entry)
        if moved is not None:  # after the entry that moved it
            moved.save()
        write_responses([case])
        events.message_created(case, message, entry.pk)
        queue_send(message.pk)
    return message


def resend_reply(message: Message, *, actor) -> Message:
    """Send a failed reply again, with fresh attempts, once however often it is asked."""
    from inbox.outbound.outbox import resend

    if message.direction != Direction.OUT or message.case_id is None:
        raise ActionError("only a reply of a case can be sent again")
    with transaction.atomic():
        case = _locked(message.case)
        if not resend(message.pk):
            raise ActionError("only a reply that failed can be sent again")
        message.refresh_from_db()
        _touch(case, [], event(case, "reply.resent", actor=actor, message=message))
        events.message_updated(case, message, None)
    return message


def rebuild(case: Case) -> None:
    """Recompute everything a case derives from its messages (after merge or split)."""
    case.responses.all().delete()
    replay(
        case, list(case.messages.order_by("created_at", "id")), case.tier, sla.hours_of(case.team)
    )
    write_responses([case])


def merge_cases(case: Case, into: Case, *, actor) -> Case:
    """Move every message of `case` into `into`; `case` closes, pointing at `into`."""
    if case.pk == into.pk:
        raise ActionError("a case cannot be merged into itself")
    if into.merged_into_id:
        raise ActionError(f"case #{into.pk} was itself merged; merge into #{into.merged_into_id}")
    if case.account_id != into.account_id:
        raise ActionError("only cases of the same account can be merged")
    with transaction.atomic():
        first, second = sorted([case, into], key=lambda c: c.pk)
        locked = {c.pk: _locked(c) for c in (first, second)}
        case, into = locked[case.pk], locked[into.pk]
        moved = Message.objects.filter(case=case).update(case=into)
        previous_status = case.status
        case.status, case.merged_into, case.closed_at = Status.CLOSED, into, timezone.now()
        rebuild(case)
        case.sla_due = None
        _touch(
            case,
            [*DERIVED_FIELDS, "merged_into", "closed_at", "created_at"],
            event(case, "merged", actor=actor, before=previous_status, after=f"#{into.pk}"),
        )
        rebuild(into)
        _touch(
            into,
            [*DERIVED_FIELDS, "created_at"],
            event(into, "merged", actor=actor, before=f"#{case.pk}", after=f"{moved} messages"),
        )
    return into


def split_message(message: Message, *, actor) -> Case:
    """Move one inbound message (and nothing else) into a case of its own."""
    if message.case_id is None:
        raise ActionError("that message is not in a case")
    if message.direction != Direction.IN:
        raise ActionError("only a customer's message can start a case")
    with transaction.atomic():
        source = _locked(message.case)
        if source.messages.count() < 2:
            raise ActionError("the case has only this message")
        fresh = Case.objects.create(
            account=source.account,
            contact=message.contact,
            channel=message.channel,
            tier=source.tier,
            team=source.team,
            created_at=message.created_at,
            updated_at=message.created_at,
        )
        Message.objects.filter(pk=message.pk).update(case=fresh)
        for case, text in (
            (source, f"message moved to #{fresh.pk}"),
            (fresh, f"split from #{source.pk}"),
        ):
            rebuild(case)
            _touch(
                case,
                [*DERIVED_FIELDS, "created_at"],
                event(case, "split", actor=actor, text=text, message=message),
            )
        entry = assignment.route(fresh)
        if entry is not None:
            fresh.save(update_fields=["assignee", "previous_assignee"])
            entry.save()
    return fresh


def drain_queue(team_id: int, *, limit: int = 200) -> int:
    """Hand waiting cases of a team to free agents, oldest first, until nobody is free."""
    handed = 0
    with transaction.atomic():
        for case in assignment.queue(team_id).select_related("team", "contact", "tier")[:limit]:
            entry = assignment.route(case)
            if entry is None or case.assignee_id is None:
                if case.team.strategy == AssignmentStrategy.SKILLS:
                    continue  # nobody free has this case's skills; a later case may fit
                break
            locked = Case.objects.select_for_update(of=("self",)).filter(
                pk=case.pk, assignee__isnull=True
            )
            if not locked.update(assignee=case.assignee, previous_assignee=case.previous_assignee):
                continue  # someone else took it meanwhile
            entry.save()
            events.case_event(case, "case.updated", entry.pk)
            handed += 1
    return handed


def set_presence(user, presence: str) -> None:
    """An agent's availability; coming online hands them waiting cases of their teams."""
    from cases.models import AgentProfile, Presence

    if presence not in Presence.values:
        raise ActionError(f"presence must be one of {', '.join(Presence.values)}")
    with transaction.atomic():
        AgentProfile.objects.filter(user=user).update(
            presence=presence, presence_changed_at=timezone.now()
        )
        if presence == Presence.ONLINE:
            for team_id in user.profile.teams.values_list("id", flat=True):
                drain_queue(team_id)


__all__ = [
    "add_note",
    "assign_case",
    "drain_queue",
    "merge_cases",
    "record_reply",
    "resend_reply",
    "set_presence",
    "set_priority",
    "set_status",
    "set_tier",
    "split_message",
]
