"""Rate limits: a flooding account gets 429 with Retry-After, guessing a password is stopped
after a few tries per username and address, and a correct sign-in is never slowed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from caremgr.env import env_rate
from inbox.models import Delivery
from security import rate_limit
from tests.conftest import generic_message, make_account, make_user, post_generic

ROOT = Path(__file__).resolve().parents[1]


def retry_after(answer) -> int:
    value = int(answer["Retry-After"])
    assert 1 <= value <= 900
    return value


# Webhooks


@pytest.mark.django_db
def test_an_account_over_its_webhook_limit_gets_429_and_others_are_unaffected(client, settings):
    settings.CAREMGR_WEBHOOK_RATE_LIMIT = (3, 60)
    shop, other = make_account(slug="shop"), make_account(slug="other")
    answers = [post_generic(client, shop, generic_message(f"m{i}")) for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]

    refused = post_generic(client, shop, generic_message("m3"))
    assert refused.status_code == 429
    assert refused.json()["error"] == "too many deliveries"
    assert refused.json()["retry_after"] == retry_after(refused)
    assert Delivery.objects.filter(account=shop).count() == 3
    assert post_generic(client, other, generic_message("o1")).status_code == 200


@pytest.mark.django_db
def test_forged_deliveries_do_not_use_up_an_accounts_budget(client, settings):
    settings.CAREMGR_WEBHOOK_RATE_LIMIT = (2, 60)
    shop = make_account(slug="shop")
    forged = [post_generic(client, shop, generic_message(f"f{i}"), secret="x") for i in range(20)]
    assert {a.status_code for a in forged} == {403}
    assert post_generic(client, shop, generic_message("real-1")).status_code == 200
    assert post_generic(client, shop, generic_message("real-2")).status_code == 200


@pytest.mark.django_db
def test_rate_limits_switched_off_let_every_delivery_through(client, settings):
    settings.CAREMGR_WEBHOOK_RATE_LIMIT = (1, 60)
    settings.CAREMGR_RATE_LIMITS = False
    shop = make_account(slug="shop")
    answers = [post_generic(client, shop, generic_message(f"m{i}")) for i in range(5)]
    assert {a.status_code for a in answers} == {200}


# Sign-in


def login(client, username, password, address="127.0.0.1", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_login_page_for_that_user_and_address(client, settings):
    settings.CAREMGR_LOGIN_RATE_LIMIT = (5, 900)
    make_user("dana")
    for _ in range(5):
        answer = login(client, "dana", "wrong")
        assert answer.status_code == 200
        assert "didn't match" in answer.content.decode()

    locked = login(client, "dana", "pw-dana")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Counts run in 15-minute windows: the wait is what is left of the current one.
    minutes = -(-retry_after(locked) // 60)
    assert f"Try again in {minutes} minute" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # Another address, or another user from this one, signs in as usual.
    assert login(client, "dana", "pw-dana", address="10.0.0.2").status_code == 302
    client.logout()
    make_user("lee")
    assert login(client, "lee", "pw-lee").status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_failures(client, settings):
    settings.CAREMGR_LOGIN_RATE_LIMIT = (3, 900)
    make_user("dana")
    for _ in range(2):
        assert login(client, "dana", "wrong").status_code == 200
    assert login(client, "dana", "pw-dana").status_code == 302
    client.logout()
    for _ in range(2):
        assert login(client, "dana", "wrong").status_code == 200
    assert login(client, "dana", "pw-dana").status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_locked_the_same_way(client, django_user_model, settings):
    settings.CAREMGR_LOGIN_RATE_LIMIT = (2, 900)
    django_user_model.objects.create_superuser("root", password="pw-root-123")
    for _ in range(2):
        assert login(client, "root", "nope", path="/admin/login/").status_code == 200
    locked = login(client, "ROOT", "pw-root-123", path="/admin/login/")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()


@pytest.mark.django_db
def test_the_api_token_endpoint_answers_429_with_json(client, settings):
    settings.CAREMGR_LOGIN_RATE_LIMIT = (2, 900)
    make_user("dana")
    url = "/api/v1/auth/token/"
    body = {"username": "dana", "password": "wrong"}
    for _ in range(2):
        assert client.post(url, body, content_type="application/json").status_code == 400
    body["password"] = "pw-dana"
    locked = client.post(url, body, content_type="application/json")
    assert locked.status_code == 429
    assert locked.json()["retry_after"] == retry_after(locked)
    assert "Too many failed sign-ins" in locked.json()["detail"]


@pytest.mark.django_db
def test_a_locked_user_is_refused_even_past_the_login_views(rf, settings):
    """The backend itself refuses a locked pair, whichever view asks it."""
    from django.contrib.auth import authenticate

    settings.CAREMGR_LOGIN_RATE_LIMIT = (1, 900)
    make_user("dana")
    request = rf.post("/elsewhere/")
    assert authenticate(request, username="dana", password="wrong") is None
    assert authenticate(request, username="dana", password="pw-dana") is None
    other = rf.post("/elsewhere/", REMOTE_ADDR="10.1.1.1")
    assert authenticate(other, username="dana", password="pw-dana") is not None


# Shared counts and configuration


@pytest.mark.usefixtures("needs_redis")
def test_counts_in_redis_are_shared_between_processes(settings):
    """Another process (a second server) uses up the budget; this one sees it."""
    rate = (4, 600)
    code = (
        "from security import rate_limit\n"
        f"for _ in range(4): assert rate_limit.hit('webhook', 'acct-7', {rate!r}) is None\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "caremgr.settings"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); "
            f"settings.CAREMGR_RATE_LIMIT_PREFIX = {settings.CAREMGR_RATE_LIMIT_PREFIX!r}; "
            f"exec({code!r})",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    refusal = rate_limit.hit("webhook", "acct-7", rate)
    assert refusal is not None and refusal.is_first


def test_rates_parse_strictly(monkeypatch):
    monkeypatch.setenv("CAREMGR_TEST_RATE", "5/900")
    assert env_rate("CAREMGR_TEST_RATE", "1/1") == (5, 900)
    monkeypatch.setenv("CAREMGR_TEST_RATE", "off")
    assert env_rate("CAREMGR_TEST_RATE", "1/1") is None
    monkeypatch.delenv("CAREMGR_TEST_RATE")
    assert env_rate("CAREMGR_TEST_RATE", "30000/60") == (30000, 60)
    for bad in ["5", "5 per 900", "0/60", "5/0", "-1/60", "five/60", "5/15m"]:
        monkeypatch.setenv("CAREMGR_TEST_RATE", bad)
        with pytest.raises(ImproperlyConfigured, match="is not a rate"):
            env_rate("CAREMGR_TEST_RATE", "1/1")
