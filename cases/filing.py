"""Filing a batch of new messages into cases: the state changes of the intake.

A `Filer` applies each placement (join, reopen, new, unfiled) to in-memory cases, then
writes everything with a few bulk queries: the new cases, the changed ones, the messages'
case links and the timeline. What happens after filing (assignment, automation, live
events) is the intake's.

A case opened in the batch is inserted only at `write()`, in one statement with the other
new ones and already in its final state. Until then it carries a provisional negative id:
the batch uses ids only as keys, and `write()` moves every link over to the real id.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from cases import sla
from cases.case_state import (
    DERIVED_FIELDS,
    apply_message,
    pending_responses,
    replay,
    write_responses,
)
from cases.models import Case, CaseEvent, ResponseTime, Status, Team
from cases.priority import urgency_words_of
from cases.routing import active_rules, decide
from cases.scoring import SCORE_FIELDS, rescore_logged
from cases.threading import JOIN, NEW, REOPEN, CaseFinder, Placement
from cases.timeline import event
from inbox.bulk import insert_rows, new_instance, update_rows
from inbox.models import Account, Direction, Message
from inbox.references import checked_together

CASE_FIELDS = [
    *DERIVED_FIELDS,
    *SCORE_FIELDS,
    "reopen_count",
    "resolved_at",
    "created_at",
]


# Largest case derived again from all its messages when one arrives late (see `_replay`).
REPLAYED_AT_MOST = 1_000


class Filer:
    def __init__(self, account: Account, finder: CaseFinder, now: datetime):
        self.account = account
        self.finder = finder
        self.now = now
        self.tiers = finder.tiers
        self.rules = active_rules()
        self._teams: dict[int, Team] = {}
        self.touched: dict[int, Case] = {}
        self.created: list[Case] = []
        self.reopened: list[Case] = []
        self.filed: list[Message] = []
        self.events: list[CaseEvent] = []
        # Timeline entries of messages not stored yet: they get the message's id at write().
        self.unsaved_links: list[tuple[CaseEvent, Message]] = []
        self.texts: dict[int, list[str]] = defaultdict(list)
        self.new_messages: dict[int, list[Message]] = defaultdict(list)
        # Cases a message reached after a newer one: derived again from all their messages.
        self.replays: set[int] = set()
        # Customers whose case began in this batch, or began earlier through it.
        self.begun_for: set[int] = set()

    def hours(self, case: Case):
        if case.team_id is None:
            return None
        team = self._teams.get(case.team_id)
        if team is None:
            team = Team.objects.prefetch_related("hours").get(pk=case.team_id)
            self._teams[team.pk] = team
        return sla.hours_of(team)

    def file(self, message: Message, placement: Placement) -> Case | None:
        if placement.action == NEW:
            case = self._open_case(message)
        elif placement.action in (JOIN, REOPEN) and placement.case is not None:
            case = placement.case
            if placement.action == REOPEN:
                self._reopen(case, message)
        else:
            return None
        if placement.action == JOIN and _arrives_late(case, message):
            self.replays.add(case.pk)
        earlier = message.direction == Direction.IN and message.created_at < case.created_at
        if earlier:
            case.created_at = message.created_at
            self.begun_for.add(case.contact_id)
        apply_message(case, message, self.tiers[case.tier_id], self.hours(case))
        if earlier and case.reopen_count == 0 and not sla.has_first_response(case):
            sla.started_earlier(case, self.tiers[case.tier_id], self.hours(case))
        # What `message.case = case` does, without the descriptors' checks (a few
        # microseconds a message): both are ours, built or loaded by this batch.
        message.__dict__["case_id"] = case.pk
        message._state.fields_cache["case"] = case
        self.filed.append(message)
        self.finder.note_filed(message, case)
        self.touched[case.pk] = case
        self.new_messages[case.pk].append(message)
        if message.direction == Direction.IN:
            self.texts[case.pk].append(message.text)
        entry = event(
            case,
            f"message.{message.direction}",
            at=message.created_at,
            message=message,
            automatic=message.is_automatic,
            actor=message.sent_by if message.sent_by_id is not None else None,
        )
        self.events.append(entry)
        if message.pk is None:
            self.unsaved_links.append((entry, message))
        return case

    def _open_case(self, message: Message) -> Case:
        decision = decide(self.account, message.contact, message, self.rules)
        tier = self.tiers.get(decision.tier) or self.tiers["mid"]
        case = new_instance(
            Case,
            {
                "account_id": self.account.pk,
                "contact_id": message.contact_id,
                "channel": message.channel,
                "status": Status.NEW,
                "tier_id": tier.pk,
                "team_id": decision.team_id,
                "priority_floor": decision.priority_floor,
                "required_skills": decision.required_skills,
                "tags": decision.tags,
                "created_at": message.created_at,
                "updated_at": message.created_at,
            },
            {"account": self.account, "contact": message.contact, "tier": tier},
        )
        case.pk = -len(self.created) - 1  # provisional, until write()
        self.begun_for.add(case.contact_id)
        case._auto_reply = decision.auto_reply
        self.finder.remember(case)
        self.created.append(case)
        self.events.append(
            event(
                case,
                "created",
                at=message.created_at,
                after=f"{tier.slug} tier",
                data={"rules": decision.rules, "team": decision.team_id},
            )
        )
        return case

    def _reopen(self, case: Case, message: Message) -> None:
        previous = case.status
        case.status = Status.OPEN
        case.reopen_count += 1
        case.resolved_at = None
        sla.reopen_clocks(case, self.tiers[case.tier_id], self.hours(case), message.created_at)
        self.reopened.append(case)
        self.events.append(
            event(case, "reopened", at=message.created_at, before=previous, after=Status.OPEN)
        )

    def write(self, new: Sequence[Message] = ()) -> None:
        """Rescore and save every touched case, link the messages, write the timeline.

        `new`: the batch's messages not stored yet, filed or not, in arrival order: they are
        inserted with their case, after the new cases and before the timeline.
        """
        self._replay()
        for case in self.touched.values():
            # No text when only our replies arrived: the words kept on the case count.
            texts = self.texts.get(case.pk)
            words = urgency_words_of(texts[-3:]) if texts else None
            entry = rescore_logged(case, words=words, now=self.now)
            if entry is not None:
                self.events.append(entry)
        with checked_together(max(len(self.filed), len(new))):
            self._insert_created()
            created = {case.pk for case in self.created}
            update_rows([c for c in self.touched.values() if c.pk not in created], CASE_FIELDS)
            update_rows([m for m in self.filed if m.pk is not None], ["case"])
            insert_rows(new)
            for entry, message in self.unsaved_links:
                entry.message_id = message.pk
            insert_rows(self.events)
            write_responses(self.touched.values())

    def stored_filed(self) -> list[int]:
        """Ids of the messages filed so far that are stored already."""
        return [m.pk for m in self.filed if m.pk is not None]

    def _replay(self) -> None:
        """Derive each case a message reached late again from all its messages, in the
        order they were written (a brand's earlier answer arriving after a later one is
        the case's first response, as if they had come in order)."""
        if not self.replays:
            return
        stored_ids = [pk for pk in self.replays if pk > 0]
        stored: dict[int, list[Message]] = defaultdict(list)
        stored_messages = Message.objects.filter(case_id__in=stored_ids).defer("raw")
        for message in stored_messages.order_by("created_at", "id"):
            stored[message.case_id].append(message)
        ResponseTime.objects.filter(case_id__in=stored_ids).delete()
        for pk in self.replays:
            case = self.touched[pk]
            messages = [*stored[pk], *self.new_messages[pk]]
            ordered = replay(case, messages, self.tiers[case.tier_id], self.hours(case))
            # Its priority weighs its newest words, whichever delivery brought them.
            self.texts[pk] = [m.text for m in ordered if m.direction == Direction.IN]

    def _insert_created(self) -> None:
        """Insert the cases opened in this batch and move every link to their real ids."""
        if not self.created:
            return
        provisional = [case.pk for case in self.created]
        insert_rows(self.created)
        real = {old: case.pk for old, case in zip(provisional, self.created, strict=True)}
        for case in self.created:
            for response in pending_responses(case):
                response.case_id = case.pk
        for row in (*self.filed, *self.events):
            # Straight into the row: the descriptor would also drop the cached case, which
            # is the same object, now with its real id.
            state = row.__dict__
            state["case_id"] = real.get(state["case_id"], state["case_id"])
        self.touched = {real.get(pk, pk): case for pk, case in self.touched.items()}
        for by_case in (self.new_messages, self.texts):
            for old in provisional:
                if old in by_case:
                    by_case[real[old]] = by_case.pop(old)


def _arrives_late(case: Case, message: Message) -> bool:
    """The message was written before the newest one its case has, and the case holds
    nothing a replay of its messages would undo: no reopening, no pause, not closed. A
    case past REPLAYED_AT_MOST messages takes it as it comes: reading them all again for
    each late message would cost more than the figures it could correct."""
    return (
        case.last_message_at is not None
        and message.created_at < case.last_message_at
        and case.message_count <= REPLAYED_AT_MOST
        and case.reopen_count == 0
        and case.status in (Status.NEW, Status.OPEN)
    )
