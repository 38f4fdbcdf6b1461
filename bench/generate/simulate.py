"""One case's life, simulated with the product's own rules.

Each case gets a thread whose length, turn-taking and delays are drawn from `sources.Shape`.
Its messages are applied in time order by `cases.case_state.apply_message` (counters,
preview, running sentiment, SLA clocks, response times) exactly as the intake does; before
each message, and at the end, the warnings and breaches the SLA monitor would have fired by
then are fired (flags, breach count, timeline entries, the high-touch priority floor); the
end state (resolved, closed after the reopen window, pending, still open) follows the age of
the last message; the priority comes from `cases.scoring.rescore`. Rows are built in memory
with ids assigned here, for a bulk load.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.generate.cast import PUBLIC_SHARE, Cast
from bench.generate.sources import Shape
from bench.generate.texts import ScoredTexts, addressed
from cases import sla
from cases.business_time import business_duration
from cases.case_state import apply_message, pending_responses
from cases.health import health_for
from cases.models import Case, Status
from cases.priority import PRIORITY_LEVELS, urgency_words_of
from cases.scoring import rescore
from inbox.models import Contact

REOPEN_WINDOW = timedelta(hours=72)
# Assumptions, not measured: how much faster or slower than the twcs brands each tier is
# answered, how long a case stays open after its last message, and the share of cases left
# unresolved (the backlog) or waiting on the customer.
TIER_PACE = {"tech": 2.0, "low": 2.0, "mid": 1.0, "high": 0.5}
RESOLVE_MEDIAN = 2 * 3600
BACKLOG_SHARE = 0.04
PENDING_SHARE = 0.3
REPEAT_CUSTOMER = 0.35
TIER_MIX = (("tech", 15), ("low", 35), ("mid", 35), ("high", 15))
EVENT_COLUMNS = (
    "id",
    "case_id",
    "kind",
    "actor_id",
    "at",
    "message_id",
    "before",
    "after",
    "text",
    "is_automatic",
    "data",
)


class GenMessage:
    """A message row with the attributes `apply_message` reads (lighter than a model)."""

    COLUMNS = (
        "id",
        "account_id",
        "contact_id",
        "case_id",
        "delivery_id",
        "external_id",
        "channel",
        "direction",
        "kind",
        "is_public",
        "text",
        "author_external_id",
        "author_handle",
        "author_name",
        "in_reply_to",
        "conversation_id",
        "created_at",
        "received_at",
        "language",
        "sentiment_label",
        "sentiment_polarity",
        "sentiment_subjectivity",
        "status",
        "is_automatic",
        "sent_by_id",
        "send_attempts",
        "next_attempt_at",
        "error",
        "raw",
    )
    __slots__ = COLUMNS

    def __init__(self, **values) -> None:
        for name in self.COLUMNS:
            setattr(self, name, values.get(name))

    def row(self) -> tuple:
        return tuple(getattr(self, name) for name in self.COLUMNS)


@dataclass
class Batch:
    contacts: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    messages: list = field(default_factory=list)  # row tuples in GenMessage.COLUMNS order
    events: list = field(default_factory=list)  # row tuples in EVENT_COLUMNS order
    responses: list = field(default_factory=list)


class Ids:
    """The next free id per table (rows are written with explicit ids)."""

    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


class Simulator:
    def __init__(self, cast: Cast, shape: Shape, texts: ScoredTexts, ids: Ids, *, now, seed):
        self.cast, self.shape, self.texts, self.ids, self.now = cast, shape, texts, ids, now
        self.rng = random.Random(seed)
        self.regulars: dict[tuple[int, str], list[Contact]] = {}
        self.vip_agents = cast.agents[cast.teams["vip"]]
        self.changed_contacts: dict[int, Contact] = {}
        self.language_use: dict[str, int] = {}

    def run(self, created_times: list[datetime], lengths: list[int]) -> Batch:
        self.batch = batch = Batch()
        for created, length in zip(created_times, lengths, strict=True):
            self.case(created, length)
        return batch

    # -- the people -------------------------------------------------------------------
    def contact_for(self, account, channel: str, created: datetime) -> Contact:
        rng = self.rng
        known = self.regulars.setdefault((account.pk, channel), [])
        if known and rng.random() < REPEAT_CUSTOMER:
            return known[rng.randrange(max(0, len(known) - 5000), len(known))]
        number = self.ids.take("contact")
        tier = rng.choices([t for t, _ in TIER_MIX], [w for _, w in TIER_MIX])[0]
        contact = Contact(
            id=number,
            channel=channel,
            external_id=f"{channel}-{number}",
            handle=f"customer{number}",
            name=f"Customer {number}",
            followers=min(int(rng.lognormvariate(5.0, 2.0)), 5_000_000),
            tier=tier,
            owner=rng.choice(self.vip_agents) if tier == "high" else None,
            language=self.cast.language[account.pk],
        )
        contact.created_at = contact.updated_at = created
        known.append(contact)
        self.batch.contacts.append(contact)
        return contact

    def team_for(self, account, tier: str) -> int | None:
        draw = self.rng.random()
        if tier == "high" and draw < 0.6:
            return self.cast.teams["vip"]
        if draw < 0.08:
            return None
        if draw < 0.14:
            return self.cast.teams["billing" if draw < 0.11 else "escalations"]
        return self.cast.home_team[account.pk]

    # -- one case -----------------------------------------------------------------------
    def case(self, created: datetime, length: int) -> None:
        rng, cast, batch = self.rng, self.cast, self.batch
        account = rng.choices(cast.accounts, cast.account_weights)[0]
        channel = rng.choices(*cast.channels[account.pk])[0]
        contact = self.contact_for(account, channel, created)
        tier = cast.tiers[contact.tier]
        case = Case(
            id=self.ids.take("case"),
            account=account,
            contact=contact,
            channel=channel,
            status=Status.NEW,
            tier=tier,
            team_id=self.team_for(account, tier.slug),
            created_at=created,
            updated_at=created,
        )
        case._counted_bad = False
        is_public = rng.random() < PUBLIC_SHARE[channel]
        kind = ("post" if channel == "x" else "comment") if is_public else "dm"
        self.event(case, "created", created, after=f"{tier.slug} tier")
        if case.team_id and rng.random() < 0.85:
            self.assign(case, contact.owner or rng.choice(cast.agents[case.team_id]), created)
        inbound_texts, direction, at, first_external = [], "in", created, ""
        last_inbound = created
        previous_external = ""
        for position in range(length):
            if position:
                direction, at = self.next_turn(case, direction, at)
                self.fire(case, at)
            message = self.message(case, direction, at, kind, is_public)
            message.in_reply_to = previous_external
            message.conversation_id = first_external = first_external or message.external_id
            previous_external = message.external_id
            if direction == "in":
                inbound_texts.append(message.text)
                last_inbound = at
            elif not message.is_automatic and case.assignee_id is None:
                helper = rng.choice(cast.agents[case.team_id or cast.teams["escalations"]])
                self.assign(case, helper, at, actor=helper)
                message.sent_by_id = helper.pk
            apply_message(case, message, tier, None)
            batch.messages.append(message.row())
            self.event(case, f"message.{direction}", at, message=message)
        # The intake scores a case when a customer's message is filed, and the score stays.
        rescore(case, words=urgency_words_of(inbound_texts[-3:]), now=last_inbound)
        self.finish(case, direction, at)
        if case.priority != "P3":
            self.event(case, "priority", created, before="P3", after=case.priority, auto=True)
        batch.cases.append(case)
        batch.responses.extend(pending_responses(case))
        for response in case._new_responses:
            response.id = self.ids.take("response")
        case._new_responses = []

    def next_turn(self, case: Case, direction: str, at: datetime) -> tuple[str, datetime]:
        """Who writes next and when (delays from twcs; the last day squeezed before now)."""
        rng, shape = self.rng, self.shape
        odds = shape.inbound_after_inbound if direction == "in" else shape.inbound_after_outbound
        following = "in" if rng.random() < odds else "out"
        if following == "out" and direction == "in":
            automatic = case.tier.is_automated and case.automated_response_at is None
            delay = rng.uniform(5, 60) if automatic else rng.choice(shape.brand_delays)
            delay *= 1 if automatic else TIER_PACE[case.tier_id]
        elif following == "in":
            delay = rng.choice(shape.customer_delays) * (1 if direction == "out" else 0.2)
        else:
            delay = rng.uniform(30, 600)
        delay *= rng.uniform(0.8, 1.25)
        later = at + timedelta(seconds=delay)
        if later >= self.now:
            later = at + (self.now - at) * rng.random()
        return following, later

    def message(self, case: Case, direction: str, at: datetime, kind: str, is_public: bool):
        rng, account, contact = self.rng, case.account, case.contact
        number = self.ids.take("message")
        language = self.cast.language[account.pk]
        automatic = (
            direction == "out" and case.tier.is_automated and case.automated_response_at is None
        )
        if direction == "in":
            text = addressed(rng.choice(self.shape.inbound[language]), account.handle, is_public)
            author = (contact.external_id, contact.handle, contact.name)
        else:
            text = rng.choice(self.shape.outbound[language])
            author = (f"{account.slug}-brand", account.handle, account.name)
        label, polarity, subjectivity, detected = self.texts.score(text)
        self.language_use[detected] = self.language_use.get(detected, 0) + 1
        return GenMessage(
            id=number,
            account_id=account.pk,
            contact_id=contact.pk,
            case_id=case.pk,
            external_id=f"{case.channel}-{number}",
            channel=case.channel,
            direction=direction,
            kind=kind,
            is_public=is_public,
            text=text,
            author_external_id=author[0],
            author_handle=author[1],
            author_name=author[2],
            created_at=at,
            received_at=at + timedelta(seconds=rng.uniform(0.2, 3)),
            language=detected,
            sentiment_label=label,
            sentiment_polarity=polarity,
            sentiment_subjectivity=subjectivity,
            status="received" if direction == "in" else "delivered",
            is_automatic=automatic,
            sent_by_id=None if direction == "in" or automatic else case.assignee_id,
            send_attempts=0 if direction == "in" else 1,
            error="",
            raw={},
        )

    # -- what happens to a case besides its messages ----------------------------------
    def event(self, case, kind, at, *, actor=None, before="", after="", message=None, auto=False):
        self.batch.events.append(
            (
                self.ids.take("event"),
                case.pk,
                kind,
                actor.pk if actor is not None else None,
                at,
                message.id if message is not None else None,
                before,
                after,
                "",
                auto or (message.is_automatic if message is not None else False),
                {},
            )
        )

    def assign(self, case: Case, agent, at: datetime, *, actor=None) -> None:
        case.assignee = agent
        self.event(case, "assigned", at, actor=actor, before="", after=agent.username, auto=True)

    def fire(self, case: Case, until: datetime) -> None:
        """The warnings and breaches the SLA monitor fires by `until` (as monitor.check_case,
        stamped at the moment each fell due)."""
        breached = 0
        for name in sla.running(case):
            due, warn_at = getattr(case, f"{name}_due"), getattr(case, f"{name}_warn_at")
            if not getattr(case, f"{name}_warned") and warn_at and warn_at <= until:
                setattr(case, f"{name}_warned", True)
                self.event(case, "sla.warning", warn_at, after=name, auto=True)
            if not getattr(case, f"{name}_breached") and due <= until:
                setattr(case, f"{name}_breached", True)
                self.event(case, "sla.breached", due, after=name, auto=True)
                breached += 1
        if breached:
            case.breach_count += breached
            self.bad_experience(case, "SLA breached", until)
            level = PRIORITY_LEVELS.index(case.priority)
            if case.tier.breach_raises_priority and level > 0:
                case.priority = case.priority_floor = PRIORITY_LEVELS[level - 1]
                case.priority_floor_source = "SLA breach"
            if case.tier.breach_notifies_supervisors:
                self.event(case, "notified", until, after="supervisors", auto=True)
        sla.refresh_sla_due(case)

    def bad_experience(self, case: Case, reason: str, at: datetime) -> None:
        if case._counted_bad:
            return
        case._counted_bad = True
        contact = case.contact
        contact.bad_experiences += 1
        contact.health = health_for(contact.bad_experiences)
        self.changed_contacts[contact.pk] = contact
        self.event(case, "health.bad_experience", at, after=reason, auto=True)

    def finish(self, case: Case, direction: str, last: datetime) -> None:
        """Resolve (and close after the reopen window), leave pending, or leave open."""
        rng = self.rng
        resolve_at = last + timedelta(seconds=rng.lognormvariate(0, 1.0) * RESOLVE_MEDIAN)
        agent = case.assignee
        if resolve_at < self.now and rng.random() >= BACKLOG_SHARE:
            self.fire(case, resolve_at)
            before = case.status
            case.status, case.resolved_at, case.paused_at = Status.RESOLVED, resolve_at, None
            case.resolution_seconds = business_duration(
                case.created_at, resolve_at, None
            ).total_seconds()
            sla.refresh_sla_due(case)
            self.event(case, "status", resolve_at, actor=agent, before=before, after="resolved")
            case.updated_at = resolve_at
            if case.sentiment == "negative":
                self.bad_experience(case, "negative close", resolve_at)
            if resolve_at + REOPEN_WINDOW < self.now:
                case.status, case.closed_at = Status.CLOSED, resolve_at + REOPEN_WINDOW
                case.updated_at = case.closed_at
                self.event(case, "status", case.closed_at, before="resolved", after="closed")
            return
        if direction == "out" and rng.random() < PENDING_SHARE:
            sla.pause(case, last)
            self.event(case, "status", last, actor=agent, before=case.status, after="pending")
            case.status = Status.PENDING
            return
        self.fire(case, self.now)


def thread_lengths(shape: Shape, cases: int, messages: int, rng: random.Random) -> list[int]:
    """Lengths drawn from the twcs threads, scaled to the wanted mean, summing to exactly
    `messages` (each case has at least one)."""
    if messages < cases:
        raise ValueError("at least one message per case")
    observed = shape.thread_lengths
    scale = (messages / cases) / (sum(observed) / len(observed))
    lengths = []
    for drawn in rng.choices(observed, k=cases):
        value = drawn * scale
        whole = int(value) + (rng.random() < value - int(value))
        lengths.append(max(1, min(whole, 400)))
    difference = messages - sum(lengths)
    while difference:
        index = rng.randrange(cases)
        if difference > 0:
            lengths[index] += 1
            difference -= 1
        elif lengths[index] > 1:
            lengths[index] -= 1
            difference += 1
    return lengths


def arrival_times(shape: Shape, cases: int, now: datetime, days: int, rng) -> list[datetime]:
    """When each case's first message came: any day of the period, hours as in twcs."""
    hours = rng.choices(range(24), shape.hour_weights, k=cases)
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    times = []
    for hour in hours:
        moment = start + timedelta(
            days=rng.randrange(days + 1), hours=hour, seconds=rng.uniform(0, 3600)
        )
        times.append(moment if moment < now else now - timedelta(seconds=rng.uniform(1, 86400)))
    times.sort()
    return times
