"""create_account: connect a social account from the command line, and update it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cases.models import Team
from inbox.models import Account


def create_account(*args, **options) -> str:
    out = StringIO()
    call_command("create_account", *args, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_creates_an_account_with_every_option_and_prints_its_webhook_url():
    team = Team.objects.create(name="Social Care", slug="social-care")

    output = create_account(
        "meta",
        "acme-fb",
        secret="app-secret",
        verify_token="vt",
        tier="high",
        name="Acme on Facebook",
        own_ids=["1001", "1002"],
        access_token="page-token",
        team="social-care",
    )

    account = Account.objects.get(slug="acme-fb")
    assert account.platform == "meta"
    assert account.secret == "app-secret"
    assert account.verify_token == "vt"
    assert account.default_tier == "high"
    assert account.name == "Acme on Facebook"
    assert account.own_ids == ["1001", "1002"]
    assert account.access_token == "page-token"
    assert account.default_team == team
    assert "created meta account acme-fb" in output
    assert "/webhooks/meta/acme-fb/" in output


@pytest.mark.django_db
def test_running_again_updates_the_account_and_says_so():
    create_account("x", "acme-x", secret="one", tier="mid")

    output = create_account("x", "acme-x", secret="two", tier="low")

    account = Account.objects.get(slug="acme-x")
    assert (account.secret, account.default_tier) == ("two", "low")
    assert Account.objects.count() == 1
    assert "updated x account acme-x (secret, default_tier)" in output


@pytest.mark.django_db
def test_running_again_with_the_same_options_changes_nothing():
    create_account("telegram", "acme-tg", secret="s", own_ids=["42"])

    output = create_account("telegram", "acme-tg", secret="s", own_ids=["42"])

    assert "already up to date" in output
    assert Account.objects.get(slug="acme-tg").own_ids == ["42"]


@pytest.mark.django_db
def test_update_keeps_what_is_not_given():
    create_account("generic", "shop", secret="s", name="Shop", verify_token="vt")

    create_account("generic", "shop", tier="tech")

    account = Account.objects.get(slug="shop")
    assert (account.secret, account.name, account.verify_token) == ("s", "Shop", "vt")
    assert account.default_tier == "tech"


@pytest.mark.django_db
def test_team_can_be_named_by_its_name():
    team = Team.objects.create(name="Billing", slug="billing-team")

    create_account("generic", "shop", secret="s", team="billing")

    assert Account.objects.get(slug="shop").default_team == team


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (("myspace", "acme"), {"secret": "s"}, "unknown platform 'myspace'"),
        (("x", "acme"), {"secret": "s", "tier": "gold"}, "unknown tier 'gold'"),
        (("x", "not a slug"), {"secret": "s"}, "is not a slug"),
        (("x", "acme"), {}, "a new account needs --secret"),
        (("x", "acme"), {"secret": "s", "team": "nobody"}, "no team 'nobody'"),
    ],
)
@pytest.mark.django_db
def test_invalid_input_is_refused_with_a_clear_message(args, options, message):
    with pytest.raises(CommandError, match=message):
        create_account(*args, **options)
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_an_existing_slug_cannot_move_to_another_platform():
    create_account("x", "acme", secret="s")

    with pytest.raises(CommandError, match="already connected to x"):
        create_account("meta", "acme", secret="s")
    assert Account.objects.get(slug="acme").platform == "x"
