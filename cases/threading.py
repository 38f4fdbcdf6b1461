"""Which case a message belongs to.

An inbound message joins the case of the message it replies to when that case is the same
customer's, else the customer's open case on the account, else it reopens the customer's
case resolved within the reopen window, else it starts a new case; a case merged away
sends its customer to the case it was merged into. An outbound message (a reply made here
or the brand's native reply) joins the case of what it answers, else the customer's open
case; one answering a message not stored yet waits unfiled until that message arrives
(`orphans_answering`), and one answering nothing joins the customer's latest case.

Decisions are made for a whole batch with a constant number of queries: webhooks hand in
one or a few messages, imports thousands.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from cases.models import OPEN_STATUSES, Case, Status, Team, Tier
from inbox.lookups import in_bulk, instances, instances_in, rows_in
from inbox.models import Account, Contact, Direction, Message

JOIN, REOPEN, NEW, UNFILED = "join", "reopen", "new", "unfiled"
# Table names for the plain lookups, quoted as the ORM quotes them.
MESSAGES = connection.ops.quote_name(Message._meta.db_table)
CASES = connection.ops.quote_name(Case._meta.db_table)


def reopen_window() -> timedelta:
    return timedelta(hours=getattr(settings, "CAREMGR_REOPEN_WINDOW_HOURS", 72))


@dataclass(slots=True)
class Placement:
    action: str
    case: Case | None


class CaseFinder:
    """Knows, for one batch of messages of one account, the cases they may belong to."""

    def __init__(self, account: Account, messages: Sequence[Message]):
        self.account = account
        self.window = reopen_window()
        self.cases: dict[int, Case] = {}
        self.by_contact: dict[int, list[Case]] = {}
        self.case_of_message: dict[str, int] = {}
        # Every tier, by slug: a handful of rows, which the filing needs too.
        self.tiers: dict[str, Tier] = {t.slug: t for t in instances(Tier)}
        if not messages:
            return
        reply_ids = {m.in_reply_to for m in messages if m.in_reply_to}
        self.case_of_message.update(
            rows_in(
                f"SELECT external_id, case_id FROM {MESSAGES} WHERE account_id = %s"  # noqa: S608
                " AND case_id IS NOT NULL AND external_id IN ({keys})",
                [account.pk],
                reply_ids,
            )
        )
        earliest = min(m.created_at for m in messages) - self.window
        # Open and recently resolved cases of these customers, and those merged away (they
        # redirect to the case they were merged into, followed in `_root`), then the cases
        # replied to that are not among them. Plain statements: compiling the ORM's join of
        # five tables cost a webhook delivery more than the rest of its filing.
        found = instances_in(
            Case,
            f"(status IN ({', '.join(['%s'] * len(OPEN_STATUSES))})"
            " OR (status = %s AND resolved_at >= %s) OR merged_into_id IS NOT NULL)"
            " AND account_id = %s AND contact_id IN ({keys})",
            [
                *(status.value for status in OPEN_STATUSES),
                Status.RESOLVED.value,
                connection.ops.adapt_datetimefield_value(earliest),
                account.pk,
            ],
            sorted({m.contact_id for m in messages}),
        )
        replied = set(self.case_of_message.values()) - {case.pk for case in found}
        found += instances_in(Case, "account_id = %s AND id IN ({keys})", [account.pk], replied)
        _attach_related(found, account, messages, self.tiers)
        for case in found:
            self.remember(case)
        self.latest_of_contact = self._latest_cases(
            {m.contact_id for m in messages if m.direction == Direction.OUT} - set(self.by_contact)
        )

    def _latest_cases(self, contact_ids: set[int]) -> dict[int, Case]:
        """The most recently updated case of each of these customers, read for the whole
        batch: an outbound message of a customer without a case in view joins it."""
        ids = [
            pk
            for pk, rank in rows_in(
                f"SELECT id, ROW_NUMBER() OVER (PARTITION BY contact_id"  # noqa: S608
                f" ORDER BY updated_at DESC, id DESC) FROM {CASES}"
                " WHERE account_id = %s AND contact_id IN ({keys})",
                [self.account.pk],
                sorted(contact_ids),
            )
            if rank == 1
        ]
        if not ids:
            return {}
        found = Case.objects.filter(pk__in=ids).select_related(
            "tier", "team", "merged_into", "contact"
        )
        return {case.contact_id: case for case in found}

    def remember(self, case: Case) -> None:
        self.cases[case.pk] = case
        self.by_contact.setdefault(case.contact_id, []).append(case)

    def note_filed(self, message: Message, case: Case) -> None:
        """Later messages of the batch may reply to this one."""
        if message.external_id:
            self.case_of_message[message.external_id] = case.pk

    def _root(self, case: Case) -> Case:
        seen = set()
        while case.merged_into_id and case.pk not in seen:
            seen.add(case.pk)
            case = self.cases.get(case.merged_into_id) or self._load(case.merged_into_id)
        return case

    def _load(self, pk: int) -> Case:
        case = Case.objects.select_related("tier", "team", "merged_into").get(pk=pk)
        self.remember(case)
        return case

    def _replied_case(self, message: Message) -> Case | None:
        pk = self.case_of_message.get(message.in_reply_to) if message.in_reply_to else None
        if pk is None:
            return None
        return self._root(self.cases.get(pk) or self._load(pk))

    def _contact_cases(self, contact_id: int) -> list[Case]:
        return [self._root(c) for c in self.by_contact.get(contact_id, ())]

    def place(self, message: Message) -> Placement:
        if message.direction == Direction.OUT:
            return self._place_outbound(message)
        return self._place_inbound(message)

    def _place_inbound(self, message: Message) -> Placement:
        replied = self._replied_case(message)
        if replied is not None and replied.contact_id == message.contact_id:
            placement = self._join_or_reopen(replied, message.created_at)
            if placement.action != NEW:
                return placement
            # The thread's case is long closed: the customer's open case takes it, if any.
        mine = self._contact_cases(message.contact_id)
        open_cases = [c for c in mine if c.status in OPEN_STATUSES]
        if open_cases:
            return Placement(JOIN, max(open_cases, key=lambda c: (c.updated_at, c.pk)))
        resolved = [c for c in mine if c.status == Status.RESOLVED and c.resolved_at]
        if resolved:
            latest = max(resolved, key=lambda c: c.resolved_at)
            return self._join_or_reopen(latest, message.created_at)
        return Placement(NEW, None)

    def _join_or_reopen(self, case: Case, at: datetime) -> Placement:
        if case.status in OPEN_STATUSES:
            return Placement(JOIN, case)
        if (
            case.status == Status.RESOLVED
            and case.resolved_at
            and at - case.resolved_at <= (self.window)
        ):
            return Placement(REOPEN, case)
        return Placement(NEW, None)

    def _place_outbound(self, message: Message) -> Placement:
        replied = self._replied_case(message)
        if replied is not None:
            return Placement(JOIN, replied)
        if not message.contact.external_id:
            # The platform did not say whom the brand answered: only the thread can tell.
            return Placement(UNFILED, None)
        # Only a case the customer had opened when it was written: whichever arrives first,
        # a brand's message older than the customer's case is not part of it.
        mine = [
            c for c in self._contact_cases(message.contact_id) if c.created_at <= message.created_at
        ]
        open_cases = [c for c in mine if c.status in OPEN_STATUSES]
        if open_cases:
            return Placement(JOIN, max(open_cases, key=lambda c: (c.updated_at, c.pk)))
        if message.in_reply_to:
            # It answers a message not here yet: adopted by that message's case on arrival,
            # rather than counted as a response on an older case.
            return Placement(UNFILED, None)
        if mine:
            return Placement(JOIN, max(mine, key=lambda c: (c.updated_at, c.pk)))
        latest = self.latest_of_contact.pop(message.contact_id, None)
        if latest is not None and latest.created_at <= message.created_at:
            self.remember(latest)
            return Placement(JOIN, self._root(latest))
        return Placement(UNFILED, None)


def orphans_answering(
    account: Account,
    messages: Iterable[Message],
    *,
    filed: Iterable[int] = (),
    unstored: Iterable[Message] = (),
) -> list[Message]:
    """Outbound messages stored before the message they answer arrived, oldest first (a
    brand may answer its own answer, as it answers the customer).

    `filed`: ids of messages filed already (they came in the same batch as their question):
    only their ids are read, not whole rows to be thrown away. `unstored`: the batch's own
    unfiled messages when they are not written yet: those among them that answer one of
    `messages` are orphans too, after the stored ones of the same time (ids grow).
    """
    ids = [m.external_id for m in messages if m.external_id]
    if not ids:
        return []
    found = _unfiled_outbound(account, "in_reply_to IN ({keys})", [], ids, filed=filed)
    answered = set(ids)
    waiting = [m for m in unstored if m.direction == Direction.OUT and m.in_reply_to in answered]
    if waiting:
        found = sorted([*found, *waiting], key=lambda m: m.created_at)  # stable: ids order ties
    return found


def _attach_related(
    cases: list[Case], account: Account, messages: Sequence[Message], tiers: dict[str, Tier]
) -> None:
    """Give each case its account, contact, tier, team and assignee, as `select_related`
    would: the messages' contacts where they hold them, the rest in one query per model."""
    if not cases:
        return
    contacts = {m.contact_id: m._state.fields_cache.get("contact") for m in messages}
    contacts = {pk: contact for pk, contact in contacts.items() if contact is not None}
    missing = {case.contact_id for case in cases} - set(contacts)
    if missing:
        contacts.update(in_bulk(Contact, missing))
    teams = in_bulk(Team, {case.team_id for case in cases} - {None})
    assignees = in_bulk(get_user_model(), {case.assignee_id for case in cases} - {None})
    for case in cases:
        case._state.fields_cache.update(
            account=account,
            contact=contacts[case.contact_id],
            tier=tiers[case.tier_id],
            team=teams.get(case.team_id),
            assignee=assignees.get(case.assignee_id),
        )


