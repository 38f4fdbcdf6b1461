"""The demo command: a lived-in inbox on an empty database, loaded once."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Case, CaseEvent, Status
from inbox.models import Account, Contact, Message
from tests.conftest import make_account

DEMO_USERS = ("agent", "agent2", "supervisor", "admin")
ROOT = Path(__file__).resolve().parents[1]


def counts() -> tuple[int, ...]:
    return (
        get_user_model().objects.count(),
        Account.objects.count(),
        Contact.objects.count(),
        Message.objects.count(),
        Case.objects.count(),
        CaseEvent.objects.count(),
    )


@pytest.mark.django_db
def test_demo_fills_an_empty_database_once(client):
    out = io.StringIO()
    call_command("demo", stdout=out, stderr=io.StringIO())

    for username in DEMO_USERS:
        assert client.login(username=username, password="demo"), username
        client.logout()

    messages = Message.objects.all()
    assert 300 <= messages.count() <= 500
    assert len(set(messages.values_list("channel", flat=True))) >= 4
    assert {"in", "out"} <= set(messages.values_list("direction", flat=True))
    german = messages.filter(language="de").count()
    assert messages.filter(language="en").count() > german >= 0.15 * messages.count()
    assert not messages.filter(case__isnull=True).exists()

    cases = Case.objects.all()
    assert cases.count() >= 80
    assert {"mid", "high", "tech"} <= set(cases.values_list("tier", flat=True))
    assert len(set(cases.values_list("priority", flat=True))) >= 3
    assert cases.filter(status=Status.RESOLVED).count() >= 10
    assert cases.filter(status=Status.PENDING).exists()
    assert cases.filter(assignee__isnull=False, status__in=["new", "open"]).exists()
    assert cases.filter(team__slug="kundenservice", language="de").exists()
    assert cases.filter(first_response_at__isnull=False).count() > cases.count() / 2
    assert Contact.objects.filter(tier="high", owner__username="agent").exists()
    assert "demo data already present" not in out.getvalue()
    assert "agent2" in out.getvalue()

    before = counts()
    again = io.StringIO()
    call_command("demo", "--if-empty", stdout=again)
    assert "demo data already present" in again.getvalue()
    assert counts() == before


@pytest.mark.django_db
def test_demo_refuses_a_database_that_has_accounts():
    make_account()
    with pytest.raises(CommandError, match="empty database"):
        call_command("demo", stdout=io.StringIO())
    assert Message.objects.count() == 0


def test_the_demo_command_returns_once_its_replies_went_out_and_logs_no_error(tmp_path):
    """`make run` loads the demo in a process of its own: the automatic replies it queues
    are sent (and fail, with no token) before it exits, without a traceback."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    env.pop("REDIS_URL", None)
    env["CAREMGR_TASKS_INLINE"] = "1"
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    done = subprocess.run(
        [*manage, "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    check = (
        "from inbox.models import Message; "
        "print(Message.objects.filter(status__in=['queued', 'sending']).count())"
    )
    left = subprocess.run(
        [*manage, "shell", "-c", check], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert left.stdout.strip().splitlines()[-1] == "0"
