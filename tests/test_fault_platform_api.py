"""A platform API failing on replies: retries with backoff, then a failed status the agent
sees on the case (API, page, live event, timeline) and can resend, and the resend posts
the reply exactly once.

The platform is the local fake over real HTTP, told to answer 500, 429 with Retry-After,
to hang past the timeout, then 503 and 502; the reply goes through the real API and the
outbox's background sender.
"""

import asyncio
import json
import threading
import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connections
from django.test import Client
from django.utils import timezone

from cases import events
from cases.models import Case, Team
from inbox.models import Message
from inbox.outbound.outbox import drain_outbox
from tests.conftest import generic_message, make_account, make_user, post_generic

# The sender runs in a background thread after commit: it sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<img src=x onerror="alert(1)">upstream exploded'


@pytest.fixture
def world(fake_platform, settings):
    settings.CAREMGR_TASKS_INLINE = True
    team = Team.objects.create(name="Care", slug="care")
    account = make_account(
        "generic", "shop", secret=fake_platform.GENERIC_SECRET, default_team=team
    )
    agent = make_user("ana", teams=[team])
    client = Client()
    client.force_login(agent)
    answer = post_generic(client, account, generic_message("q-1", "Where is my parcel?"))
    assert answer.status_code == 200
    return {"team": team, "client": client, "agent": agent, "case": Case.objects.get()}


