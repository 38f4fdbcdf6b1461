"""Live events: the one place that knows channel-layer group names.

Events are plain dicts with a `type`, the case id and what a list row needs. They are sent
only after the transaction commits, and each carries `seq`, the newest timeline id of the
change, so a browser that reconnects asks for what came after the last `seq` it saw.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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


def publish(groups: list[str], payload: dict) -> None:
    """Send after commit; a failing channel layer never breaks the operation that changed."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        frame = {"type": "inbox.event", "event": payload}
        for group in dict.fromkeys(groups):
            try:
                async_to_sync(layer.group_send)(group, frame)
            except Exception:  # Redis down: the browser catches up on reconnect
                log.warning("live event to %s not sent", group, exc_info=True)

    transaction.on_commit(send)


def case_row(case) -> dict:
    from cases.api.serializers import CaseSerializer

    return CaseSerializer(case).data


def case_event(case, kind: str, seq: int | None) -> None:
    """`case.created` or `case.updated` with the list row."""
    publish(
        groups_for_case(case), {"type": kind, "case": case.pk, "seq": seq, "row": case_row(case)}
    )


def message_created(case, message, seq: int | None) -> None:
    from cases.api.serializers import MessageSerializer

    publish(
        groups_for_case(case),
        {
            "type": "message.created",
            "case": case.pk,
            "seq": seq,
            "message": MessageSerializer(message).data,
            "row": case_row(case),
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