def loose_replies(
    account: Account, contact_ids: Iterable[int], *, filed: Iterable[int]
) -> list[Message]:
    """The brand's messages to these customers that answer nothing we hold, stored unfiled
    (they arrived before the customer's case was there), oldest first: those that name no
    message, and those that answer one never stored (a tweet older than the import, a
    comment deleted), which a case the customer has open takes whichever comes first."""
    where = (
        f"(in_reply_to = %s OR NOT EXISTS (SELECT 1 FROM {MESSAGES} answered"  # noqa: S608
        f" WHERE answered.account_id = %s AND answered.external_id = {MESSAGES}.in_reply_to))"
        " AND contact_id IN ({keys})"
    )
    keys = sorted(set(contact_ids))
    return _unfiled_outbound(account, where, ["", account.pk], keys, filed=filed)


def _unfiled_outbound(
    account: Account, where: str, params: list, keys: list, *, filed: Iterable[int]
) -> list[Message]:
    """The account's stored outbound messages in no case that match `where` (its `{keys}`
    IN list), but those in `filed`, oldest first: ids read first, then only the rows kept."""
    # The direction written out, not a parameter: the planner matches the partial index of
    # exactly these rows (`message_unfiled_reply`) at once, instead of on every new value.
    unfiled = rows_in(
        f"SELECT id FROM {MESSAGES} WHERE account_id = %s"  # noqa: S608
        f" AND direction = '{Direction.OUT.value}' AND case_id IS NULL AND {where}",
        [account.pk, *params],
        keys,
    )
    wanted = {row[0] for row in unfiled} - set(filed)
    if not wanted:
        return []
    return list(Message.objects.filter(pk__in=wanted).order_by("created_at", "id"))
