"""The SLA monitor: warnings and breaches as timeline events and live events, each exactly
once, plus the tier's breach actions (notify supervisors, raise priority, reassign).

Cases with something to fire are found by one indexed query on `sla_check_at` (set only
while a clock runs); each is then locked and its flags decide, so two monitors running at
once never fire twice.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cases import assignment, events, sla
from cases.health import count_bad_experience
from cases.models import Case, Priority
from cases.timeline import event

log = logging.getLogger(__name__)
LEVELS = list(Priority.values)


@dataclass
class TickResult:
    warnings: int = 0
    breaches: int = 0


def tick(now=None, *, limit: int = 1000) -> TickResult:
    now = now or timezone.now()
    result = TickResult()
    # Only a running clock has a check time; a case that stopped by a way that did not
    # clear it (closed, paused) is cleared by `fire`, which fires nothing for it.
    due = list(
        Case.objects.filter(sla_check_at__isnull=False, sla_check_at__lte=now)
        .order_by("sla_check_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        warned, breached = fire(pk, now)
        result.warnings += warned
        result.breaches += breached
    return result


def fire(pk: int, now) -> tuple[int, int]:
    warned = breached = 0
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("tier", "team", "contact", "account", "assignee")
            .get(pk=pk)
        )
        entries = []
        for name in sla.running(case):
            due, warn_at = getattr(case, f"{name}_due"), getattr(case, f"{name}_warn_at")
            if not getattr(case, f"{name}_warned") and warn_at and warn_at <= now:
                setattr(case, f"{name}_warned", True)
                entries.append(
                    (
                        event(
                            case,
                            "sla.warning",
                            at=now,
                            after=name,
                            automatic=True,
                            data={"target": name, "due": due.isoformat()},
                        ),
                        name,
                    )
                )
                warned += 1
            if not getattr(case, f"{name}_breached") and due <= now:
                setattr(case, f"{name}_breached", True)
                entries.append(
                    (
                        event(
                            case,
                            "sla.breached",
                            at=now,
                            after=name,
                            automatic=True,
                            data={"target": name, "due": due.isoformat()},
                        ),
                        name,
                    )
                )
                breached += 1
        if breached:
            count_bad_experience(case, "SLA breached", at=now)
            case.breach_count += breached
            entries.extend((e, None) for e in _breach_actions(case, now))
        sla.refresh_sla_due(case)
        case.save(
            update_fields=[
                *sla.SLA_FIELDS,
                "breach_count",
                "priority",
                "priority_floor",
                "priority_floor_source",
                "assignee",
                "previous_assignee",
            ]
        )
        for entry, _ in entries:
            entry.save()
        for entry, target in entries:
            if target is not None:
                kind = "sla.breached" if entry.kind == "sla.breached" else "sla.warning"
                events.sla_event(case, kind, target, entry.pk)
        if entries:
            events.case_event(case, "case.updated", entries[-1][0].pk)
    return warned, breached


def _breach_actions(case: Case, now) -> list:
    tier = case.tier
    done = []
    if tier.breach_raises_priority and not case.is_priority_manual:
        level = LEVELS.index(case.priority)
        if level > 0:
            before, case.priority = case.priority, LEVELS[level - 1]
            # The raise stays as a floor, so the next message's re-score keeps it.
            case.priority_floor, case.priority_floor_source = case.priority, "SLA breach"
            done.append(
                event(
                    case,
                    "priority",
                    at=now,
                    before=before,
                    after=case.priority,
                    text="raised after an SLA breach",
                    automatic=True,
                )
            )
    if tier.breach_reassigns and case.assignee_id:
        agent = assignment.pick_agent(case, avoid=case.assignee_id)
        if agent is not None:
            # give() notes the current owner as previous, on the case and the timeline.
            done.append(assignment.give(case, agent, automatic=True, at=now))
    if tier.breach_notifies_supervisors:
        done.append(
            event(
                case, "notified", at=now, after="supervisors", automatic=True, text="SLA breached"
            )
        )
    return done
