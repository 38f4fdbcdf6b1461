"""Polling the X API v2 for accounts without Enterprise webhook access.

Mentions (`GET /2/users/:id/mentions` with a `since_id` checkpoint) and DM events
(`GET /2/dm_events`, newest first, read until the last event seen) are rewritten into the
Account Activity shape the X connector already parses, stored as a Delivery and handed over
like any webhook: one intake, one set of rules, duplicates harmless.
"""

import json
import logging
from datetime import datetime

import httpx
from django.conf import settings
from django.db import transaction

from inbox.handoff import hand_over
from inbox.models import Account, Delivery

log = logging.getLogger(__name__)
TWEET_FIELDS = "created_at,author_id,in_reply_to_user_id,referenced_tweets,conversation_id"
USER_FIELDS = "username,name,public_metrics"
MAX_DM_PAGES = 5


class PollError(RuntimeError):
    """The X API refused or failed; the message says why."""


def _millis(iso: str) -> str:
    return str(int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000))


def _users(payload: dict) -> dict[str, dict]:
    return {u["id"]: u for u in payload.get("includes", {}).get("users", []) if "id" in u}


def _v1_user(user: dict) -> dict:
    return {
        "id_str": user["id"],
        "screen_name": user.get("username", ""),
        "name": user.get("name", ""),
        "followers_count": user.get("public_metrics", {}).get("followers_count", 0),
    }


def mentions_as_activity(own_id: str, payload: dict) -> dict:
    """A v2 mentions page as Account Activity `tweet_create_events`."""
    users = _users(payload)
    events = []
    for tweet in payload.get("data", []):
        author = users.get(tweet.get("author_id"), {"id": tweet.get("author_id", "")})
        replied = next(
            (r["id"] for r in tweet.get("referenced_tweets", []) if r.get("type") == "replied_to"),
            None,
        )
        events.append(
            {
                "id_str": tweet["id"],
                "text": tweet.get("text", ""),
                "timestamp_ms": _millis(tweet["created_at"]),
                "user": _v1_user(author),
                "in_reply_to_status_id_str": replied,
                "in_reply_to_user_id_str": tweet.get("in_reply_to_user_id"),
            }
        )
    return {"for_user_id": own_id, "tweet_create_events": events}


def dm_events_as_activity(own_id: str, events: list[dict], users: dict[str, dict]) -> dict:
    """v2 DM events as Account Activity `direct_message_events` with their `users` map."""
    converted = []
    for event in events:
        if event.get("event_type") != "MessageCreate":
            continue
        sender = event.get("sender_id", "")
        participants = event.get("participant_ids") or []
        recipient = next(
            (p for p in participants if p != sender), own_id if sender != own_id else ""
        )
        converted.append(
            {
                "type": "message_create",
                "id": event["id"],
                "created_timestamp": _millis(event["created_at"]),
                "message_create": {
                    "sender_id": sender,
                    "target": {"recipient_id": recipient},
                    "message_data": {"text": event.get("text", "")},
                },
            }
        )
    user_map = {
        uid: {
            "id": uid,
            "screen_name": u.get("username", ""),
            "name": u.get("name", ""),
            "followers_count": u.get("public_metrics", {}).get("followers_count", 0),
        }
        for uid, u in users.items()
    }
    return {"for_user_id": own_id, "direct_message_events": converted, "users": user_map}


def _get(client: httpx.Client, path: str, params: dict) -> dict:
    try:
        answer = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise PollError(f"X API not reachable: {type(exc).__name__}") from None
    if answer.status_code != 200:
        raise PollError(f"X API answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()


def _store(account: Account, activity: dict) -> int:
    with transaction.atomic():
        delivery = Delivery.objects.create(
            account=account, body=json.dumps(activity).encode(), content_type="application/json"
        )
        hand_over(delivery.pk)
    return delivery.pk


def poll_once(account: Account, client: httpx.Client | None = None) -> int:
    """One pass over mentions and DMs; returns how many deliveries were stored."""
    if not account.own_ids:
        raise PollError(f"account {account.slug} has no own X user id (own_ids)")
    own_id = str(account.own_ids[0])
    owns_client = client is None
    client = client or httpx.Client(
        base_url=settings.CAREMGR_API_BASE["x"].rstrip("/"),
        headers={"Authorization": f"Bearer {account.access_token}"},
        timeout=httpx.Timeout(15.0, connect=5.0),
    )
    stored = 0
    state = dict(account.poll_state or {})
    try:
        params = {
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": USER_FIELDS,
            "max_results": 100,
        }
        if state.get("mentions_since_id"):
            params["since_id"] = state["mentions_since_id"]
        page = _get(client, f"/users/{own_id}/mentions", params)
        if page.get("data"):
            _store(account, mentions_as_activity(own_id, page))
            stored += 1
        newest = page.get("meta", {}).get("newest_id")
        if newest:
            state["mentions_since_id"] = newest

        seen = state.get("dm_seen_id")
        fresh, users, token = [], {}, None
        for _ in range(MAX_DM_PAGES):
            params = {
                "dm_event.fields": "id,text,created_at,sender_id,participant_ids,event_type",
                "expansions": "sender_id",
                "user.fields": USER_FIELDS,
                "max_results": 100,
            }
            if token:
                params["pagination_token"] = token
            page = _get(client, "/dm_events", params)
            users.update(_users(page))
            events = page.get("data", [])
            reached = [e for e in events if e.get("id") == seen]
            fresh.extend(events[: events.index(reached[0])] if reached else events)
            token = page.get("meta", {}).get("next_token")
            if reached or not token or not seen:
                break
        if fresh:
            _store(account, dm_events_as_activity(own_id, fresh, users))
            stored += 1
            state["dm_seen_id"] = fresh[0]["id"]
    finally:
        if owns_client:
            client.close()
        if state != account.poll_state:
            Account.objects.filter(pk=account.pk).update(poll_state=state)
            account.poll_state = state
    return stored
