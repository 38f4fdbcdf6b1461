"""Retention and churn of customers over a period (SPEC §1 "Measures").

A customer (contact) *counts* in a window when they had a case created in it. For the
period [start, end):

- customers at start: distinct contacts with a case created in the previous period of equal
  length, [start - (end - start), start);
- customers at end: distinct contacts with a case created in [start, end);
- new customers: contacts of [start, end) whose first case ever was created in [start, end).

retention rate = (customers at end - new customers) / customers at start × 100
churn rate     = (customers at start - customers at end) / customers at start × 100

Churn is negative when the customer base grew (more customers at end than at start). Both
rates are None when there were no customers at start. Every figure is one SQL count.
"""

from datetime import datetime

from django.db.models import Min

from cases.models import Case


def _contacts_between(start: datetime, end: datetime):
    return Case.objects.filter(created_at__gte=start, created_at__lt=end).values("contact_id")


def retention(start: datetime, end: datetime) -> dict:
    if end <= start:
        raise ValueError("the period must end after it starts")
    previous_start = start - (end - start)
    at_start = _contacts_between(previous_start, start).distinct().count()
    at_end = _contacts_between(start, end).distinct().count()
    new = (
        Case.objects.filter(contact_id__in=_contacts_between(start, end))
        .values("contact_id")
        .annotate(first=Min("created_at"))
        .filter(first__gte=start)
        .count()
    )
    if at_start:
        retention_rate = round((at_end - new) / at_start * 100, 2)
        churn_rate = round((at_start - at_end) / at_start * 100, 2)
    else:
        retention_rate = churn_rate = None
    return {
        "customers_at_start": at_start,
        "customers_at_end": at_end,
        "new_customers": new,
        "retention_rate": retention_rate,
        "churn_rate": churn_rate,
    }
