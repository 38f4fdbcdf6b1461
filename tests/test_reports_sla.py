"""The SLA report: figures to the second on conversations built through the real intake."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import actions
from cases.intake import intake_messages
from cases.models import Case, Team, Tier
from cases.reports import GROUP_BYS, sla_report
from cases.reports_percentiles import fetched_percentiles, percentile
from inbox.connectors.generic import parse_item
from tests.conftest import make_account, make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # a Tuesday
NOW = T0 + timedelta(days=2)
DAY = (T0.replace(hour=0), T0.replace(hour=0) + timedelta(days=1))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def said(customer: str, external_id: str, at: datetime, text="Where is my refund?", **extra):
    author = {"id": customer, "handle": customer}
    return {
        "external_id": external_id,
        "author": author,
        "text": text,
        "created_at": at.isoformat(),
        **extra,
    }


def answered(customer: str, external_id: str, at: datetime, reply_to: str):
    """A reply the brand posted natively (a webhook's outbound message): a human response."""
    return {
        "external_id": external_id,
        "direction": "out",
        "author": {"id": "brand", "handle": "brand"},
        "recipient": {"id": customer, "handle": customer},
        "in_reply_to": reply_to,
        "text": "We are looking into it.",
        "created_at": at.isoformat(),
    }


def deliver(account, *items, live=False):
    with transaction.atomic():
        intake_messages(account, [parse_item(i, f"[{n}]") for n, i in enumerate(items)], live=live)


def case_of(customer: str) -> Case:
    return Case.objects.get(contact__external_id=customer)


def resolve(case: Case, at: datetime, actor, monkeypatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: at)
    actions.set_status(case, "resolved", actor=actor)
    monkeypatch.undo()


def build_world(monkeypatch) -> dict:
    """Six conversations with known times (mid target 1 h, high target 30 min).

    acme (mid): u1 answered after 10 min, wrote again at +20 and was answered at +50 (a
    next response of 30 min), resolved at +2 h; u2 answered after 30 min, resolved after 4 h;
    u3 answered after 90 min (late); u4 never answered (late by now).
    shop (high): u5 answered after 20 min; u6 answered after 45 min (late).
    u1 and u2 are alex's and team Care's; u5 came in on X.
    """
    monkeypatch.setattr("inbox.outbound.outbox.queue_send", lambda message_id: None)
    acme = make_account(slug="acme")
    shop = make_account(slug="shop", default_tier="high")
    deliver(
        acme,
        said("u1", "q1", minutes(0)),
        answered("u1", "r1", minutes(10), "q1"),
        said("u1", "q1b", minutes(20), in_reply_to="r1"),
        answered("u1", "r1b", minutes(50), "q1b"),
        said("u2", "q2", minutes(60)),
        answered("u2", "r2", minutes(90), "q2"),
        said("u3", "q3", minutes(120)),
        answered("u3", "r3", minutes(210), "q3"),
        said("u4", "q4", minutes(180)),
    )
    deliver(
        shop,
        said("u5", "q5", minutes(0)),
        answered("u5", "r5", minutes(20), "q5"),
        said("u6", "q6", minutes(30)),
        answered("u6", "r6", minutes(75), "q6"),
    )
    supervisor = make_user("sam", "supervisor")
    alex = make_user("alex")
    care = Team.objects.create(name="Care", slug="care")
    resolve(case_of("u1"), minutes(120), supervisor, monkeypatch)
    resolve(case_of("u2"), minutes(60 + 240), supervisor, monkeypatch)
    Case.objects.filter(contact__external_id__in=["u1", "u2"]).update(team=care, assignee=alex)
    Case.objects.filter(contact__external_id="u5").update(channel="x")
    return {"acme": acme, "shop": shop, "supervisor": supervisor, "alex": alex, "care": care}


@pytest.fixture
def world(monkeypatch):
    return build_world(monkeypatch)


def groups(report: dict) -> dict:
    return {g["key"]: g for g in report["groups"]}


def figures(group: dict) -> tuple:
    return (
        group["cases"],
        group["responded"],
        group["first_response"]["median"],
        group["first_response"]["p90"],
        group["resolution"]["median"],
        group["resolution"]["p90"],
        group["attainment"],
        group["breaches"],
    )


EXPECTED = {
    # cases, responded, first median, first p90, resolution median, p90, attainment, breaches
    "tier": {
        "mid": (4, 3, 1800, 4680, 10800, 13680, 50.0, 2),
        "high": (2, 2, 1950, 2550, None, None, 50.0, 1),
    },
    "account": {
        "acme": (4, 3, 1800, 4680, 10800, 13680, 50.0, 2),
        "shop": (2, 2, 1950, 2550, None, None, 50.0, 1),
    },
    "team": {
        "Care": (2, 2, 1200, 1680, 10800, 13680, 100.0, 0),
        "none": (4, 3, 2700, 4860, None, None, 25.0, 3),
    },
    "agent": {
        "alex": (2, 2, 1200, 1680, 10800, 13680, 100.0, 0),
        "unassigned": (4, 3, 2700, 4860, None, None, 25.0, 3),
    },
    "platform": {
        "generic": (5, 4, 2250, 4590, 10800, 13680, 40.0, 3),
        "x": (1, 1, 1200, 1200, None, None, 100.0, 0),
    },
}


@pytest.mark.parametrize("group_by", GROUP_BYS)
def test_every_grouping_gives_the_figures_to_the_second(world, group_by):
    report = sla_report(*DAY, group_by, now=NOW)

    assert report["group_by"] == group_by
    assert report["from"] == DAY[0].isoformat() and report["to"] == DAY[1].isoformat()
    found = {key: figures(group) for key, group in groups(report).items()}
    assert found.keys() == EXPECTED[group_by].keys()
    for key, expected in EXPECTED[group_by].items():
        assert found[key] == pytest.approx(expected, abs=1e-6), key


def test_groups_come_largest_first(world):
    assert [g["key"] for g in sla_report(*DAY, "platform", now=NOW)["groups"]] == ["generic", "x"]


def test_next_responses_are_grouped_by_the_answer_as_it_was_given(world):
    """u1's second answer came before the case was given to alex's team: it stays unowned."""
    by_tier = groups(sla_report(*DAY, "tier", now=NOW))
    assert by_tier["mid"]["next_response"] == {"median": 1800, "p90": 1800}
    assert by_tier["high"]["next_response"] == {"median": None, "p90": None}
    by_team = groups(sla_report(*DAY, "team", now=NOW))
    assert by_team["none"]["next_response"]["median"] == 1800
    assert by_team["Care"]["next_response"]["median"] is None


def test_period_includes_its_start_and_excludes_its_end(world):
    """u1 and u5 wrote exactly at T0, u4 exactly three hours later."""
    report = groups(sla_report(T0, T0 + timedelta(hours=3), "tier", now=NOW))
    assert report["mid"]["cases"] == 3  # u1, u2, u3; u4 starts at the end
    assert report["high"]["cases"] == 2
    later = groups(sla_report(T0 + timedelta(seconds=1), NOW, "tier", now=NOW))
    assert later["mid"]["cases"] == 3  # u2, u3, u4
    assert later["high"]["cases"] == 1
    assert sla_report(NOW, NOW + timedelta(days=1), "tier", now=NOW)["groups"] == []


def test_a_case_still_inside_its_target_counts_neither_way(world):
    """At +3 h 30 min u4 has waited 30 of its 60 minutes: not met, not missed yet."""
    start = minutes(180)
    report = groups(sla_report(start, start + timedelta(hours=1), "tier", now=minutes(210)))
    assert report["mid"]["cases"] == 1
    assert report["mid"]["attainment"] is None
    assert report["mid"]["breaches"] == 0
    past_due = groups(sla_report(start, start + timedelta(hours=1), "tier", now=minutes(241)))
    assert past_due["mid"]["attainment"] == 0.0
    assert past_due["mid"]["breaches"] == 1


def test_a_breach_the_monitor_recorded_counts_even_if_the_figures_look_fine(world):
    Case.objects.filter(contact__external_id="u1").update(
        first_response_breached=True, breach_count=1
    )
    mid = groups(sla_report(*DAY, "tier", now=NOW))["mid"]
    assert mid["attainment"] == pytest.approx(100 / 4)
    assert mid["breaches"] == 3


def test_an_automatic_reply_meets_tech_touch_but_is_no_human_response(monkeypatch):
    """The automatic answer goes out as the message arrives (now), so the message is recent."""
    monkeypatch.setattr("inbox.outbound.outbox.queue_send", lambda message_id: None)
    bot = make_account(slug="bot", default_tier="tech")
    wrote = timezone.now() - timedelta(minutes=1)
    deliver(bot, said("t1", "tq1", wrote, text="How do I reset my password?"), live=True)
    case = case_of("t1")
    assert case.automated_response_at is not None and case.first_response_at is None

    period = (wrote - timedelta(hours=1), wrote + timedelta(hours=1))
    tech = groups(sla_report(*period, "tier"))["tech"]
    assert (tech["cases"], tech["responded"], tech["attainment"]) == (1, 0, 100.0)
    assert tech["first_response"] == {"median": None, "p90": None}


def test_merged_cases_are_counted_once_in_the_case_they_joined(world):
    actions.merge_cases(case_of("u3"), case_of("u4"), actor=world["supervisor"])
    assert groups(sla_report(*DAY, "tier", now=NOW))["mid"]["cases"] == 3


def test_the_report_takes_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for group_by in GROUP_BYS:
        with django_assert_max_num_queries(5):
            sla_report(*DAY, group_by, now=NOW)


def test_on_postgresql_the_report_reads_each_table_once(world, needs_postgres):
    """Counts, medians and p90 of the cases come from one statement, next responses from
    one more: a year of cases is scanned once, not once per measure."""
    for group_by in GROUP_BYS:
        with CaptureQueriesContext(connection) as captured:
            sla_report(*DAY, group_by, now=NOW)
        tables = [
            table
            for query in captured.captured_queries
            for table in ("cases_case", "cases_responsetime")
            if f'FROM "{table}"' in query["sql"]
        ]
        assert sorted(tables) == ["cases_case", "cases_responsetime"]


def test_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="group_by"):
        sla_report(*DAY, "colour")


