"""Following up an at-risk customer: a supervisor opens a high-touch case for them."""

from django.db import transaction
from django.utils import timezone

from cases import assignment, events, sla
from cases.models import Case, Status, Tier
from cases.permissions import ActionError
from cases.timeline import event
from inbox.models import Contact


def open_follow_up(contact: Contact, *, actor) -> Case:
    """A new open high-touch case for `contact` on the account and team of their latest case,
    SLA clocks started now, written to the timeline and routed (the customer's own manager
    first, then the team)."""
    latest = (
        Case.objects.filter(contact=contact).select_related("team").order_by("-created_at").first()
    )
    if latest is None:
        raise ActionError("this customer has no case to follow up on")
    tier = Tier.objects.get(slug="high")
    now = timezone.now()
    with transaction.atomic():
        case = Case(
            account_id=latest.account_id,
            contact=contact,
            channel=contact.channel,
            tier=tier,
            team=latest.team,
            status=Status.OPEN,
            created_at=now,
            updated_at=now,
        )
        sla.start_clocks(case, tier, sla.hours_of(latest.team), now)
        case.save()
        entry = event(case, "follow_up", actor=actor, at=now, text=f"follow-up of #{latest.pk}")
        entry.save()
        routed = assignment.route(case)
        if routed is not None:
            case.save(update_fields=["assignee", "previous_assignee"])
            routed.save()
        events.case_event(case, "case.created", entry.pk)
    return case
