"""SLA clocks as an agent sees them: due times per tier, business hours, pauses, the monitor."""

import threading
from datetime import UTC, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections, transaction

from cases import actions
from cases.intake import intake_messages
from cases.models import BusinessHours, Case, CaseEvent, KnowledgeArticle, Team, Tier
from cases.monitor import tick
from inbox.connectors.generic import parse_item
from inbox.models import Health
from tests.conftest import generic_message, make_account, make_user, wall_clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def clock(monkeypatch):
    """Wall-clock time under the test's control; starts a minute after T0."""
    return wall_clock(monkeypatch, T0 + timedelta(minutes=1))


@pytest.fixture
def agent(db):
    return make_user("alex")


def deliver(account, external_id="m1", *, at=T0, author="u1", text="Where is my parcel?"):
    data = generic_message(
        external_id, text, created_at=at.isoformat(), author={"id": author, "handle": author}
    )
    with transaction.atomic():
        intake_messages(account, [parse_item(data, "[0]")])
    return Case.objects.get(
        account=account, contact__external_id=author, status__in=("new", "open", "pending")
    )


def fired(case, kind):
    return CaseEvent.objects.filter(case=case, kind=kind).count()


@pytest.mark.parametrize(
    ("tier", "first", "resolution"),
    [
        ("tech", timedelta(minutes=5), timedelta(hours=72)),
        ("low", timedelta(hours=4), timedelta(hours=48)),
        ("mid", timedelta(hours=1), timedelta(hours=24)),
        ("high", timedelta(minutes=30), timedelta(hours=8)),
    ],
)
def test_due_times_follow_the_tier_from_the_customers_own_timestamp(clock, tier, first, resolution):
    clock.set(T0 + timedelta(hours=6))  # the message reaches us late; the clock does not care
    case = deliver(make_account(slug=f"acct-{tier}", default_tier=tier))
    assert case.tier_id == tier
    assert case.created_at == T0
    assert case.first_response_due == T0 + first
    assert case.resolution_due == T0 + resolution


def test_friday_afternoon_message_to_a_berlin_office_team_is_due_monday_morning(clock):
    team = Team.objects.create(name="Berlin", slug="berlin", timezone="Europe/Berlin")
    for weekday in range(5):
        BusinessHours.objects.create(team=team, weekday=weekday, opens=time(9), closes=time(17))
    account = make_account(default_team=team)
    friday = datetime(2026, 11, 6, 15, 30, tzinfo=UTC)  # 16:30 in Berlin (CET)
    clock.set(friday + timedelta(minutes=1))
    case = deliver(account, at=friday)
    assert case.first_response_due == datetime(2026, 11, 9, 8, 30, tzinfo=UTC)  # Mon 09:30
    # 24 h of office time: Fri 30 min, Mon and Tue 8 h each, Wed 7.5 h → Wednesday 16:30.
    assert case.resolution_due == datetime(2026, 11, 11, 15, 30, tzinfo=UTC)


def test_pending_pauses_the_clock_and_resuming_shifts_it_by_the_pause(clock, account, agent):
    case = deliver(account)
    clock.set(T0 + timedelta(minutes=10))
    case = actions.set_status(case, "pending", actor=agent)
    assert case.sla_due is None
    assert tick(now=T0 + timedelta(hours=5)).breaches == 0
    clock.set(T0 + timedelta(hours=2, minutes=10))
    case = actions.set_status(case, "open", actor=agent)
    assert case.first_response_due == T0 + timedelta(hours=3)
    assert case.resolution_due == T0 + timedelta(hours=26)
    assert case.sla_due == T0 + timedelta(hours=3)


def test_customer_writing_while_pending_resumes_the_clock(clock, account, agent):
    case = deliver(account)
    clock.set(T0 + timedelta(minutes=10))
    actions.set_status(case, "pending", actor=agent)
    case = deliver(account, "m2", at=T0 + timedelta(minutes=40), text="Any news?")
    assert case.status == "open"
    assert case.first_response_due == T0 + timedelta(minutes=90)


