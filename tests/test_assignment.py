"""Who gets a case: online agents only, strategies per team, capacity and the team queue."""

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from cases import actions
from cases.intake import intake_messages, process_delivery
from cases.models import Case, CaseEvent, RoutingRule, Team
from inbox.connectors.generic import parse_item
from inbox.models import Contact, Delivery
from tests.conftest import generic_message, make_account, make_user

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
_times = iter(range(10**6))


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch):
    monkeypatch.setattr("inbox.outbound.outbox.queue_send", lambda message_id: None)


@pytest.fixture
def team(db):
    return Team.objects.create(name="Care", slug="care")


@pytest.fixture
def account(team):
    return make_account(default_team=team)


def agent(name, team, *, online=True, capacity=10, **profile):
    presence = "online" if online else "offline"
    return make_user(name, teams=[team], presence=presence, capacity=capacity, **profile)


def message(author, text="Where is my parcel?", *, at=None, external_id=None):
    at = at or T0 + timedelta(minutes=next(_times))
    external_id = external_id or f"{author}-{at.timestamp():.0f}"
    return generic_message(
        external_id, text, created_at=at.isoformat(), author={"id": author, "handle": author}
    )


def deliver(account, author, text="Where is my parcel?", **fields) -> Case:
    with transaction.atomic():
        intake_messages(account, [parse_item(message(author, text, **fields), "[0]")])
    return Case.objects.filter(account=account, contact__external_id=author).first()


def strategy(team, name):
    team.strategy = name
    team.save()


def load(user):
    return Case.objects.filter(assignee=user, status__in=("new", "open", "pending")).count()


@pytest.mark.django_db
def test_only_online_agents_get_cases(account, team):
    agent("alex", team, online=False)
    bea = agent("bea", team)
    assert [deliver(account, f"c{i}").assignee for i in range(3)] == [bea] * 3


@pytest.mark.django_db
def test_with_nobody_online_the_case_waits_in_the_queue(account, team):
    agent("alex", team, online=False)
    case = deliver(account, "c1")
    assert case.assignee is None
    assert list(Case.objects.filter(team=team, assignee=None)) == [case]


@pytest.mark.django_db
def test_least_loaded_agent_gets_the_next_case(account, team):
    alex = agent("alex", team)
    bea = agent("bea", team, online=False)
    deliver(account, "c1"), deliver(account, "c2")
    actions.set_presence(bea, "online")
    assert deliver(account, "c3").assignee == bea
    assert deliver(account, "c4").assignee == bea
    assert (load(alex), load(bea)) == (2, 2)


@pytest.mark.django_db
def test_full_team_queues_the_case_until_an_agent_comes_online(account, team):
    alex, bea = agent("alex", team, capacity=1), agent("bea", team, capacity=1)
    carl = agent("carl", team, online=False)
    cases = [deliver(account, f"c{i}") for i in range(3)]
    assert {c.assignee for c in cases[:2]} == {alex, bea}
    assert cases[2].assignee is None
    actions.set_presence(carl, "online")
    cases[2].refresh_from_db()
    assert cases[2].assignee == carl
    assert CaseEvent.objects.filter(case=cases[2], kind="assigned", after="carl").exists()


@pytest.mark.django_db
def test_resolving_a_case_hands_the_oldest_waiting_case_to_that_agent(account, team):
    alex = agent("alex", team, capacity=1)
    first, oldest, newer = (deliver(account, f"c{i}") for i in range(3))
    assert (first.assignee, oldest.assignee, newer.assignee) == (alex, None, None)
    actions.set_status(first, "resolved", actor=alex)
    oldest.refresh_from_db(), newer.refresh_from_db()
    assert (oldest.assignee, newer.assignee) == (alex, None)
    assert load(alex) == 1


@pytest.mark.django_db
def test_round_robin_takes_turns(account, team):
    strategy(team, "round_robin")
    alex, bea = agent("alex", team), agent("bea", team)
    assignees = [deliver(account, f"c{i}").assignee for i in range(4)]
    assert assignees in ([alex, bea, alex, bea], [bea, alex, bea, alex])


@pytest.mark.django_db
def test_skills_strategy_needs_the_required_skill_and_the_language(account, team):
    strategy(team, "skills")
    RoutingRule.objects.create(name="billing", keywords="invoice", required_skills=["billing"])
    alex = agent("alex", team, skills=["billing"], languages=["en"])
    bea = agent("bea", team, skills=[], languages=["de"])
    assert deliver(account, "c1", "Hello, my invoice shows the wrong amount.").assignee == alex
    german = "Hallo, wie kann ich die Lieferadresse meiner Bestellung ändern?"
    assert deliver(account, "c2", german).assignee == bea
    invoice_de = "Hallo, meine Rechnung ist falsch, invoice Nummer 7, bitte prüfen Sie das."
    assert deliver(account, "c3", invoice_de).assignee is None


@pytest.mark.django_db
def test_skills_queue_is_not_blocked_by_a_case_nobody_online_can_take(account, team):
    strategy(team, "skills")
    RoutingRule.objects.create(name="billing", keywords="invoice", required_skills=["billing"])
    bea = agent("bea", team, online=False, languages=["de"])
    waiting = deliver(account, "c1", "Hello, my invoice shows the wrong amount.")
    german = deliver(
        account, "c2", "Hallo, wie kann ich die Lieferadresse meiner Bestellung ändern?"
    )
    actions.set_presence(bea, "online")
    german.refresh_from_db(), waiting.refresh_from_db()
    assert (german.assignee, waiting.assignee) == (bea, None)


