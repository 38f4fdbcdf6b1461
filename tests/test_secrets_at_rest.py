"""Account credentials are encrypted in the database: a dump never holds a usable secret,
signatures still check, keys rotate, and no page shows a secret again after saving."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inbox.models import Account, Delivery
from security.encryption import CredentialUnreadable, decrypt, encrypt
from tests.conftest import generic_message, make_account, post_generic

ROOT = Path(__file__).resolve().parents[1]
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw_columns(pk: int) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret, verify_token, access_token FROM inbox_account WHERE id = %s", [pk]
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_the_database_holds_no_credential_in_the_clear_and_signed_webhooks_still_pass(client):
    account = make_account(
        secret="hmac-secret-4711", verify_token="verify-4711", access_token="page-token-4711"
    )

    stored = raw_columns(account.pk)
    for plain, column in zip(
        ["hmac-secret-4711", "verify-4711", "page-token-4711"], stored, strict=True
    ):
        assert plain not in column
        assert "4711" not in column
    assert Account.objects.get(pk=account.pk).secret == "hmac-secret-4711"

    answer = post_generic(client, account, generic_message("enc-1"))
    assert answer.status_code == 200, answer.content
    forged = post_generic(client, account, generic_message("enc-2"), secret="guess")
    assert forged.status_code == 403
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_the_same_secret_is_stored_differently_each_time():
    first = make_account(slug="one", secret="same-secret")
    second = make_account(slug="two", secret="same-secret")
    assert raw_columns(first.pk)[0] != raw_columns(second.pk)[0]


@pytest.mark.django_db
def test_an_encrypted_column_cannot_be_searched():
    make_account(secret="findme")
    with pytest.raises(FieldError, match="encrypted"):
        Account.objects.filter(secret="findme").exists()


@pytest.mark.django_db
def test_a_new_key_goes_first_rotation_reencrypts_and_the_old_key_can_go(settings, client):
    settings.CAREMGR_SECRET_KEYS = [KEY_A]
    account = make_account(secret="rotate-me", access_token="tok-rotate")
    before = raw_columns(account.pk)

    settings.CAREMGR_SECRET_KEYS = [KEY_B, KEY_A]
    assert Account.objects.get(pk=account.pk).secret == "rotate-me"
    out = StringIO()
    call_command("rotate_secrets", stdout=out, verbosity=0)
    assert "rows re-encrypted" in out.getvalue()
    assert raw_columns(account.pk)[0] != before[0]

    settings.CAREMGR_SECRET_KEYS = [KEY_B]
    reloaded = Account.objects.get(pk=account.pk)
    assert (reloaded.secret, reloaded.access_token) == ("rotate-me", "tok-rotate")
    assert post_generic(client, reloaded, generic_message("rot-1")).status_code == 200

    settings.CAREMGR_SECRET_KEYS = [KEY_A]
    with pytest.raises(CredentialUnreadable, match="cannot be decrypted"):
        Account.objects.get(pk=account.pk)


def test_a_credential_read_before_is_unreadable_once_its_key_is_removed(settings):
    settings.CAREMGR_SECRET_KEYS = [KEY_A]
    token = encrypt("page-token")
    assert decrypt(token) == "page-token"  # read, as every delivery's account is

    settings.CAREMGR_SECRET_KEYS = [KEY_B]
    with pytest.raises(CredentialUnreadable):
        decrypt(token)
    settings.CAREMGR_SECRET_KEYS = [KEY_B, KEY_A]
    assert decrypt(token) == "page-token"


@pytest.mark.django_db
def test_without_configured_keys_the_key_follows_secret_key_and_its_fallbacks(settings):
    settings.CAREMGR_SECRET_KEYS = []
    settings.SECRET_KEY = "first-secret-key-" + "x" * 40
    account = make_account(secret="derived")

    settings.SECRET_KEY = "second-secret-key-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = ["first-secret-key-" + "x" * 40]
    assert Account.objects.get(pk=account.pk).secret == "derived"

    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(CredentialUnreadable):
        Account.objects.get(pk=account.pk)


def test_a_key_that_is_not_a_fernet_key_stops_the_start():
    env = {**os.environ, "CAREMGR_SECRET_KEYS": "not-a-key", "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "CAREMGR_SECRET_KEYS entry 1 is not a Fernet key" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_rows_stored_in_the_clear_and_its_reverse_decrypts_them():
    executor = MigrationExecutor(connection)
    executor.migrate([("inbox", "0002_account_poll_state")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO inbox_account (platform, slug, name, secret, verify_token,"
                " access_token, own_ids, handle, default_tier, is_active, poll_state, created_at)"
                " VALUES ('generic', 'legacy', '', 'plain-secret', '', 'plain-token', '[]', '',"
                " 'mid', %s, '{}', CURRENT_TIMESTAMP)",
                [True],
            )
        executor = MigrationExecutor(connection)
        executor.migrate([("inbox", "0003_encrypt_credentials")])
        pk = Account.objects.get(slug="legacy").pk
        secret, verify_token, access_token = raw_columns(pk)
        assert "plain" not in secret and "plain" not in access_token
        assert verify_token == ""
        legacy = Account.objects.get(pk=pk)
        assert (legacy.secret, legacy.access_token) == ("plain-secret", "plain-token")

        executor = MigrationExecutor(connection)
        executor.migrate([("inbox", "0002_account_poll_state")])
        assert raw_columns(pk) == ("plain-secret", "", "plain-token")
    finally:  # every app back to its latest: going back took the migrations built on inbox's
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_no_admin_page_shows_a_credential_after_saving(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root-1"))
    account = make_account(
        platform="meta", secret="meta-app-secret", verify_token="hub-token-77", access_token="pt-9"
    )
    for url in ["/admin/inbox/account/", f"/admin/inbox/account/{account.pk}/change/"]:
        page = client.get(url).content.decode()
        for credential in ("meta-app-secret", "hub-token-77", "pt-9"):
            assert credential not in page
    history = client.get(f"/admin/inbox/account/{account.pk}/history/").content.decode()
    assert "meta-app-secret" not in history
