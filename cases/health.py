"""Customer health: one bad experience marks a customer at risk, repeated ones high risk.

A bad experience is a breached SLA, a case closed on negative sentiment, or a CSAT of 2 or
less; each case counts at most once.
"""

from django.db.models import F

from inbox.models import Contact, Health


def health_for(bad_experiences: int) -> str:
    if bad_experiences >= 2:
        return Health.HIGH_RISK
    if bad_experiences == 1:
        return Health.AT_RISK
    return Health.HEALTHY


def record_bad_experience(contact_id: int) -> str:
    Contact.objects.filter(pk=contact_id).update(bad_experiences=F("bad_experiences") + 1)
    count = Contact.objects.filter(pk=contact_id).values_list("bad_experiences", flat=True).first()
    health = health_for(count or 0)
    Contact.objects.filter(pk=contact_id).update(health=health)
    return health


def count_bad_experience(case, reason: str, *, at=None) -> bool:
    """Count one bad experience for the case's customer, at most once per case.

    The timeline entry "health.bad_experience" marks the case as counted, whichever came
    first: a breach, a negative close or a low CSAT. Returns whether it counted now.
    """
    from cases.models import CaseEvent
    from cases.timeline import event

    if CaseEvent.objects.filter(case=case, kind="health.bad_experience").exists():
        return False
    event(case, "health.bad_experience", at=at, automatic=True, after=reason).save()
    record_bad_experience(case.contact_id)
    return True
