"""Customer health: bad experiences, retention/churn, the at-risk page and its follow-up."""

from datetime import UTC, datetime, timedelta

import pytest

from cases import actions, health
from cases.health import health_for
from cases.models import Case, CaseEvent, Status, Team
from cases.retention import retention
from inbox.models import Contact, Health
from tests.conftest import make_account, make_user

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror="alert(1)">'
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 8, tzinfo=UTC)  # a week; the week before is the "start" window


@pytest.fixture
def team():
    return Team.objects.create(name="Care", slug="care")


@pytest.fixture
def account(team):
    return make_account(default_team=team)


def contact(external_id: str, **fields) -> Contact:
    return Contact.objects.create(channel="generic", external_id=external_id, **fields)


def case_for(account, who: Contact, at: datetime, **fields) -> Case:
    return Case.objects.create(
        account=account,
        contact=who,
        channel="generic",
        tier_id="mid",
        created_at=at,
        updated_at=at,
        **fields,
    )


def test_one_bad_experience_marks_at_risk_and_repeated_ones_high_risk():
    assert health_for(0) == Health.HEALTHY
    assert health_for(1) == Health.AT_RISK  # e.g. one breach
    assert health_for(2) == Health.HIGH_RISK


def test_resolving_a_negative_case_counts_once_even_when_resolved_twice(account):
    supervisor = make_user("sue", "supervisor")
    dana = contact("dana")
    case = case_for(account, dana, START, status=Status.OPEN, sentiment="negative")

    actions.set_status(case, Status.RESOLVED, actor=supervisor)
    actions.set_status(case, Status.OPEN, actor=supervisor)
    actions.set_status(case, Status.RESOLVED, actor=supervisor)
    actions.set_status(case, Status.CLOSED, actor=supervisor)

    dana.refresh_from_db()
    assert (dana.bad_experiences, dana.health) == (1, Health.AT_RISK)
    assert CaseEvent.objects.filter(case=case, kind="health.bad_experience").count() == 1


def test_a_breached_case_closed_negative_still_counts_once(account):
    supervisor = make_user("sue", "supervisor")
    dana = contact("dana")
    case = case_for(account, dana, START, status=Status.OPEN, sentiment="negative", breach_count=1)
    health.count_bad_experience(case, "SLA breached")  # what the monitor does on a breach

    actions.set_status(case, Status.RESOLVED, actor=supervisor)

    dana.refresh_from_db()
    assert (dana.bad_experiences, dana.health) == (1, Health.AT_RISK)


def test_resolving_a_neutral_case_is_no_bad_experience(account):
    supervisor = make_user("sue", "supervisor")
    dana = contact("dana")
    case = case_for(account, dana, START, status=Status.OPEN)

    actions.set_status(case, Status.RESOLVED, actor=supervisor)

    dana.refresh_from_db()
    assert (dana.bad_experiences, dana.health) == (0, Health.HEALTHY)


def test_retention_and_churn_of_a_period(account):
    before, during = START - timedelta(days=3), START + timedelta(days=2)
    kept, lost_1, lost_2, lost_3, fresh = (contact(x) for x in ("k", "l1", "l2", "l3", "f"))
    old = contact("old")
    case_for(account, old, START - timedelta(days=60))  # an old customer coming back
    for who in (kept, lost_1, lost_2, lost_3):
        case_for(account, who, before)
    case_for(account, kept, during)
    case_for(account, fresh, during)
    case_for(account, old, during)

    figures = retention(START, END)

    # start 4 (k, l1, l2, l3); end 3 (k, f, old); new 1 (f: first case ever in the period)
    assert figures == {
        "customers_at_start": 4,
        "customers_at_end": 3,
        "new_customers": 1,
        "retention_rate": 50.0,  # (3 - 1) / 4
        "churn_rate": 25.0,  # (4 - 3) / 4
    }


