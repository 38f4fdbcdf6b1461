"""Live events: the one place that knows channel-layer group names.

Events are plain dicts with a `type`, the case id and what a list row needs. They are sent
only after the transaction commits, and each carries `seq`, the newest timeline id of the
change, so a browser that reconnects asks for what came after the last `seq` it saw.
"""

import logging

from channels.layers import get_channel_layer
from django.db import transaction

from caremgr.kept_loop import run_async

log = logging.getLogger(__name__)

SUPERVISORS = "supervisors"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def groups_for_case(case) -> list[str]:
    groups = [SUPERVISORS]
    if case.team_id:
        groups.append(team_group(case.team_id))
    if case.assignee_id:
        groups.append(user_group(case.assignee_id))
    if case.previous_assignee_id and case.previous_assignee_id != case.assignee_id:
        groups.append(user_group(case.previous_assignee_id))
    return groups


def groups_for_user(user) -> list[str]:
    """Every group a user's browser joins: their own, their teams', supervisors' if so."""
    groups = [user_group(user.pk)]
    profile = getattr(user, "profile", None)
    if user.is_superuser or (profile and profile.is_supervisor):
        groups.append(SUPERVISORS)
    if profile is not None:
        groups.extend(team_group(t) for t in profile.teams.values_list("id", flat=True))
    return groups


class _Flush:
    """The after-commit callback of one transaction (savepoint): all its frames in one go."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, dict]] = []

    def __call__(self) -> None:
        layer = get_channel_layer()
        if layer is None or not self.frames:
            return
        frames = self.frames
        # The Redis layer (caremgr.channel_layer) sends them all in a couple of round trips.
        send_many = getattr(layer, "group_send_many", None)

        async def send_all() -> None:
            if send_many is not None:
                try:
                    await send_many(frames)
                except Exception:  # Redis down: browsers catch up on reconnect
                    log.warning("%d live events not sent", len(frames), exc_info=True)
                return
            for group, frame in frames:
                try:
                    await layer.group_send(group, frame)
                except Exception:
                    log.warning("live event to %s not sent", group, exc_info=True)

        try:
            run_async(send_all)
        except Exception:
            log.warning("live events not sent", exc_info=True)


def publish(groups: list[str], payload: dict) -> None:
    """Send after commit; a failing channel layer never breaks the operation that changed.

    Frames of one transaction are sent together by one call into the event loop: crossing
    from sync to async costs more than the sends themselves.
    """
    frame = {"type": "inbox.event", "event": payload}
    frames = [(group, frame) for group in dict.fromkeys(groups)]
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        here = set(connection.savepoint_ids)
        for sids, callback, _robust in connection.run_on_commit:
            if isinstance(callback, _Flush) and set(sids) == here:
                callback.frames.extend(frames)
                return
    flush = _Flush()
    flush.frames.extend(frames)
    transaction.on_commit(flush)


def case_row(case) -> dict:
    """The case's list row, as the list API writes it."""
    from cases.api import rows

    return rows.case_rows([rows.instance_values(case)])[0]


def case_rows(cases) -> dict[int, dict]:
    """List rows of many cases, by id."""
    from cases.api import rows

    cases = list(cases)
    built = rows.case_rows([rows.instance_values(case) for case in cases])
    return {case.pk: row for case, row in zip(cases, built, strict=True)}


def message_data(messages) -> dict[int, dict]:
    from cases.api.message_items import message_items

    messages = list(messages)
    return {m.pk: item for m, item in zip(messages, message_items(messages), strict=True)}


def case_event(case, kind: str, seq: int | None, row: dict | None = None) -> None:
    """`case.created` or `case.updated` with the list row."""
    row = row if row is not None else case_row(case)
    publish(groups_for_case(case), {"type": kind, "case": case.pk, "seq": seq, "row": row})


def message_created(
    case, message, seq: int | None, row: dict | None = None, data: dict | None = None
) -> None:
    publish(
        groups_for_case(case),
        {
            "type": "message.created",
            "case": case.pk,
            "seq": seq,
            "message": data if data is not None else message_data([message])[message.pk],
            "row": row if row is not None else case_row(case),
        },
    )


def message_updated(case, message, seq: int | None) -> None:
    """`message.updated`: a message changed after it was shown (a reply sent or failed)."""
    publish(
        groups_for_case(case),
        {
            "type": "message.updated",
            "case": case.pk,
            "seq": seq,
            "message": message_data([message])[message.pk],
        },
    )


def sla_event(case, kind: str, target: str, seq: int | None) -> None:
    """`sla.warning` or `sla.breached` for one target (first_response, next_response, ...)."""
    publish(
        groups_for_case(case),
        {"type": kind, "case": case.pk, "seq": seq, "target": target, "row": case_row(case)},
    )


def presence(case_id: int, user, state: str) -> dict:
    return {
        "type": "presence",
        "case": case_id,
        "user": user.pk,
        "name": user.get_full_name() or user.get_username(),
        "state": state,
    }
