"""Webhook accounts kept per process: a rotated secret works at once, a deactivation made in
the admin applies at once, one made elsewhere once the kept copy expires."""

import pytest

from inbox.models import Account, Delivery
from tests.conftest import account_change_form, generic_message, make_account, post_generic

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(user)
    return client


def test_a_rotated_secret_is_accepted_at_the_first_delivery(client, account, settings):
    settings.CAREMGR_ACCOUNT_CACHE_SECONDS = 3600
    assert post_generic(client, account, generic_message("before")).status_code == 200
    account.secret = "rotated-secret"
    account.save()  # another process rotated it: this one still keeps the old copy

    answer = post_generic(client, account, generic_message("after"), secret="rotated-secret")

    assert answer.status_code == 200
    assert Delivery.objects.count() == 2


def test_a_forged_signature_is_still_refused_after_the_second_look(client, account, settings):
    settings.CAREMGR_ACCOUNT_CACHE_SECONDS = 3600
    assert post_generic(client, account, generic_message("m1")).status_code == 200

    answer = post_generic(client, account, generic_message("m2"), secret="guessed")

    assert answer.status_code == 403
    assert Delivery.objects.count() == 1


def test_an_account_deactivated_elsewhere_answers_404_once_the_copy_expires(
    client, account, settings
):
    settings.CAREMGR_ACCOUNT_CACHE_SECONDS = 3600
    assert post_generic(client, account, generic_message("m1")).status_code == 200
    Account.objects.filter(pk=account.pk).update(is_active=False)

    assert post_generic(client, account, generic_message("m2")).status_code == 200  # kept
    settings.CAREMGR_ACCOUNT_CACHE_SECONDS = 0
    assert post_generic(client, account, generic_message("m3")).status_code == 404


def test_an_account_deactivated_in_the_admin_answers_404_at_once(admin_client, settings):
    settings.CAREMGR_ACCOUNT_CACHE_SECONDS = 3600
    account = make_account(slug="shop")
    assert post_generic(admin_client, account, generic_message("m1")).status_code == 200

    changed = admin_client.post(
        f"/admin/inbox/account/{account.pk}/change/",
        account_change_form(account, is_active=None),  # is_active left unticked
    )
    assert changed.status_code == 302, changed.content[:500]

    assert post_generic(admin_client, account, generic_message("m2")).status_code == 404


def test_a_new_account_works_at_its_first_delivery(client, settings):
    settings.CAREMGR_ACCOUNT_CACHE_SECONDS = 3600
    assert post_generic(client, Account(slug="late", secret="s"), b"{}").status_code == 404
    account = make_account(slug="late")

    assert post_generic(client, account, generic_message("m1")).status_code == 200
