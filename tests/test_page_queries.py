"""Every list and detail, page or API, makes the same number of queries however much data it
shows, so an N+1 cannot creep back.

One world per module: every URL is asked once to warm up, counted on a small inbox, the
inbox then grows about tenfold (more cases, customers, messages, replies, notes, teams,
agents, resolved cases with survey answers, customers at risk, earlier cases of the same
customer) and every URL is counted again. Each test compares the two counts of one URL.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import actions, surveys
from cases.models import AgentProfile, Case, CaseEvent, Status, SurveyResponse, Team
from inbox.models import Contact, Health, Message
from tests.conftest import generic_message, make_account, make_user, post_generic, seed_tiers
from tests.role_world import rolled_back, session_of

pytestmark = pytest.mark.django_db

GROUPS = ("tier", "account", "team", "agent", "platform")
# (viewer, URL): "agent" works team 1, "supervisor" sees all, None is a customer.
URLS = [
    ("agent", "/"),
    ("supervisor", "/"),
    ("agent", "/?view=mine&sort=updated"),
    ("agent", "/?view=unassigned&sort=sla_due"),
    ("supervisor", "/?view=all&sort=sla_due&status=open&status=new"),
    ("supervisor", "/?view=breaching&priority=P1&priority=P2&priority=P3"),
    ("supervisor", "/?view=all&q=parcel&sentiment=negative"),
    ("agent", "/cases/{case}/"),
    ("supervisor", "/cases/{case}/"),
    *[("supervisor", f"/reports/?group_by={group}") for group in GROUPS],
    ("supervisor", "/reports/?days=7&group_by=agent"),
    ("supervisor", "/reports/at-risk/"),
    (None, "/survey/{survey}/"),
    ("agent", "/api/v1/cases/?page_size=200"),
    ("supervisor", "/api/v1/cases/?page_size=200&ordering=priority"),
    ("supervisor", "/api/v1/cases/?page_size=200&assignee=none&team={team}&q=parcel"),
    ("agent", "/api/v1/cases/{case}/"),
    ("supervisor", "/api/v1/cases/{case}/"),
    ("agent", "/api/v1/cases/{case}/suggestions/"),
    ("agent", "/api/v1/messages/?page_size=500"),
    ("supervisor", "/api/v1/messages/?case={case}"),
    ("agent", "/api/v1/contacts/{contact}/"),
    *[("supervisor", f"/api/v1/reports/sla/?group_by={group}") for group in GROUPS],
    ("supervisor", "/api/v1/reports/sla.csv?group_by=agent"),
    ("supervisor", "/api/v1/reports/cases.csv"),
    ("supervisor", "/api/v1/reports/at-risk/"),
    ("supervisor", "/api/v1/reports/retention/"),
]


def url_id(item) -> str:
    viewer, url = item
    return f"{viewer or 'customer'} {url}"


class Inbox:
    """A growing inbox: teams with agents, customers writing, agents answering."""

    def __init__(self) -> None:
        self.supervisor = make_user("sue", "supervisor")
        self.teams: list[Team] = []
        self.agents = []
        self.customers = 0
        self.add_team()
        self.account = make_account(slug="acme", default_team=self.teams[0])
        self.agent = self.agents[0]

    def add_team(self) -> Team:
        n = len(self.teams)
        team = Team.objects.create(name=f"Team {n}", slug=f"team-{n}")
        self.teams.append(team)
        self.agents += [make_user(f"agent{n}{k}", teams=[team]) for k in "ab"]
        return team

    def write(self, handle: str, n: int, text: str = "My parcel never arrived, please help"):
        """`n` messages of customer `handle`, an hour apart, ending an hour ago."""
        now = timezone.now()
        author = {"id": handle, "handle": handle, "name": handle.title(), "followers": 40}
        items = [
            generic_message(
                f"{handle}-{self.customers}-{i}",
                f"{text} ({i})",
                author=author,
                created_at=(now - timedelta(hours=n - i)).isoformat(),
            )
            for i in range(n)
        ]
        self.customers += 1
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert post_generic(Client(), self.account, items).status_code == 200

    def grow(self, customers: int) -> None:
        """`customers` new customers, a case each on a team in turn; every other case is
        assigned, answered and noted, every third resolved with a survey answer, every
        fifth customer at risk."""
        start = Case.objects.count()
        for i in range(customers):
            self.write(f"cust{self.customers}", 1 + i % 3)
        for i, case in enumerate(Case.objects.order_by("pk")[start:]):
            team = self.teams[i % len(self.teams)]
            Case.objects.filter(pk=case.pk).update(team=team)
            case.team = team
            if i % 2 == 0:
                agent = self.agents[2 * self.teams.index(team) + (i // 2) % 2]
                # after-commit work (sending, live events) never runs: the module rolls back
                actions.assign_case(case, agent, actor=self.supervisor)
                actions.record_reply(case, "We are looking into it.", actor=agent)
                actions.add_note(case, "carrier asked", actor=agent)
            if i % 3 == 0:
                actions.set_status(case, Status.RESOLVED, actor=self.supervisor)
                surveys.record_answer(case, "csat", 2 + i % 4, "thanks")
            if i % 5 == 0:
                Contact.objects.filter(pk=case.contact_id).update(
                    health=Health.AT_RISK, bad_experiences=1 + i % 2
                )

    def grow_the_case(self, case: Case, messages: int) -> None:
        """More messages, notes, teammates and earlier cases for the case shown in detail."""
        self.write(case.contact.handle, messages, "Still waiting for my parcel")
        for k in range(3):
            agent = make_user(f"mate{k}", teams=[case.team])
            actions.add_note(case, f"note {k}", actor=agent)
        for _ in range(4):
            Case.objects.create(
                account=case.account,
                contact=case.contact,
                channel=case.channel,
                tier=case.tier,
                team=case.team,
                status=Status.CLOSED,
                created_at=case.created_at - timedelta(days=2),
                updated_at=case.updated_at - timedelta(days=2),
                message_count=1,
            )


def ask(sessions: dict, viewer: str | None, url: str) -> int:
    client = Client()
    if viewer is not None:
        client.cookies["sessionid"] = sessions[viewer]
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(url)
        if answer.streaming:
            b"".join(answer.streaming_content)
    assert answer.status_code == 200, (url, answer.status_code)
    return len(queries)


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker):
    """{(viewer, url): (queries on the small inbox, queries on the grown one)}."""
    with rolled_back(django_db_blocker):
        seed_tiers()
        inbox = Inbox()
        inbox.grow(4)
        case = Case.objects.filter(team=inbox.teams[0], status=Status.NEW).earliest("pk")
        sessions = {"agent": session_of(inbox.agent), "supervisor": session_of(inbox.supervisor)}
        values = {
            "case": case.pk,
            "contact": case.contact_id,
            "team": inbox.teams[0].pk,
            "survey": surveys.make_token(case.pk, "csat"),
        }
        urls = [(viewer, url.format(**values)) for viewer, url in URLS]
        for viewer, url in urls:
            ask(sessions, viewer, url)  # warm: what a process reads once
        small = {item: ask(sessions, *item) for item in urls}
        before = inventory(case)
        for _ in range(3):
            inbox.add_team()
        inbox.grow(36)
        inbox.grow_the_case(case, 12)
        large = {item: ask(sessions, *item) for item in urls}
        after = inventory(case)
    measured = {
        item: (small[concrete], large[concrete]) for item, concrete in zip(URLS, urls, strict=True)
    }
    return {"queries": measured, "inventory": (before, after)}


def inventory(case: Case) -> dict[str, int]:
    """How much there is to show, in total and on the case shown in detail."""
    return {
        "cases": Case.objects.count(),
        "messages": Message.objects.count(),
        "teams": Team.objects.count(),
        "agents": AgentProfile.objects.count(),
        "events": CaseEvent.objects.count(),
        "answers": SurveyResponse.objects.count(),
        "at risk": Contact.objects.filter(health=Health.AT_RISK).count(),
        "case messages": case.messages.count(),
        "case events": case.events.count(),
        "customer cases": Case.objects.filter(contact=case.contact_id).count(),
    }


def test_the_inbox_grew_several_times_between_the_counts(counts):
    before, after = counts["inventory"]
    assert all(after[name] >= 3 * before[name] > 0 for name in before), (before, after)


@pytest.mark.parametrize("item", URLS, ids=url_id)
def test_queries_do_not_grow_with_the_data(counts, item):
    small, large = counts["queries"][item]
    assert large == small, f"{url_id(item)}: {small} queries on a small inbox, {large} on ten times"
    assert small <= 30, f"{url_id(item)}: {small} queries"