def test_monitor_fires_warning_then_breach_exactly_once_each(clock, account):
    case = deliver(account)
    for minute in (47, 48, 49, 50):
        tick(now=T0 + timedelta(minutes=minute))
    assert (fired(case, "sla.warning"), fired(case, "sla.breached")) == (1, 0)
    results = [tick(now=T0 + timedelta(minutes=m)) for m in (60, 61, 75)]
    assert [(r.warnings, r.breaches) for r in results] == [(0, 1), (0, 0), (0, 0)]
    assert (fired(case, "sla.warning"), fired(case, "sla.breached")) == (1, 1)
    case.refresh_from_db()
    assert case.breach_count == 1 and case.has_breached
    assert case.contact.health == Health.AT_RISK


def test_late_monitor_fires_warning_and_breach_together_once(clock, account):
    case = deliver(account)
    assert (tick(now=T0 + timedelta(hours=2)).warnings, fired(case, "sla.breached")) == (1, 1)
    assert tick(now=T0 + timedelta(hours=2)).breaches == 0


def test_high_touch_breach_raises_the_priority_and_tells_supervisors(clock):
    case = deliver(make_account(default_tier="high"), text="Hello, a question about my plan.")
    before = case.priority
    tick(now=T0 + timedelta(minutes=31))
    case.refresh_from_db()
    levels = ["P1", "P2", "P3", "P4"]
    assert levels.index(case.priority) == levels.index(before) - 1
    entry = CaseEvent.objects.get(case=case, kind="priority")
    assert (entry.before, entry.after, entry.is_automatic) == (before, case.priority, True)
    assert fired(case, "notified") == 1


def test_mid_touch_breach_keeps_the_priority(clock, account):
    case = deliver(account)
    tick(now=T0 + timedelta(hours=2))
    assert Case.objects.get(pk=case.pk).priority == case.priority


def test_breach_reassigns_to_a_free_agent_when_the_tier_says_so(clock, account, agent):
    Tier.objects.filter(slug="mid").update(breach_reassigns=True)
    team = Team.objects.create(name="Care", slug="care")
    other = make_user("bea", teams=[team], presence="online")
    Case.objects.filter(pk=deliver(account).pk).update(team=team, assignee=agent)
    tick(now=T0 + timedelta(hours=2))
    case = Case.objects.get()
    assert (case.assignee, case.previous_assignee) == (other, agent)
    entry = CaseEvent.objects.get(case=case, kind="assigned")
    assert (entry.before, entry.after) == ("alex", "bea")


def test_breach_reassigns_away_from_an_equally_loaded_owner(clock, account, agent):
    Tier.objects.filter(slug="mid").update(breach_reassigns=True)
    team = Team.objects.create(name="Care", slug="care")
    agent.profile.teams.set([team])
    actions.set_presence(agent, "online")
    bea = make_user("bea", teams=[team], presence="online")
    mine, hers = deliver(account), deliver(account, "m2", author="u2")
    Case.objects.filter(pk=mine.pk).update(team=team, assignee=agent)
    Case.objects.filter(pk=hers.pk).update(team=team, assignee=bea, first_response_due=None)
    tick(now=T0 + timedelta(minutes=61))
    assert Case.objects.get(pk=mine.pk).assignee == bea


def test_sla_monitor_command_prints_what_it_fired(clock, account, monkeypatch):
    # It drops stale connections between passes; inside the test's transaction that would
    # close the one connection the test runs on (PostgreSQL).
    monkeypatch.setattr("cases.management.commands.sla_monitor.close_old_connections", lambda: None)
    deliver(account)
    clock.set(T0 + timedelta(minutes=50))
    out = StringIO()
    call_command("sla_monitor", "--once", stdout=out)
    assert out.getvalue().strip() == "1 warnings, 0 breaches"
    clock.set(T0 + timedelta(minutes=61))
    out = StringIO()
    call_command("sla_monitor", "--once", stdout=out)
    assert out.getvalue().strip() == "0 warnings, 1 breaches"


def test_automatic_tech_touch_answer_meets_the_sla_but_is_no_human_response(clock):
    KnowledgeArticle.objects.create(
        title="Changing the delivery address",
        body="You can change it under My orders.",
        keywords="address, delivery, shipping",
    )
    account = make_account(default_tier="tech")
    case = deliver(account, text="How can I change the delivery address of my order?")
    case.refresh_from_db()
    assert case.automated_response_at == clock.now
    assert case.first_response_at is None
    assert not case.is_escalated
    assert tick(now=T0 + timedelta(minutes=30)).breaches == 0
    assert fired(case, "sla.breached") == 0