def test_churn_is_negative_when_the_base_grew_and_none_without_a_start_base(account):
    case_for(account, contact("a"), START - timedelta(days=1))
    for name in ("a", "b", "c"):
        who = Contact.objects.filter(external_id=name).first() or contact(name)
        case_for(account, who, START + timedelta(days=1))

    figures = retention(START, END)
    assert (figures["retention_rate"], figures["churn_rate"]) == (100.0, -200.0)

    empty = retention(END + timedelta(days=30), END + timedelta(days=37))
    assert empty["retention_rate"] is None and empty["churn_rate"] is None


def test_at_risk_page_lists_high_risk_first_and_escapes_handles(client, account):
    client.force_login(make_user("sue", "supervisor"))
    carol = make_user("carol")
    calm = contact("calm", handle="calm")
    risky = contact("risky", handle="risky", health=Health.AT_RISK, bad_experiences=1)
    worst = contact(
        "worst", handle=HOSTILE, health=Health.HIGH_RISK, bad_experiences=3, owner=carol
    )
    case = case_for(account, worst, START)

    response = client.get("/reports/at-risk/")

    assert response.status_code == 200
    html = response.content.decode()
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert html.index(f'data-contact="{worst.pk}"') < html.index(f'data-contact="{risky.pk}"')
    assert f'data-contact="{calm.pk}"' not in html
    assert f'href="/cases/{case.pk}/"' in html and "carol" in html
    assert 'href="/reports/at-risk/"' in client.get("/reports/").content.decode()


def test_follow_up_opens_a_high_touch_case_routed_to_the_owner(client, account, team):
    supervisor = make_user("sue", "supervisor")
    carol = make_user("carol", presence="online")
    worst = contact("worst", health=Health.HIGH_RISK, bad_experiences=2, owner=carol)
    latest = case_for(account, worst, START, team=team)
    client.force_login(supervisor)

    response = client.post(f"/reports/at-risk/{worst.pk}/follow-up/")

    fresh = Case.objects.exclude(pk=latest.pk).get(contact=worst)
    assert response.status_code == 302 and response["Location"] == f"/cases/{fresh.pk}/"
    assert (fresh.tier_id, fresh.status, fresh.team, fresh.account) == (
        "high",
        Status.OPEN,
        team,
        account,
    )
    assert fresh.first_response_due is not None and fresh.resolution_due is not None
    assert fresh.assignee == carol
    assert fresh.events.filter(kind="follow_up", actor=supervisor).count() == 1


def test_agents_get_403_and_anonymous_users_the_login_page(client, account):
    worst = contact("worst", health=Health.HIGH_RISK, bad_experiences=2)
    case_for(account, worst, START)

    anonymous = client.get("/reports/at-risk/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]

    client.force_login(make_user("alex", "agent"))
    assert client.get("/reports/at-risk/").status_code == 403
    assert client.post(f"/reports/at-risk/{worst.pk}/follow-up/").status_code == 403
    assert client.get("/api/v1/reports/at-risk/").status_code == 403
    assert client.get("/api/v1/reports/retention/").status_code == 403
    assert Case.objects.filter(contact=worst).count() == 1


def test_api_lists_at_risk_contacts_and_retention(client, account):
    client.force_login(make_user("sue", "supervisor"))
    worst = contact("worst", handle="w", health=Health.HIGH_RISK, bad_experiences=2)
    case_for(account, worst, START - timedelta(days=2))
    latest = case_for(account, worst, START + timedelta(days=2))

    rows = client.get("/api/v1/reports/at-risk/").json()["contacts"]
    assert [(r["id"], r["health"], r["last_case"]) for r in rows] == [
        (worst.pk, "high_risk", latest.pk)
    ]

    body = client.get(
        "/api/v1/reports/retention/", {"from": "2026-11-01", "to": "2026-11-07"}
    ).json()
    assert (body["customers_at_start"], body["customers_at_end"], body["new_customers"]) == (
        1,
        1,
        0,
    )
    assert (body["retention_rate"], body["churn_rate"]) == (100.0, 0.0)
    assert client.get("/api/v1/reports/retention/", {"from": "nope"}).status_code == 400
