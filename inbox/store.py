"""Storing parsed messages: contacts upserted, duplicates skipped, sentiment scored.

One code path serves webhooks (a few messages) and bulk imports (thousands): the common
case is a few set-based queries; a unique-constraint race with a concurrent copy of the
same delivery falls back to row-by-row inserts in savepoints, where the copy loses.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction

from inbox.bulk import insert_rows, new_instance
from inbox.connectors.base import ParsedMessage, Person, StatusUpdate, clean_json
from inbox.lookups import instances_in, rows_in
from inbox.models import Account, Contact, Message, SendStatus
from sentiment import Sentiment, analyze

PREVIEW_FIELDS = ("handle", "name", "followers")


@dataclass
class Stored:
    new: list[Message] = field(default_factory=list)
    duplicates: int = 0
    # Ids of the contacts this call inserted: no other transaction sees them before the
    # commit, and one storing the same customer waits on their unique key until then.
    new_contacts: set[int] = field(default_factory=set)


def upsert_contacts(people: Iterable[tuple[str, Person]]) -> dict[tuple[str, str], Contact]:
    """Contacts by (channel, external id), created or refreshed with what the platform says."""
    return _upsert_contacts(people)[0]


def _upsert_contacts(
    people: Iterable[tuple[str, Person]],
) -> tuple[dict[tuple[str, str], Contact], set[int]]:
    """`upsert_contacts`, and the ids of the contacts it inserted."""
    wanted: dict[tuple[str, str], Person] = {}
    for channel, person in people:
        key = (channel, person.external_id)
        known = wanted.get(key)
        # Keep the richest description seen in this batch (outbound copies carry less).
        if known is None or (person.handle and not known.handle) or person.followers:
            wanted[key] = person
    if not wanted:
        return {}, set()
    found = _fetch_contacts(wanted)
    missing = [key for key in wanted if key not in found]
    inserted: set[int] = set()
    if missing:
        new = [_new_contact(key, wanted[key]) for key in missing]
        insert_rows(new, ignore_conflicts=True, key=("channel", "external_id"))
        found.update(((c.channel, c.external_id), c) for c in new if c.pk is not None)
        inserted = {c.pk for c in new if c.pk is not None}
        # Read back only what a concurrent delivery stored first (or all, where the
        # database cannot say which rows it inserted).
        raced = {key: wanted[key] for key in missing if key not in found}
        if raced:
            found.update(_fetch_contacts(raced))
    changed = []
    for key, contact in found.items():
        person = wanted[key]
        dirty = False
        for attr in PREVIEW_FIELDS:
            value = getattr(person, attr)
            if value and getattr(contact, attr) != value:
                setattr(contact, attr, value)
                dirty = True
        if dirty:
            changed.append(contact)
    if changed:
        Contact.objects.bulk_update(changed, list(PREVIEW_FIELDS))
    return found, inserted


def _fetch_contacts(wanted: dict[tuple[str, str], Person]) -> dict[tuple[str, str], Contact]:
    by_channel: dict[str, list[str]] = {}
    for channel, external_id in wanted:
        by_channel.setdefault(channel, []).append(external_id)
    found = {}
    for channel, ids in by_channel.items():
        for contact in instances_in(
            Contact, "channel = %s AND external_id IN ({keys})", [channel], ids
        ):
            found[(channel, contact.external_id)] = contact
    return found


def _new_contact(key: tuple[str, str], person: Person) -> Contact:
    return new_instance(
        Contact,
        {
            "channel": key[0],
            "external_id": key[1],
            "handle": person.handle,
            "name": person.name,
            "followers": person.followers,
        },
    )


def existing_external_ids(account: Account, external_ids: Sequence[str]) -> set[str]:
    table = connection.ops.quote_name(Message._meta.db_table)
    sql = f"SELECT external_id FROM {table} WHERE account_id = %s AND external_id IN ({{keys}})"  # noqa: S608
    return {row[0] for row in rows_in(sql, [account.pk], external_ids)}


def build_message(
    account: Account,
    parsed: ParsedMessage,
    contact: Contact,
    delivery=None,
    mood: Sentiment | None = None,
) -> Message:
    """An unsaved message; `mood` is its sentiment when it was scored ahead."""
    mood = mood or analyze(parsed.text)
    outbound = parsed.direction == "out"
    return new_instance(
        Message,
        {
            "account_id": account.pk,
            "contact_id": contact.pk,
            "delivery_id": delivery.pk if delivery is not None else None,
            "external_id": parsed.external_id,
            "channel": parsed.channel,
            "direction": parsed.direction,
            "kind": parsed.kind,
            "is_public": parsed.is_public,
            "text": parsed.text,
            "author_external_id": parsed.author.external_id,
            "author_handle": parsed.author.handle,
            "author_name": parsed.author.name,
            "in_reply_to": parsed.in_reply_to,
            "conversation_id": parsed.conversation_id,
            "created_at": parsed.created_at,
            "language": mood.language,
            "sentiment_label": mood.label,
            "sentiment_polarity": mood.polarity,
            "sentiment_subjectivity": mood.subjectivity,
            "status": SendStatus.SENT if outbound else SendStatus.RECEIVED,
            "raw": clean_json(parsed.raw),
        },
        # What the filing reads of them, without a query.
        {"account": account, "contact": contact, "delivery": delivery},
    )


def store_messages(
    account: Account,
    parsed: Sequence[ParsedMessage],
    *,
    delivery=None,
    sentiments: Sequence[Sentiment] | None = None,
    delivery_of: Mapping[str, Any] | None = None,
) -> Stored:
    """Store what is new of `parsed` (in order) and say how many were already known.

    `sentiments`, when given, are the scores of `parsed`, item by item, computed ahead
    (a bulk import scores in worker processes); otherwise new messages are scored here.
    `delivery_of` names the delivery of each message by external id when a batch spans
    several deliveries (`delivery` is then the default).
    """
    result = prepare_messages(
        account, parsed, delivery=delivery, sentiments=sentiments, delivery_of=delivery_of
    )
    rows = result.new
    if not rows:
        return result
    try:
        with transaction.atomic():
            insert_rows(rows)
    except IntegrityError:
        # A concurrent copy stored some of these first: keep ours one by one.
        result.new = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.pk = None
                    row.save(force_insert=True)
                result.new.append(row)
            except IntegrityError:
                result.duplicates += 1
    return result


def prepare_messages(
    account: Account,
    parsed: Sequence[ParsedMessage],
    *,
    delivery=None,
    sentiments: Sequence[Sentiment] | None = None,
    delivery_of: Mapping[str, Any] | None = None,
) -> Stored:
    """What `store_messages` stores, not written yet: the new messages as unsaved rows
    (their contacts are stored), and how many were already known. The intake writes the
    rows itself once they know their case (`insert_rows`), or stores them that way."""
    result = Stored()
    moods = list(sentiments) if sentiments is not None else [None] * len(parsed)
    if len(moods) != len(parsed):
        raise ValueError(f"{len(moods)} sentiments for {len(parsed)} messages")
    seen: set[str] = set()
    unique = []
    for item, mood in zip(parsed, moods, strict=True):
        if item.external_id in seen:
            result.duplicates += 1
            continue
        seen.add(item.external_id)
        unique.append((item, mood))
    known = existing_external_ids(account, [m.external_id for m, _ in unique])
    fresh = [(m, mood) for m, mood in unique if m.external_id not in known]
    result.duplicates += len(unique) - len(fresh)
    if not fresh:
        return result
    contacts, result.new_contacts = _upsert_contacts((m.channel, m.customer) for m, _ in fresh)
    result.new = [
        build_message(
            account,
            m,
            contacts[(m.channel, m.customer.external_id)],
            delivery_of.get(m.external_id, delivery) if delivery_of else delivery,
            mood,
        )
        for m, mood in fresh
    ]
    return result


STATUS_ORDER = {
    SendStatus.QUEUED: 0,
    SendStatus.SENDING: 1,
    SendStatus.SENT: 2,
    SendStatus.DELIVERED: 3,
    SendStatus.READ: 4,
}


def apply_statuses(account: Account, updates: Sequence[StatusUpdate]) -> int:
    """Move our outbound messages forward (sent → delivered → read, or failed); never back."""
    if not updates:
        return 0
    by_id = {
        m.external_id: m
        for m in Message.objects.filter(
            account=account, direction="out", external_id__in=[u.external_id for u in updates]
        )
    }
    changed = []
    for update in updates:
        message = by_id.get(update.external_id)
        if message is None:
            continue
        if update.status == SendStatus.FAILED:
            message.status, message.error = SendStatus.FAILED, update.error[:2000]
        elif STATUS_ORDER.get(update.status, -1) > STATUS_ORDER.get(message.status, -1):
            message.status = update.status
        else:
            continue
        changed.append(message)
    if changed:
        Message.objects.bulk_update(changed, ["status", "error"])
    return len(changed)
