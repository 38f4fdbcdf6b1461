"""A case's priority follows the wait: it rises as the hours pass, a reply takes the wait off,
and the monitor finds the cases due by an indexed moment instead of scoring every case."""

from datetime import UTC, datetime, timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases import actions, monitor, waiting
from cases.intake import intake_messages
from cases.models import Case, CaseEvent, Team
from inbox.connectors.generic import parse_item
from tests.conftest import brand_reply, generic_message, make_account, make_user, wall_clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("offline")]

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)

REFUND = "Could you refund the order from Monday?"  # mid-touch: P3, and P2 after 46 min


@pytest.fixture
def clock(monkeypatch):
    return wall_clock(monkeypatch, T0 + timedelta(minutes=1))


@pytest.fixture
def agent(db):
    return make_user("alex")


def deliver(account, external_id="m1", text=REFUND, *, author="u1", **fields) -> Case:
    data = generic_message(
        external_id, text, created_at=T0.isoformat(), author={"id": author, "handle": author}
    )
    data.update(fields)
    with transaction.atomic():
        intake_messages(account, [parse_item(data, "[0]")])
    return Case.objects.get(account=account, contact__external_id=author)


def priority_moves(case) -> list[tuple[str, str, bool]]:
    entries = CaseEvent.objects.filter(case=case, kind="priority").order_by("at", "id")
    return [(e.before, e.after, e.is_automatic) for e in entries]


def test_a_case_left_waiting_rises_as_the_hours_pass_and_is_scored_only_when_it_changes(
    clock, account
):
    case = deliver(account)
    start = (case.priority, case.priority_score)
    assert start[0] == "P3"
    seen, rescored = [], 0
    for minutes in range(5, 8 * 60, 5):
        clock.now = T0 + timedelta(minutes=minutes)
        rescored += waiting.tick(now=clock.now).rescored
        case.refresh_from_db()
        seen.append((case.priority, case.priority_score))
    assert [level for level, _ in seen] == sorted(level for level, _ in seen)[::-1]  # P3, then P2
    assert seen[-1][0] == "P2"
    scores = [score for _, score in seen]
    assert scores == sorted(scores)
    assert scores[-1] == start[1] + 15  # the waiting points' cap, reached at 6 h
    assert "waiting 6 h" in case.priority_reason and "'refund'" in case.priority_reason
    assert case.priority_check_at is None  # nothing more to change: never looked at again
    assert priority_moves(case) == [("P3", "P2", True)]
    assert rescored <= 8  # each whole hour and the moment it rose, not every pass


def test_the_level_moves_in_the_first_pass_after_the_wait_crosses_its_threshold(clock, account):
    case = deliver(account)
    while case.priority == "P3":
        due = case.priority_check_at
        assert due is not None
        assert waiting.tick(now=due - timedelta(seconds=1)).rescored == 0
        assert waiting.tick(now=due).rescored == 1
        case.refresh_from_db()
    moved = CaseEvent.objects.get(case=case, kind="priority")
    assert moved.at == due
    assert moved.text == case.priority_reason
    assert not due.second == due.minute == 0  # between two whole hours: when it crossed


def test_a_reply_takes_the_wait_off_the_score_and_keeps_the_customers_words(clock, account, agent):
    case = deliver(account)
    clock.now = T0 + timedelta(hours=4)
    waiting.tick(now=clock.now)
    case.refresh_from_db()
    assert case.priority == "P2"
    waited = case.priority_score

    actions.record_reply(case, "So sorry, the refund left today.", actor=agent)

    case.refresh_from_db()
    assert (case.priority, case.priority_score) == ("P3", waited - 10)  # 2.5 points an hour
    assert "waiting" not in case.priority_reason and "'refund'" in case.priority_reason
    assert case.priority_check_at is None
    kinds = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))
    assert kinds[-2:] == ["reply", "priority"]
    assert priority_moves(case)[-1] == ("P2", "P3", True)


def test_a_reply_the_brand_posted_natively_takes_the_wait_off_too(clock, account):
    case = deliver(account)
    clock.now = T0 + timedelta(hours=4)
    waiting.tick(now=clock.now)
    reply = brand_reply("r1", "We are on it.", to="u1", in_reply_to="m1", at=clock.now)
    with transaction.atomic():
        intake_messages(account, [parse_item(reply, "[0]")])
    case.refresh_from_db()
    assert case.priority == "P3"
    assert "waiting" not in case.priority_reason and "'refund'" in case.priority_reason


def test_a_pending_case_does_not_rise_until_it_is_open_again(clock, account, agent):
    case = deliver(account)
    actions.set_status(case, "pending", actor=agent)
    case.refresh_from_db()
    assert case.priority_check_at is None
    clock.now = T0 + timedelta(hours=5)
    assert waiting.tick(now=clock.now).rescored == 0
    case.refresh_from_db()
    assert case.priority == "P3"

    actions.set_status(case, "open", actor=agent)  # the customer is still waiting for us
    case.refresh_from_db()
    assert case.priority == "P2"
    assert "waiting 5 h" in case.priority_reason


