"""Who gets a case: strategies per team, only online agents, never over capacity.

Candidates are locked (`select_for_update`, in id order so two workers never deadlock)
before their load is counted, so two workers assigning at the same moment see each
other's result and never give the same agent more than their capacity. A case that finds
nobody waits in its team's queue, oldest first, and is handed out by `drain_queue` the
moment capacity frees (an agent comes online, a case is resolved or handed back).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from cases.models import OPEN_STATUSES, AgentProfile, AssignmentStrategy, Case, Presence

User = get_user_model()
EPOCH = datetime.min.replace(tzinfo=UTC)


def _online_profiles(team_id: int | None, *, lock: bool) -> list[AgentProfile]:
    if team_id is None:
        return []
    qs = AgentProfile.objects.filter(teams=team_id, presence=Presence.ONLINE).order_by("pk")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return list(qs.select_related("user"))


def load_of(user_ids: Sequence[int], *, besides: int | None = None) -> dict[int, int]:
    """Open cases per agent, leaving out case `besides` (the one being handed out)."""
    rows = (
        Case.objects.filter(assignee_id__in=user_ids, status__in=OPEN_STATUSES)
        .exclude(pk=besides)
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    loads = {uid: 0 for uid in user_ids}
    loads.update({row["assignee_id"]: row["n"] for row in rows})
    return loads


def _skilled(profile: AgentProfile, case: Case) -> bool:
    skills = set(profile.skills or [])
    if case.required_skills and not set(case.required_skills) <= skills:
        return False
    languages = set(profile.languages or [])
    return not (languages and case.language and case.language not in languages)


def pick_agent(case: Case, *, owner=None, avoid: int | None = None) -> User | None:
    """The agent this case should go to now, or None (it waits in the queue); never the
    agent with id `avoid` (reassigning away from them)."""
    team = case.team
    if owner is not None:
        profile = (
            AgentProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user=owner, presence=Presence.ONLINE)
            .first()
        )
        # A reopened case still names its owner: it must not count against their capacity.
        if profile and load_of([owner.pk], besides=case.pk)[owner.pk] < profile.capacity:
            return owner
    if team is None or team.strategy == AssignmentStrategy.MANUAL:
        return None
    profiles = [p for p in _online_profiles(team.pk, lock=True) if p.user_id != avoid]
    if team.strategy == AssignmentStrategy.SKILLS:
        profiles = [p for p in profiles if _skilled(p, case)]
    if not profiles:
        return None
    loads = load_of([p.user_id for p in profiles])
    free = [p for p in profiles if loads[p.user_id] < p.capacity]
    if not free:
        return None
    if team.strategy == AssignmentStrategy.ROUND_ROBIN:
        chosen = min(free, key=lambda p: (p.last_assigned_at or EPOCH, p.pk))
    else:  # least loaded, also after the skills filter; ties: longest since last case
        chosen = min(
            free,
            key=lambda p: (
                loads[p.user_id] / max(p.capacity, 1),
                p.last_assigned_at or EPOCH,
                p.pk,
            ),
        )
    return chosen.user


def mark_assigned(agent) -> None:
    AgentProfile.objects.filter(user=agent).update(last_assigned_at=timezone.now())


def queue(team_id: int):
    """Cases of a team waiting for an agent, oldest first; tech-touch ones only once escalated
    (automation answers the rest)."""
    return (
        Case.objects.filter(team_id=team_id, assignee__isnull=True, status__in=OPEN_STATUSES)
        .filter(~Q(team__strategy=AssignmentStrategy.MANUAL))
        .exclude(tier__is_automated=True, is_escalated=False)
        .order_by("created_at", "pk")
    )


def give(case: Case, agent, *, actor=None, automatic: bool = False, at=None):
    """Set the assignee (None = back to the queue) and return the unsaved timeline entry."""
    from cases.timeline import event

    previous = case.assignee
    if previous is not None and previous != agent:
        case.previous_assignee = previous
    case.assignee = agent
    if agent is not None:
        mark_assigned(agent)
    return event(
        case,
        "assigned",
        actor=actor,
        at=at,
        before=previous,
        after=agent or "queue",
        automatic=automatic,
    )


def route(case: Case, *, reopened: bool = False):
    """Automatic assignment of a new or reopened case; returns a timeline entry or None.

    A reopened case goes back to its previous owner only while they are online (else to
    the queue); a high-touch customer's dedicated manager comes first, then the team.
    """
    from cases.timeline import event

    owner = None
    if reopened and case.assignee_id:
        owner = case.previous_assignee = case.assignee
        case.assignee = None
    elif case.tier_id == "high" and case.contact.owner_id:
        owner = case.contact.owner
    agent = pick_agent(case, owner=owner)
    if agent is not None:
        return give(case, agent, automatic=True)
    if reopened and owner is not None:
        return event(case, "assigned", before=owner, after="queue", automatic=True)
    return None
