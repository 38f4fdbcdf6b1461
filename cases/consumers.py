"""The `/ws/inbox/` consumer: live events for the cases a user may see, and presence.

Authentication happens in `connect()`; the socket joins the groups of `cases.events`
that fit the user. Nothing is queried per event: the groups already decide who hears
what. A browser that reconnects sends `{"type": "catchup", "since": <seq>}` and gets the
current rows of every visible case changed since then; an open one asks the same now and
then, since group delivery drops frames silently (a full group, a Redis hiccup that the
socket itself survives).
"""

import asyncio
import contextlib
import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cases import events, presence
from cases.models import Case, CaseEvent
from cases.permissions import can_view, role_of

try:  # daphne's WebSocket protocol refuses a frame for a socket its client has just closed
    from autobahn.exception import Disconnected as ClientGone
except ImportError:  # another ASGI server
    ClientGone = ()

CATCHUP_LIMIT = 500
# Presence is shared through Redis; a broadcast that has not gone out by then is dropped
# (and logged) rather than holding up the socket's other frames, its catch-up among them.
PRESENCE_WAIT = 5.0

log = logging.getLogger(__name__)


@database_sync_to_async
def _groups(user) -> list[str] | None:
    """The groups the user's socket joins; None for a login without an agent, supervisor or
    admin role, who sees no case and gets no socket."""
    if role_of(user) is None:
        return None
    return events.groups_for_user(user)


@database_sync_to_async
def _visible_case(user, case_id):
    case = Case.objects.filter(pk=case_id).first()
    return case if case is not None and can_view(user, case) else None


@database_sync_to_async
def _catchup(user, since: int) -> dict:
    # The newest id before the rows: a change committed meanwhile comes again next time
    # rather than falling between the rows read and the seq answered.
    newest = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or since
    changed = (
        CaseEvent.objects.filter(pk__gt=since)
        .order_by("-pk")
        .values_list("case_id", "pk")[: CATCHUP_LIMIT * 4]
    )
    latest: dict[int, int] = {}
    for case_id, pk in changed:
        latest.setdefault(case_id, pk)
    cases = (
        Case.objects.for_user(user)
        .filter(pk__in=list(latest)[:CATCHUP_LIMIT])
        .select_related("account", "contact", "assignee")
    )
    rows = list(events.case_rows(cases).values())
    return {"type": "catchup", "seq": newest, "rows": rows}


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        async def send_unless_gone(message):
            """A frame that meets a socket its client closed a moment ago is dropped: the
            disconnect already on its way ends this consumer, and the frame had no reader."""
            with contextlib.suppress(ClientGone):
                await send(message)

        await super().__call__(scope, receive, send_unless_gone)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        joined = await _groups(user)
        if joined is None:
            await self.close(code=4403)
            return
        self.user = user
        self.viewing: set[int] = set()
        # Presence broadcasts run one after another, beside the socket's other frames.
        self.presence_turn = asyncio.Lock()
        self.presence_pending: set[asyncio.Task] = set()
        self.joined = joined
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        # A viewing or typing update still on its way is moot once the socket has gone.
        if pending := list(getattr(self, "presence_pending", ())):
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for case_id in list(getattr(self, "viewing", ())):
            await self._presence_in_turn(case_id, "left")
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A frame that is not JSON text is ignored like any other unknown frame; left to
        the base class it raises and takes the socket down."""
        try:
            content = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
            content = None
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "presence":
            case_id, state = content.get("case"), content.get("state")
            # type(), not isinstance(): JSON true is a bool, and a bool is an int (case 1).
            if type(case_id) is not int or state not in presence.STATES:
                await self.send_json({"type": "error", "error": "presence needs case and state"})
                return
            if await _visible_case(self.user, case_id) is None:
                await self.send_json({"type": "error", "error": "no such case"})
                return
            self._share_presence(case_id, state)
        elif kind == "catchup":
            since = content.get("since")
            if type(since) is not int or since < 0:
                await self.send_json({"type": "error", "error": "catchup needs since"})
                return
            await self.send_json(await _catchup(self.user, since))
        elif kind == "ping":
            await self.send_json({"type": "pong"})

    def _share_presence(self, case_id: int, state: str) -> None:
        task = asyncio.ensure_future(self._presence_in_turn(case_id, state))
        self.presence_pending.add(task)
        task.add_done_callback(self.presence_pending.discard)

    async def _presence_in_turn(self, case_id: int, state: str) -> None:
        async with self.presence_turn:
            try:
                await asyncio.wait_for(self._presence(case_id, state), PRESENCE_WAIT)
            except Exception:  # Redis away or slow: presence is a courtesy, the socket goes on
                log.warning("presence on case %s not shared", case_id, exc_info=True)

    async def _presence(self, case_id: int, state: str) -> None:
        name = self.user.get_full_name() or self.user.get_username()
        if state == "left":
            self.viewing.discard(case_id)
        else:
            self.viewing.add(case_id)
        everyone = await database_sync_to_async(presence.update)(case_id, self.user.pk, name, state)
        case = await _visible_case(self.user, case_id)
        if case is None:
            return
        payload = events.presence(case_id, self.user, state)
        payload["viewers"] = everyone
        for group in events.groups_for_case(case):
            await self.channel_layer.group_send(group, {"type": "inbox.event", "event": payload})

    async def dispatch(self, message):
        # Live events only relay a frame: no database, so no close_old_connections() hop to
        # the sync thread per frame and socket (the cost of fan-out to many browsers).
        if message["type"] == "inbox.event":
            await self.inbox_event(message)
        else:
            await super().dispatch(message)

    async def inbox_event(self, message):
        await self.send_json(message["event"])