@pytest.mark.django_db
def test_high_touch_customer_goes_to_their_own_manager_while_online(account, team):
    agent("alex", team)
    carol = make_user("carol", presence="online")  # a manager outside the team
    Contact.objects.create(channel="generic", external_id="vip", tier="high", owner=carol)
    case = deliver(account, "vip")
    assert (case.tier_id, case.assignee) == ("high", carol)


@pytest.mark.django_db
def test_high_touch_customer_falls_back_to_the_team_when_the_manager_is_away(account, team):
    alex = agent("alex", team)
    carol = make_user("carol", presence="away")
    Contact.objects.create(channel="generic", external_id="vip", tier="high", owner=carol)
    assert deliver(account, "vip").assignee == alex


@pytest.fixture
def resolved_case(account, team, monkeypatch):
    """A case alex worked and resolved; the clock then stands an hour later."""
    alex = agent("alex", team)
    case = deliver(account, "c1", at=T0)
    monkeypatch.setattr(timezone, "now", lambda: T0 + timedelta(hours=1))
    actions.set_status(case, "resolved", actor=alex)
    return case, alex


@pytest.mark.django_db
def test_reopened_case_goes_back_to_its_owner_while_online(account, resolved_case):
    case, alex = resolved_case
    agent("bea", case.team)  # less loaded, but the case knows alex
    reopened = deliver(account, "c1", "It broke again", at=T0 + timedelta(hours=20))
    assert (reopened.pk, reopened.status, reopened.assignee) == (case.pk, "open", alex)


@pytest.mark.django_db
def test_reopened_case_does_not_count_against_its_owners_capacity(account, resolved_case):
    case, alex = resolved_case
    alex.profile.capacity = 1
    alex.profile.save()
    reopened = deliver(account, "c1", "It broke again", at=T0 + timedelta(hours=20))
    assert (reopened.pk, reopened.assignee) == (case.pk, alex)


@pytest.mark.django_db
def test_reopened_case_of_an_offline_owner_waits_in_the_queue(account, resolved_case):
    case, alex = resolved_case
    actions.set_presence(alex, "offline")
    reopened = deliver(account, "c1", "It broke again", at=T0 + timedelta(hours=20))
    assert (reopened.pk, reopened.assignee, reopened.previous_assignee) == (case.pk, None, alex)
    entry = CaseEvent.objects.filter(case=case, kind="assigned").order_by("pk").last()
    assert (entry.before, entry.after) == ("alex", "queue")
    actions.set_presence(alex, "online")
    reopened.refresh_from_db()
    assert reopened.assignee == alex


@pytest.mark.django_db
def test_manual_team_never_assigns_automatically(account, team):
    strategy(team, "manual")
    alex = agent("alex", team, online=False)
    cases = [deliver(account, f"c{i}") for i in range(2)]
    actions.set_presence(alex, "online")
    actions.assign_case(cases[0], alex, actor=alex)
    actions.set_status(cases[0], "resolved", actor=alex)
    assert [c.assignee for c in Case.objects.order_by("pk")] == [alex, None]
    assert deliver(account, "c9").assignee is None


# -- two workers at once (PostgreSQL) -------------------------------------------------------

WORKERS, PER_WORKER, CAPACITY = 4, 10, 3


def run_in_threads(jobs):
    """Run each job in its own thread with its own connection, all released at once."""
    barrier, errors = threading.Barrier(len(jobs)), []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors


def assert_within_capacity(agents):
    loads = {user.username: load(user) for user in agents}
    assert all(n <= CAPACITY for n in loads.values()), loads
    return loads


@pytest.mark.django_db(transaction=True)
def test_simultaneous_deliveries_never_double_assign_or_overfill(needs_postgres, account, team):
    agents = [agent(name, team, capacity=CAPACITY) for name in ("alex", "bea")]
    ids = [
        Delivery.objects.create(
            account=account,
            body=json.dumps(message(f"cust{n}", at=T0 + timedelta(seconds=n))).encode(),
        ).pk
        for n in range(WORKERS * PER_WORKER)
    ]
    outcomes = []
    run_in_threads(
        [
            lambda mine=ids[w::WORKERS]: outcomes.extend(map(process_delivery, mine))
            for w in range(WORKERS)
        ]
    )
    assert outcomes == ["processed"] * len(ids)
    assert Case.objects.count() == len(ids)
    assert assert_within_capacity(agents) == {"alex": CAPACITY, "bea": CAPACITY}
    assigned = CaseEvent.objects.filter(kind="assigned").values_list("case_id", flat=True)
    assert len(assigned) == len(set(assigned)) == 2 * CAPACITY
    assert Case.objects.filter(assignee=None).count() == len(ids) - 2 * CAPACITY

    def work_through(user):
        def job():
            while True:
                case = Case.objects.filter(assignee=user, status="new").order_by("pk").first()
                if case is None:
                    return
                actions.set_status(case, "resolved", actor=user)
                assert_within_capacity(agents)

        return job

    run_in_threads([work_through(user) for user in agents])
    assert Case.objects.filter(assignee=None).count() == 0
    assert Case.objects.filter(status="resolved").count() == len(ids)
    waited = Case.objects.exclude(pk__in=assigned)
    order = list(waited.order_by("created_at").values_list("pk", flat=True))
    handed = CaseEvent.objects.filter(kind="assigned", case__in=waited).order_by("pk")
    assert list(handed.values_list("case_id", flat=True)) == order  # oldest waiting first