def let_retry_time_pass(message_id: int) -> None:
    Message.objects.filter(pk=message_id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def wait_in_seconds(message: Message) -> int:
    return round((message.next_attempt_at - timezone.now()).total_seconds())


class Listener:
    """A channel in a case's team group, as a browser's socket has, keeping what it hears.

    Waiting for the `message.updated` of an attempt also waits for the sender to finish
    its transaction: the in-memory test database locks a table while a thread writes.
    """

    def __init__(self, group: str) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(group, self.channel)
        self.frames: list[dict] = []

    def statuses(self) -> list[str]:
        return [f["message"]["status"] for f in self.frames if f["type"] == "message.updated"]

    def wait_for_updates(self, count: int, seconds: float = 10.0) -> list[str]:
        async def receive() -> None:
            deadline = time.monotonic() + seconds
            while len(self.statuses()) < count and time.monotonic() < deadline:
                try:
                    frame = await asyncio.wait_for(self.layer.receive(self.channel), 0.2)
                except TimeoutError:
                    continue
                self.frames.append(frame["event"])

        async_to_sync(receive)()
        assert len(self.statuses()) >= count, f"heard {self.statuses()}, wanted {count}"
        return self.statuses()


def reload(message_id: int) -> Message:
    return Message.objects.get(pk=message_id)


def reply(client, case, text: str) -> int:
    answer = client.post(
        f"/api/v1/cases/{case.pk}/reply/", {"text": text}, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def test_a_failing_platform_is_retried_then_the_reply_shows_failed_and_resends_once(
    world, fake_platform, quick_timeouts
):
    client, case = world["client"], world["case"]
    live = Listener(events.team_group(world["team"].pk))
    fake_platform.fail_next(1, 500)
    fake_platform.fail_next(1, 429, retry_after=120)
    fake_platform.hang_next(1, seconds=2.0)
    fake_platform.fail_next(1, 503)
    fake_platform.fail_next(1, 502, error=HOSTILE)

    reply_id = reply(client, case, "A new parcel left today.")

    waits = []
    for attempt in range(1, 5):
        live.wait_for_updates(attempt)
        message = reload(reply_id)
        assert (message.status, message.send_attempts) == ("queued", attempt), message.error
        waits.append(wait_in_seconds(message))
        let_retry_time_pass(reply_id)
        drain_outbox()
    # 30 s after a 500, what Retry-After said after the 429, then the outbox's backoff.
    for waited, expected in zip(waits, [30, 120, 600, 1800], strict=True):
        assert expected - 5 <= waited <= expected, waits
    assert live.wait_for_updates(5) == ["queued"] * 4 + ["failed"]
    failed = reload(reply_id)
    assert failed.status == "failed"
    assert "HTTP 502" in failed.error and "gave up after 5 attempts" in failed.error
    assert len(fake_platform.requests) == 5
    assert live.frames[-1]["seq"] is not None  # a timeline entry: caught up after a reconnect
    assert drain_outbox() == 0  # failed for good: nothing more goes out by itself

    detail = client.get(f"/api/v1/cases/{case.pk}/").json()
    shown = next(m for m in detail["messages"] if m["id"] == reply_id)
    assert shown["status"] == "failed" and "gave up after 5 attempts" in shown["error"]
    assert "reply.failed" in [entry["kind"] for entry in detail["timeline"]]
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'<span class="send failed" id="send-{reply_id}">failed</span>' in page
    assert f'<button type="button" class="link" data-resend="{reply_id}">Resend</button>' in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;upstream exploded" in page
    assert HOSTILE not in page

    resent = client.post(f"/api/v1/messages/{reply_id}/resend/", content_type="application/json")
    assert resent.status_code == 200, resent.content
    assert resent.json()["status"] == "queued"
    assert live.wait_for_updates(7)[5:] == ["queued", "sent"]
    again = client.post(f"/api/v1/messages/{reply_id}/resend/", content_type="application/json")
    assert again.status_code == 400  # a second click does not send it twice
    sent = reload(reply_id)
    assert (sent.status, sent.error, sent.send_attempts) == ("sent", "", 1)
    assert sent.external_id.startswith("gen-")
    assert drain_outbox() == 0
    # The third request timed out (the fake was still holding it); the sixth is the resend,
    # the only request after the reply failed.
    statuses = [r.status for r in fake_platform.requests]
    assert len(statuses) == 6 and statuses[:2] == [500, 429] and statuses[3:] == [503, 502, 200]
    assert json.loads(fake_platform.last.body)["text"] == "A new parcel left today."
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'<span class="send sent" id="send-{reply_id}">sent</span>' in page
    assert f'data-resend="{reply_id}" hidden' in page
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.count("reply.failed") == 1 and kinds.count("reply.resent") == 1


def test_resend_is_refused_for_a_reply_that_did_not_fail(world, fake_platform):
    client, case = world["client"], world["case"]
    live = Listener(events.team_group(world["team"].pk))
    reply_id = reply(client, case, "On its way.")
    assert live.wait_for_updates(1) == ["sent"]

    refused = client.post(f"/api/v1/messages/{reply_id}/resend/", content_type="application/json")

    assert refused.status_code == 400
    assert "failed" in refused.json()["error"]
    assert len(fake_platform.requests) == 1


def test_an_agent_of_another_team_cannot_resend(world, fake_platform):
    case = world["case"]
    live = Listener(events.team_group(world["team"].pk))
    fake_platform.fail_next(1, 400, error="closed messaging window")
    reply_id = reply(world["client"], case, "Hello")
    assert live.wait_for_updates(1) == ["failed"]
    stranger = Client()
    stranger.force_login(make_user("bo", teams=[Team.objects.create(name="B", slug="b")]))

    refused = stranger.post(f"/api/v1/messages/{reply_id}/resend/")

    assert refused.status_code in (403, 404)
    assert reload(reply_id).status == "failed"
    assert len(fake_platform.requests) == 1


def test_two_resends_at_once_send_the_reply_once(world, fake_platform, needs_postgres):
    """A double click, or two agents pressing at once: one resend wins, one request goes out.
    (PostgreSQL: SQLite's in-memory test database locks tables instead of letting threads
    race.)"""
    live = Listener(events.team_group(world["team"].pk))
    fake_platform.fail_next(1, 400, error="closed messaging window")
    reply_id = reply(world["client"], world["case"], "Hello again")
    assert live.wait_for_updates(1) == ["failed"]
    start = threading.Barrier(2)
    answers = []

    def press() -> None:
        client = Client()
        client.force_login(world["agent"])
        start.wait(timeout=10)
        try:
            answers.append(client.post(f"/api/v1/messages/{reply_id}/resend/").status_code)
        finally:
            connections.close_all()

    pressing = [threading.Thread(target=press) for _ in range(2)]
    for thread in pressing:
        thread.start()
    for thread in pressing:
        thread.join(timeout=30)

    assert sorted(answers) == [200, 400]
    assert live.wait_for_updates(3)[1:] == ["queued", "sent"]
    assert [r.status for r in fake_platform.requests] == [400, 200]
    assert reload(reply_id).status == "sent"
