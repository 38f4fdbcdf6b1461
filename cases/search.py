"""Which cases match a text: one of its messages contains it, or its customer's handle or
name does (the list's `q`). The last-message preview needs no condition of its own: it
is the start of a message's text.

The list shows the newest matches first, a page at a time, so the fast plan depends on how
common the text is, and PostgreSQL cannot tell from its statistics (at 1M messages a word
in 1 % of them made it fetch and sort every match: 0.4–1 s). So one statement first finds
the matching message and contact rows, up to a bound, through the trigram indexes
(migration 0008): a rare text becomes a short list of ids that the primary key and contact
indexes fetch directly; a common one is checked case by case while walking the list.
SQLite takes the same paths by scanning.

The same statement first looks for the text among the newest cases. When many of them hold
it, a tenth of the bound tells rare from common (reading and checking 2,001 matching
messages took 25 ms for a word in 1 % of them), and the list is walked in its order with
one check per case, which stops after a page: as an `EXISTS` PostgreSQL could still
choose to fetch every match first (0.2–0.4 s for words in 1–8 % of the cases), as a
scalar subquery it cannot. Past the bound without that evidence, PostgreSQL chooses.
"""

from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.lookups import IsNull

from inbox.models import Contact, Message

# Beyond this many matching rows, walking the list finds a page sooner than fetching ids.
FEW = 2000
MAX_LENGTH = 200
# The newest cases looked at first, and how many matching messages among them make the
# text common there: a page is then found among the first few hundred cases of the list.
SAMPLE = 100
DENSE = 10
FEW_WHEN_DENSE = 200


def text_query(value: str) -> Q:
    """The condition on cases for the text `value` (an empty text matches everything)."""
    value = value.strip()[:MAX_LENGTH]
    if not value:
        return Q()
    messages = Message.objects.filter(text__icontains=value).order_by()
    contacts = Contact.objects.filter(Q(handle__icontains=value) | Q(name__icontains=value))
    dense, case_ids, contact_ids = _matches(messages, contacts.order_by())
    if dense and len(case_ids) > FEW_WHEN_DENSE:
        first = Subquery(messages.filter(case=OuterRef("pk")).values("pk")[:1])
        by_text = Q(IsNull(first, False))
    elif len(case_ids) > FEW:
        by_text = Q(Exists(messages.filter(case=OuterRef("pk"))))
    else:
        by_text = Q(pk__in={pk for pk in case_ids if pk is not None})
    if len(contact_ids) > FEW:
        by_contact = Q(contact__in=contacts.values("pk"))
    else:
        by_contact = Q(contact_id__in=contact_ids)
    return by_text | by_contact


def _matches(messages, contacts) -> tuple[bool, list[int | None], list[int]]:
    """One statement: (whether the newest cases hold the text often, the case ids of up to
    FEW_WHEN_DENSE + 1 or else FEW + 1 matching messages, the ids of up to FEW + 1
    matching contacts)."""
    from cases.models import Case

    newest = Case.objects.order_by("-updated_at", "-id").values("pk")[:SAMPLE]
    sample = messages.filter(case__in=newest).values("case_id")[:DENSE]
    sample_sql, sample_params = sample.query.sql_with_params()
    dense_sql, dense_params = messages.values("case_id")[
        : FEW_WHEN_DENSE + 1
    ].query.sql_with_params()
    rare_sql, rare_params = messages.values("case_id")[: FEW + 1].query.sql_with_params()
    contact_sql, contact_params = contacts.values("pk")[: FEW + 1].query.sql_with_params()
    # The message parts run only on the side the sample chose (a one-time filter). Every
    # value is a parameter: the parts are Django's own SQL with their parameters apart.
    count = "(SELECT COUNT(*) FROM sample)"
    sql = (
        f"WITH sample AS ({sample_sql}) SELECT 0, NULL FROM sample"  # noqa: S608
        f" UNION ALL SELECT 1, m.* FROM ({dense_sql}) m WHERE {count} >= %s"
        f" UNION ALL SELECT 1, m.* FROM ({rare_sql}) m WHERE {count} < %s"
        f" UNION ALL SELECT 2, c.* FROM ({contact_sql}) c"
    )
    params = (*sample_params, *dense_params, DENSE, *rare_params, DENSE, *contact_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    matches: list[list] = [[], [], []]
    for kind, pk in found:
        matches[kind].append(pk)
    return len(matches[0]) >= DENSE, matches[1], matches[2]
