"""One small world of every role, built once per test module and rolled back at its end:
team A's case (two messages, one failed reply), a sibling case of team A, a teammate's
case and team B's case; agents of teams A and B, a login without a role, a supervisor and
an admin made the way `create_agent` makes one; one object of each configuration model."""

from contextlib import contextmanager

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, TestCase, override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from cases import surveys
from cases.models import (
    AgentProfile,
    CannedReply,
    Case,
    KnowledgeArticle,
    Role,
    RoutingRule,
    Team,
)
from inbox.account_cache import forget_accounts
from inbox.models import Contact, Health, Message
from tests.conftest import generic_message, make_account, make_user, post_generic, seed_tiers


def customer(external_id, handle, text="Where is my refund?"):
    author = {"id": handle, "handle": handle, "name": handle.title(), "followers": 5}
    return generic_message(external_id, text, author=author)


@contextmanager
def rolled_back(django_db_blocker):
    """Database access for a module-scoped fixture, in a transaction rolled back at its end
    (the tests' own transactions nest inside), with the test settings of conftest.

    Webhook accounts kept by the process are forgotten on the way in and out: the
    function-scoped `_no_kept_accounts` runs only after module fixtures, and a kept account
    of an earlier module (same slug, a row rolled back since, another id on PostgreSQL)
    would file this module's deliveries under an account that no longer exists."""
    md5 = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    forget_accounts()
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(PASSWORD_HASHERS=md5, CAREMGR_TASKS_INLINE=True),
            transaction.atomic(),
        ):
            yield
            transaction.set_rollback(True)
    finally:
        forget_accounts()


@pytest.fixture(scope="module")
def role_world(django_db_setup, django_db_blocker):
    """The world, for every test of a module that asks for it."""
    with rolled_back(django_db_blocker):
        yield build_world()


def build_world() -> dict:
    seed_tiers()
    team_a = Team.objects.create(name="Team A", slug="team-a")
    team_b = Team.objects.create(name="Team B", slug="team-b")
    acme = make_account(slug="acme", default_team=team_a)
    root = get_user_model().objects.create_superuser("root", password="pw-root")
    AgentProfile.objects.create(user=root, role=Role.ADMIN)
    ada = make_user("ada", teams=[team_a])
    users = {
        "agent": make_user("ann", teams=[team_a]),
        "other": make_user("bob", teams=[team_b]),
        "visitor": get_user_model().objects.create_user("vic", password="pw-vic"),
        "supervisor": make_user("sue", "supervisor"),
        "admin": root,
    }
    beta = make_account(slug="beta", default_team=team_b)
    with TestCase.captureOnCommitCallbacks(execute=True):
        post_generic(Client(), acme, [customer("m1", "dana"), customer("m2", "dana")])
        post_generic(Client(), acme, [customer("s1", "eve", "Hello?")])
        post_generic(Client(), acme, [customer("t1", "fay", "Taken?")])
        post_generic(Client(), beta, [customer("b1", "gus", "Team B here")])
    case = Case.objects.get(messages__external_id="m1")
    Contact.objects.filter(pk=case.contact_id).update(health=Health.AT_RISK, bad_experiences=1)
    failed = Message.objects.create(
        account=acme,
        contact=case.contact,
        case=case,
        channel=case.channel,
        external_id="out-1",
        direction="out",
        text="We are on it",
        created_at=case.created_at,
        status="failed",
        error="the platform said no",
    )
    Token.objects.create(user=root)
    LogEntry.objects.log_actions(root.pk, [acme], ADDITION, change_message="connected")
    Group.objects.create(name="helpers")
    CannedReply.objects.create(title="Thanks", text="Thank you!")
    KnowledgeArticle.objects.create(title="Refunds", body="Within 14 days.", keywords="refund")
    RoutingRule.objects.create(name="refunds", keywords="refund", add_tag="refund")
    values = {
        "case": case.pk,
        "sibling": Case.objects.get(messages__external_id="s1").pk,
        "teammates": assign(Case.objects.get(messages__external_id="t1"), ada).pk,
        "team_b": Case.objects.get(messages__external_id="b1").pk,
        "ada": ada.pk,
        "bob": users["other"].pk,
        "message": case.messages.get(external_id="m1").pk,
        "second": case.messages.get(external_id="m2").pk,
        "failed": failed.pk,
        "contact": case.contact_id,
        "survey": surveys.make_token(case.pk, "csat"),
        "uid": urlsafe_base64_encode(force_bytes(users["agent"].pk)),
        "user": users["agent"].pk,
        "supervisor": users["supervisor"].pk,
        "content_type": ContentType.objects.get_for_model(Case).pk,
    }
    return {"sessions": {role: session_of(user) for role, user in users.items()}, "values": values}


def assign(case: Case, agent) -> Case:
    Case.objects.filter(pk=case.pk).update(assignee=agent)
    return case


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value
