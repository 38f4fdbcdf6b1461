"""Who may do what to a case; checks raise typed errors the API and pages turn into 403/400."""

from cases.models import Case, Role


class ActionError(Exception):
    """Bad input for an operation (→ 400)."""


class Forbidden(Exception):
    """The user may not do this (→ 403)."""


def role_of(user) -> str | None:
    if not user or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    profile = getattr(user, "profile", None)
    return profile.role if profile else None


def is_supervisor(user) -> bool:
    return role_of(user) in (Role.SUPERVISOR, Role.ADMIN)


def team_ids(user) -> set[int]:
    profile = getattr(user, "profile", None)
    if profile is None:
        return set()
    cached = getattr(user, "_team_ids", None)
    if cached is None:
        cached = set(profile.teams.values_list("id", flat=True))
        user._team_ids = cached
    return cached


def can_view(user, case: Case) -> bool:
    if role_of(user) is None:
        return False
    if is_supervisor(user):
        return True
    return case.assignee_id == user.pk or (
        case.team_id is not None and case.team_id in team_ids(user)
    )


def check_can_work(user, case: Case) -> None:
    if not can_view(user, case):
        raise Forbidden("you may not work on this case")


def can_set_tier(user) -> bool:
    """A case's tier sets its SLA targets; it comes from the customer, the account or a routing
    rule, and only supervisors and admins override it (an agent could loosen their own clock)."""
    return is_supervisor(user)


def check_can_set_tier(user, case: Case) -> None:
    check_can_work(user, case)
    if not can_set_tier(user):
        raise Forbidden("only a supervisor may change a case's tier")


def check_can_assign(user, case: Case, agent) -> None:
    """Agents assign their own or unassigned cases to themselves or a teammate;
    supervisors reassign anyone."""
    check_can_work(user, case)
    if is_supervisor(user):
        return
    if case.assignee_id not in (None, user.pk):
        raise Forbidden("only a supervisor may reassign another agent's case")
    if agent is None or agent.pk == user.pk:
        return
    if case.team_id is None or case.team_id not in team_ids(agent):
        raise Forbidden("agents may only assign to a teammate of the case's team")
