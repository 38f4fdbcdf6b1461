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