@pytest.mark.parametrize("n", [1, 2, 3, 10, 37, 101])
def test_percentiles_interpolate_like_percentile_cont(n):
    """Whatever the backend, the report's median and p90 are the linear interpolation."""
    account = make_account(slug=f"bulk{n}")
    contact_model = Case._meta.get_field("contact").related_model
    tier = Tier.objects.get(slug="mid")
    rng = random.Random(n)
    values = [round(rng.uniform(1, 90_000), 3) for _ in range(n)]
    for index, seconds in enumerate(values):
        contact = contact_model.objects.create(channel="generic", external_id=f"c{n}-{index}")
        Case.objects.create(
            account=account,
            contact=contact,
            channel="generic",
            tier=tier,
            created_at=minutes(index),
            updated_at=minutes(index),
            first_response_at=minutes(index + 1),
            first_response_seconds=seconds,
        )

    group = groups(sla_report(*DAY, "account", now=NOW))[account.slug]

    assert group["first_response"]["median"] == pytest.approx(percentile(values, 0.5), abs=1e-6)
    assert group["first_response"]["p90"] == pytest.approx(percentile(values, 0.9), abs=1e-6)
    # The backend's way and the portable way agree to the bit (percentile_cont on PostgreSQL).
    cases = Case.objects.filter(account=account)
    portable = fetched_percentiles(cases, F("account_id"), F("first_response_seconds"))
    assert portable[account.pk] == group["first_response"]


def test_percentile_of_nothing_is_none():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
