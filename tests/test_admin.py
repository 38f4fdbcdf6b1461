"""The configuration pages an admin uses: every list opens, secrets are never shown again."""

import pytest

from inbox.models import Account
from tests.conftest import account_change_form, make_account

pytestmark = pytest.mark.django_db

PAGES = [
    "inbox/account",
    "inbox/contact",
    "inbox/message",
    "inbox/delivery",
    "cases/tier",
    "cases/team",
    "cases/agentprofile",
    "cases/routingrule",
    "cases/cannedreply",
    "cases/knowledgearticle",
    "cases/case",
]


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(user)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_every_configuration_list_opens_for_an_admin(admin_client, page):
    assert admin_client.get(f"/admin/{page}/").status_code == 200


def test_an_account_secret_is_never_shown_again_and_kept_when_left_empty(admin_client):
    account = make_account(secret="very-secret-value", access_token="token-value-1")
    page = admin_client.get(f"/admin/inbox/account/{account.pk}/change/")
    assert page.status_code == 200
    assert b"very-secret-value" not in page.content
    assert b"token-value-1" not in page.content
    answer = admin_client.post(
        f"/admin/inbox/account/{account.pk}/change/",
        account_change_form(account, name="Renamed"),
    )
    assert answer.status_code == 302, answer.content[:500]
    account = Account.objects.get(pk=account.pk)
    assert account.name == "Renamed"
    assert account.secret == "very-secret-value"
    assert account.access_token == "token-value-1"


def test_an_agent_cannot_open_the_admin(client, django_user_model):
    from tests.conftest import make_user

    client.force_login(make_user("plain-agent"))
    answer = client.get("/admin/inbox/account/")
    assert answer.status_code == 302
    assert "/admin/login/" in answer["Location"]


def test_the_rule_tester_shows_which_rule_a_message_matches(admin_client):
    from cases.models import RoutingRule, Tier

    account = make_account()
    RoutingRule.objects.create(
        name="legal",
        position=1,
        keywords="lawyer",
        priority_floor="P1",
        add_tag="legal",
        set_tier=Tier.objects.get(slug="high"),
    )
    RoutingRule.objects.create(name="german", position=2, language="de")
    assert b"Which rule matches" in admin_client.get("/admin/cases/routingrule/").content
    answer = admin_client.post(
        "/admin/cases/routingrule/test/",
        {
            "account": account.pk,
            "channel": "x",
            "text": "My lawyer will call you <b>now</b>",
            "followers": 10,
            "lifecycle_stage": "awareness",
            "contact_tier": "",
        },
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "Tier <strong>high</strong>" in page
    assert "<td>legal</td>" in page and "applied" in page
    assert "<b>now</b>" not in page
