"""Shared factories and fixtures: plain functions, real database, real URLs."""

import hashlib
import hmac
import json
import os
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

pytest_plugins = ["tests.fake_platform", "tests.faults", "tests.hang_report", "tests.role_world"]

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A file of ../shared/data, or skip the test when the folder is not beside the checkout."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


class Clock:
    """Wall-clock time under a test's control: `timezone.now()` answers `now`."""

    def __init__(self, now):
        self.now = now

    def set(self, moment) -> None:
        self.now = moment


def wall_clock(monkeypatch, start) -> Clock:
    """Put `timezone.now()` under the test's control, starting at `start`."""
    from django.utils import timezone

    clock = Clock(start)
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


def hex_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def customer_message(
    external_id: str,
    customer: str,
    *,
    minutes: int = 0,
    in_reply_to: str = "",
    conversation_id: str = "",
):
    """A customer's direct message as a connector parses it, `minutes` after 09:00 UTC on
    2026-11-25."""
    from datetime import UTC, datetime, timedelta

    from inbox.connectors.base import ParsedMessage, Person

    return ParsedMessage(
        external_id=external_id,
        channel="generic",
        direction="in",
        kind="dm",
        is_public=False,
        text="where is my parcel?",
        author=Person(customer, handle=customer),
        customer=Person(customer, handle=customer),
        created_at=datetime(2026, 11, 25, 9, tzinfo=UTC) + timedelta(minutes=minutes),
        in_reply_to=in_reply_to,
        conversation_id=conversation_id,
    )


def make_account(platform: str = "generic", slug: str = "acme", **fields):
    from inbox.models import Account

    defaults = {"secret": "s3cret", "verify_token": "vt0ken", "name": slug.title()}
    defaults.update(fields)
    return Account.objects.create(platform=platform, slug=slug, **defaults)


def account_change_form(account, **changes) -> dict:
    """The admin's change form of `account` as a browser posts it: secrets left blank (kept),
    the mid tier, no team, active. `changes` override fields; None leaves a field out (an
    unticked box)."""
    form = {
        "platform": account.platform,
        "slug": account.slug,
        "name": account.name,
        "secret": "",
        "verify_token": "",
        "access_token": "",
        "own_ids": "[]",
        "handle": "",
        "default_tier": "mid",
        "default_team": "",
        "is_active": "on",
    }
    form.update(changes)
    return {field: value for field, value in form.items() if value is not None}


def make_user(username: str, role: str = "agent", *, teams=(), **profile):
    from cases.models import AgentProfile

    user = get_user_model().objects.create_user(username, password="pw-" + username)
    agent = AgentProfile.objects.create(user=user, role=role, **profile)
    if teams:
        agent.teams.set(teams)
    return user


def post_generic(client, account, payload, *, secret=None, **extra):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"HTTP_X_CAREMGR_SIGNATURE": hex_signature(secret or account.secret, body)}
    headers.update(extra)
    return client.post(
        f"/webhooks/generic/{account.slug}/", body, content_type="application/json", **headers
    )


def generic_message(external_id: str = "m1", text: str = "Where is my refund?", **fields):
    item = {
        "external_id": external_id,
        "author": {"id": "u1", "handle": "dana", "name": "Dana", "followers": 120},
        "text": text,
        "created_at": "2026-11-20T10:00:00Z",
        "public": False,
        "direction": "in",
    }
    item.update(fields)
    return item


def brand_reply(external_id: str, text: str, *, to: str, in_reply_to: str, at) -> dict:
    """A reply the brand posted natively to customer `to`, as the generic webhook brings it."""
    return generic_message(
        external_id,
        text,
        created_at=at.isoformat(),
        direction="out",
        author={"id": "brand"},
        recipient={"id": to},
        in_reply_to=in_reply_to,
    )


@pytest.fixture
def account(db):
    return make_account()


@pytest.fixture
def needs_postgres():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")


@pytest.fixture
def needs_redis():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL")


@pytest.fixture(autouse=True)
def _inline_background_work(settings, request):
    """Webhook processing runs inline in tests, also when REDIS_URL selects Celery; tests of
    the Celery path mark themselves `celery` and start a real worker."""
    if "celery" not in request.keywords:
        settings.CAREMGR_TASKS_INLINE = True


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return "transactional_db" in getattr(item, "fixturenames", ()) or (
        marker is not None and bool(marker.kwargs.get("transaction"))
    )


def seed_tiers() -> None:
    """The tiers the migration seeds (transactional tests end by emptying every table)."""
    import importlib

    from django.apps import apps

    from cases.models import Tier

    if Tier.objects.count() < 4:
        importlib.import_module("cases.migrations.0003_seed_tiers").seed(apps, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, put the seeded tiers back for whatever runs next
    on this worker, module-scoped fixtures included."""
    yield
    # With no next item the session's test database is already gone.
    if nextitem is not None and _is_transactional(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            seed_tiers()


@pytest.fixture(autouse=True)
def _own_rate_limit_counts(settings):
    """Each test counts sign-in failures and deliveries afresh, also in a Redis that keeps
    the counts of earlier tests and runs."""
    settings.CAREMGR_RATE_LIMIT_PREFIX = f"rl-{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def _no_kept_accounts():
    """Webhook accounts kept by an earlier test (same slug, rolled-back row) are forgotten."""
    from inbox.account_cache import forget_accounts

    forget_accounts()


@pytest.fixture(autouse=True)
def _own_channel_layer():
    """Each test gets a channel layer of its own: the Redis layer binds its receive lock and
    connections to the event loop that first used them, and every async test has its own
    loop; a layer carried over would wait on the old loop's lock for ever."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are made in many tests; the production hasher would take most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def offline(monkeypatch):
    """Replies are queued, never sent: tests that reply stay off the network."""
    monkeypatch.setattr("inbox.outbound.outbox.queue_send", lambda message_id: None)
