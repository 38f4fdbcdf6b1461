"""Priority that follows the wait: a case whose customer has waited long enough for its score
to change is scored again, and a case left waiting rises as the hours pass.

`rescore` keeps on each waiting case the moment waiting next changes its score
(`priority_check_at`: each hour waited until the waiting points are capped, and the moment
they lift the level). One indexed query finds the cases due; they are locked, scored again
with the urgency words the case keeps, written in one statement, and each level moved is a
timeline entry; every row rescored goes to the browsers that show it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from cases import events
from cases.models import Case
from cases.scoring import SCORE_FIELDS, WAITING_STATUSES, rescore_logged
from inbox.bulk import insert_rows, update_rows


@dataclass
class WaitResult:
    rescored: int = 0
    moved: int = 0  # cases whose level moved


def tick(now: datetime | None = None, *, limit: int = 500) -> WaitResult:
    """Score again the cases due by `now`, the longest due first, at most `limit`."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Case.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("account", "contact", "assignee")
            .filter(priority_check_at__isnull=False, priority_check_at__lte=now)
            .order_by("priority_check_at", "id")[:limit]
        )
        # A case that stopped waiting by a way that did not score it (closed by a merge, say)
        # only leaves the index.
        cases = [c for c in due if c.status in WAITING_STATUSES and c.paused_at is None]
        for case in due:
            case.priority_check_at = None
        entries = [entry for entry in (rescore_logged(case, now=now) for case in cases) if entry]
        update_rows(due, SCORE_FIELDS)
        insert_rows(entries)
        seq = {entry.case_id: entry.pk for entry in entries}
        rows = events.case_rows(cases)
        for case in cases:
            events.case_event(case, "case.updated", seq.get(case.pk), rows[case.pk])
    return WaitResult(rescored=len(cases), moved=len(entries))