def test_a_manual_priority_stays_while_the_score_follows_the_wait(clock, account, agent):
    case = deliver(account)
    actions.set_priority(case, "P4", actor=agent)
    before = Case.objects.get(pk=case.pk).priority_score
    clock.now = T0 + timedelta(hours=6)
    waiting.tick(now=clock.now)
    case.refresh_from_db()
    assert (case.priority, case.is_priority_manual) == ("P4", True)
    assert case.priority_score == before + 15
    assert priority_moves(case) == [("P3", "P4", False)]


def test_browsers_are_told_of_every_case_scored_again(
    clock, account, django_capture_on_commit_callbacks, monkeypatch
):
    team = Team.objects.create(name="Care", slug="care")
    account.default_team = team
    account.save()
    case = deliver(account)
    sent = []

    class Layer:
        async def group_send(self, group, frame):
            sent.append((group, frame["event"]))

    monkeypatch.setattr("cases.events.get_channel_layer", lambda: Layer())
    with django_capture_on_commit_callbacks(execute=True):
        waiting.tick(now=T0 + timedelta(hours=4))
    rows = [event["row"] for group, event in sent if group == f"team.{team.pk}"]
    assert [(row["id"], row["priority"]) for row in rows] == [(case.pk, "P2")]


def test_the_monitor_reads_the_same_queries_for_5_or_50_waiting_cases(clock):
    counts = {}
    for customers in (5, 50):
        account = make_account(slug=f"shop{customers}")
        items = [
            parse_item(
                generic_message(
                    f"{customers}-m{n}",
                    REFUND,
                    created_at=T0.isoformat(),
                    author={"id": f"{customers}-u{n}"},
                ),
                f"[{n}]",
            )
            for n in range(customers)
        ]
        with transaction.atomic():
            intake_messages(account, items)
        with CaptureQueriesContext(connection) as queries:
            result = waiting.tick(now=T0 + timedelta(hours=4))
        assert (result.rescored, result.moved) == (customers, customers)
        counts[customers] = len(queries)
    assert counts[5] == counts[50], counts


def test_sla_monitor_says_how_many_priorities_the_wait_raised(clock, account, monkeypatch):
    # Between passes it drops stale connections: here the test's own (PostgreSQL).
    monkeypatch.setattr("cases.management.commands.sla_monitor.close_old_connections", lambda: None)
    deliver(account)
    clock.now = T0 + timedelta(hours=4)
    out = StringIO()
    call_command("sla_monitor", "--once", stdout=out)
    assert "1 priorities raised by waiting" in out.getvalue()


def test_the_migration_gives_existing_cases_their_words_and_scores_the_waiting_ones_again(
    clock, account
):
    waiting_case = deliver(account)
    answered = deliver(account, "m2", "I want to cancel, this is urgent", author="u2")
    Case.objects.update(urgency_words="", priority_check_at=None)
    Case.objects.filter(pk=answered.pk).update(awaiting_since=None)

    import_module("cases.migrations.0011_priority_follows_waiting").fill(apps, None)

    assert Case.objects.get(pk=waiting_case.pk).urgency_words == "refund"
    answered = Case.objects.get(pk=answered.pk)
    assert answered.urgency_words == "cancel urgent"
    assert answered.priority_check_at is None
    assert Case.objects.get(pk=waiting_case.pk).priority_check_at == clock.now


def test_a_case_closed_without_a_rescore_leaves_the_monitor_without_a_move(clock, account):
    case = deliver(account)
    Case.objects.filter(pk=case.pk).update(status="closed")  # as a merge closes a case
    result = waiting.tick(now=T0 + timedelta(hours=5))
    case.refresh_from_db()
    assert (result.rescored, case.priority, case.priority_check_at) == (0, "P3", None)
    assert priority_moves(case) == []


@pytest.mark.parametrize(
    ("run", "index"),
    [(lambda now: waiting.tick(now=now), "case_waiting_check"), (monitor.tick, "case_sla_check")],
    ids=["waiting", "sla"],
)
def test_each_monitor_finds_its_cases_by_its_own_index_without_a_sort(clock, account, run, index):
    """A pass runs every few seconds over every open case: it must read only the cases due.
    (PostgreSQL's planner weighs its statistics; SQLite's follows the query's shape.)"""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's plan; PostgreSQL chooses by its statistics")
    for n in range(3):
        deliver(account, f"m{n}", author=f"u{n}")
    with CaptureQueriesContext(connection) as queries:
        run(T0 + timedelta(minutes=5))
    first = next(q["sql"] for q in queries if q["sql"].startswith("SELECT"))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {first}")
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    assert f"INDEX {index} " in plan, plan
    assert "TEMP B-TREE" not in plan, plan