def test_agent_reply_stops_the_first_response_clock_at_the_reply_time(clock, account, agent):
    case = deliver(account)
    clock.set(T0 + timedelta(minutes=25))
    actions.record_reply(case, "Let me check that for you.", actor=agent)
    case.refresh_from_db()
    assert case.first_response_at == T0 + timedelta(minutes=25)
    assert case.sla_due == case.resolution_due
    tick(now=T0 + timedelta(hours=3))
    assert fired(case, "sla.breached") == 0


def test_customer_writing_again_after_a_reply_starts_the_next_response_clock(clock, account, agent):
    case = deliver(account)
    clock.set(T0 + timedelta(minutes=25))
    actions.record_reply(case, "Let me check that for you.", actor=agent)
    case = deliver(account, "m2", at=T0 + timedelta(hours=1), text="Still nothing?")
    assert case.next_response_due == T0 + timedelta(hours=5)
    assert case.sla_due == T0 + timedelta(hours=5)


def test_a_second_breached_case_makes_the_customer_high_risk(clock, account, agent):
    first = deliver(account)
    tick(now=T0 + timedelta(hours=2))
    actions.set_status(first, "resolved", actor=agent)
    second = deliver(account, "m2", at=T0 + timedelta(days=5))
    assert second.pk != first.pk
    tick(now=T0 + timedelta(days=5, hours=2))
    second.contact.refresh_from_db()
    assert (second.contact.health, second.contact.bad_experiences) == (Health.HIGH_RISK, 2)


def test_merging_into_a_breached_case_does_not_breach_it_again(clock, account, agent):
    kept = deliver(account)
    tick(now=T0 + timedelta(hours=2))
    other = deliver(account, "m2", at=T0 + timedelta(minutes=5), author="u2")
    actions.merge_cases(other, kept, actor=agent)
    tick(now=T0 + timedelta(hours=3))
    kept.refresh_from_db()
    assert (fired(kept, "sla.warning"), fired(kept, "sla.breached")) == (1, 1)
    assert kept.breach_count == 1


def test_an_earlier_message_arriving_late_moves_the_first_response_due_forward(clock, account):
    deliver(account, "m2", at=T0 + timedelta(minutes=20))
    case = deliver(account, "m1", at=T0)
    assert case.created_at == T0
    assert case.first_response_due == T0 + timedelta(hours=1)


def test_splitting_a_message_off_a_breached_case_does_not_breach_it_again(clock, account, agent):
    case = deliver(account)
    deliver(account, "m2", at=T0 + timedelta(minutes=5), text="My other parcel is late too")
    tick(now=T0 + timedelta(hours=2))
    second = case.messages.get(external_id="m2")
    actions.split_message(second, actor=agent)
    tick(now=T0 + timedelta(hours=3))
    assert (fired(case, "sla.warning"), fired(case, "sla.breached")) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_two_monitors_at_once_fire_each_warning_and_breach_once(needs_postgres, clock):
    account = make_account()
    cases = [deliver(account, f"m{n}", author=f"u{n}") for n in range(20)]
    barrier, results = threading.Barrier(3), []

    def monitor():
        try:
            barrier.wait()
            results.append(tick(now=T0 + timedelta(hours=2)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=monitor) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.breaches for r in results) == sum(r.warnings for r in results) == len(cases)
    for case in cases:
        assert (fired(case, "sla.warning"), fired(case, "sla.breached")) == (1, 1)
    assert set(Case.objects.values_list("breach_count", flat=True)) == {1}


def test_a_case_closed_without_its_clocks_stopped_fires_nothing_and_leaves_the_monitor(
    clock, account
):
    case = deliver(account)
    Case.objects.filter(pk=case.pk).update(status="closed")  # no refresh of its check time
    result = tick(now=T0 + timedelta(hours=3))
    assert (result.warnings, result.breaches) == (0, 0)
    assert Case.objects.get(pk=case.pk).sla_check_at is None
    assert (fired(case, "sla.warning"), fired(case, "sla.breached")) == (0, 0)
