"""Which cases match a text: one of its messages contains it, or its customer's handle or
name does (the list's `q`). The last-message preview needs no condition of its own: it
is the start of a message's text.

The list shows the newest matches first, a page at a time, so the fast plan depends on how
common the text is, and PostgreSQL cannot tell from its statistics (at 1M messages a word
in 1 % of them made it fetch and sort every match: 0.4–1 s). So the matching message and
contact rows are counted first, up to a bound, through the trigram indexes (migration
0008): a rare text becomes a short list of ids that the primary key and contact indexes
fetch directly; a common one is checked case by case while walking the list in its order,
which stops after a page because matches are everywhere. SQLite takes the same path by
scanning.
"""

from django.db.models import Exists, OuterRef, Q

from inbox.models import Contact, Message

# Beyond this many matching rows, walking the list finds a page sooner than fetching ids.
FEW = 2000
MAX_LENGTH = 200


def text_query(value: str) -> Q:
    """The condition on cases for the text `value` (an empty text matches everything)."""
    value = value.strip()[:MAX_LENGTH]
    if not value:
        return Q()
    messages = Message.objects.filter(text__icontains=value).order_by()
    contacts = Contact.objects.filter(Q(handle__icontains=value) | Q(name__icontains=value))
    case_ids = list(messages.values_list("case_id", flat=True)[: FEW + 1])
    contact_ids = list(contacts.order_by().values_list("pk", flat=True)[: FEW + 1])
    if len(case_ids) > FEW:
        by_text = Q(Exists(messages.filter(case=OuterRef("pk"))))
    else:
        by_text = Q(pk__in={pk for pk in case_ids if pk is not None})
    if len(contact_ids) > FEW:
        by_contact = Q(contact__in=contacts.values("pk"))
    else:
        by_contact = Q(contact_id__in=contact_ids)
    return by_text | by_contact
