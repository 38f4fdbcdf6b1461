"""The server side of the soak run: a fresh database, the people and accounts, the processes.

Embedded (the default, as `make run`): one `manage.py serve` process with the inline
pipeline and the background SLA monitor and outbox, SQLite in a temp file, the in-memory
channel layer. Scale-out (DATABASE_URL on PostgreSQL and REDIS_URL set): two daphne
processes, a Celery worker and Celery beat, on a PostgreSQL database created beside the one
named (dropped afterwards) and the Redis database named (flushed before and after).

Outbound replies go over real HTTP to the local fake platform of the tests, so the outbox
sends, and is answered, as it would be by Meta, X, Telegram and a generic endpoint.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from report_bench import admin_sql
from ws_fanout_bench import ROOT, Server, manage, session_cookie, stop

sys.path.insert(0, str(ROOT))
from tests.fake_platform import FakePlatform

PASSWORD = "soak-pass-1"
# slug: (platform, tier, team); one account per platform, the four tiers between them.
ACCOUNTS = {
    "soak-meta": ("meta", "mid", "care"),
    "soak-x": ("x", "high", "social"),
    "soak-telegram": ("telegram", "low", "chat"),
    "soak-generic": ("generic", "tech", "chat"),
}
X_BRAND_ID = "2244994945"  # tests.payloads.x.BRAND_ID: the brand's own X user
# A daphne access-log line of a 5xx answer.
SERVER_ERROR = re.compile(r'^\S+ - - \[[^]]+\] "[A-Z]+ [^"]*" 5\d\d ')

SETUP = """
import json
from django.core.management import call_command
from cases import actions
from cases.models import Tier
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

people = json.loads({people!r})
for person in people:
    extra = ["--team", person["team"]] if person["team"] else []
    call_command("create_agent", person["username"], "--role", person["role"],
                 "--capacity", "15", *extra)
# One hash for everyone: hashing each password on its own costs a second apiece.
get_user_model().objects.update(password=make_password({password!r}))
for account in {accounts!r}:
    call_command("create_account", *account)
# Targets short enough that the SLA monitor warns and breaches during the run.
Tier.objects.filter(slug="mid").update(first_response_minutes=2, next_response_minutes=4)
Tier.objects.filter(slug="high").update(first_response_minutes=1, next_response_minutes=3)
User = get_user_model()
for person in people:
    if person["role"] == "agent":
        actions.set_presence(User.objects.get(username=person["username"]), "online")
"""

# Everything the run needs to check afterwards, as one JSON document.
FACTS = """
import json
from collections import Counter
from cases.models import Case, CaseEvent
from inbox.models import Delivery, Message
messages = list(Message.objects.values_list(
    "id", "external_id", "account__slug", "direction", "case_id", "case__team__slug"))
print(json.dumps({
    "messages": messages,
    "deliveries": Counter(Delivery.objects.values_list("status", flat=True)),
    "delivery_errors": list(Delivery.objects.exclude(error="").values_list("error", flat=True)[:5]),
    "outbound": Counter(Message.objects.filter(direction="out").values_list("status", flat=True)),
    "cases": Counter(Case.objects.values_list("status", flat=True)),
    "timeline": Counter(CaseEvent.objects.values_list("kind", flat=True)),
}))
"""


@dataclass
class Person:
    username: str
    role: str
    team: str
    cookie: str = ""
    token: str = ""


@dataclass
class Stack:
    """The running server side: processes by role, and what clients need to reach it."""

    mode: str
    env: dict
    workdir: Path
    servers: list = field(default_factory=list)
    others: dict = field(default_factory=dict)  # role -> Popen (Celery worker and beat)
    fake: FakePlatform | None = None
    sqlite_path: str | None = None
    pg_admin_url: str | None = None
    pg_name: str | None = None

    @property
    def roles(self) -> dict[str, int]:
        """pid of each server-side process, by role."""
        pids = {f"server{k + 1}": s.process.pid for k, s in enumerate(self.servers)}
        pids.update({role: process.pid for role, process in self.others.items()})
        return pids

    @property
    def logs(self) -> list[Path]:
        return sorted(self.workdir.glob("*.log"))

    def facts(self) -> dict:
        return json.loads(manage(self.env, "shell", "-v", "0", "-c", FACTS))

    def stop(self) -> None:
        for process in self.others.values():
            stop(process, timeout=20)
        for server in self.servers:
            server.stop()
        if self.fake is not None:
            self.fake.stop()

    def drop(self) -> None:
        if self.pg_name:
            admin_sql(self.pg_admin_url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        if self.env.get("REDIS_URL"):
            import redis

            redis.Redis.from_url(self.env["REDIS_URL"]).flushdb()


def people(agents: int, supervisors: int, actors: int) -> tuple[list[Person], list[Person]]:
    """Agents spread over the teams of the accounts, supervisors; and the agents (first of
    each team in turn) who also work cases through the API."""
    teams = list(dict.fromkeys(team for _, _, team in ACCOUNTS.values()))
    staff = [Person(f"agent{k + 1}", "agent", teams[k % len(teams)]) for k in range(agents)]
    staff += [Person(f"supervisor{k + 1}", "supervisor", "") for k in range(supervisors)]
    return staff, staff[:actors]


def prepare(mode: str, staff: list[Person]) -> Stack:
    """A fresh database with the accounts and people of the run; nothing started yet."""
    workdir = Path(tempfile.mkdtemp(prefix="caremgr-soak-"))
    fake = FakePlatform().start()
    bases = fake.api_bases()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "SECRET_KEY": "soak-bench",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "caremgr.settings",
        **{f"CAREMGR_{platform.upper()}_API_BASE": url for platform, url in bases.items()},
    }
    stack = Stack(mode=mode, env=env, workdir=workdir, fake=fake)
    if mode == "embedded":
        stack.sqlite_path = str(workdir / "soak.sqlite3")
        env["DATABASE_URL"] = f"sqlite:///{stack.sqlite_path}"
    else:
        url = os.environ["DATABASE_URL"]
        parts = urlsplit(url)
        stack.pg_name = parts.path.lstrip("/") + "_run"
        stack.pg_admin_url = url
        admin_sql(url, f'DROP DATABASE IF EXISTS "{stack.pg_name}" WITH (FORCE)')
        admin_sql(url, f'CREATE DATABASE "{stack.pg_name}"')
        env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + stack.pg_name))
        env["REDIS_URL"] = os.environ["REDIS_URL"]
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    manage(env, "migrate", "--noinput", "-v", "0")
    tokens = {"meta": fake.META_TOKEN, "x": fake.X_TOKEN, "telegram": fake.TELEGRAM_TOKEN}
    accounts = []
    for slug, (platform, tier, team) in ACCOUNTS.items():
        account = [platform, slug, "--secret", secret(platform), "--tier", tier, "--team", team]
        if platform in tokens:
            account += ["--access-token", tokens[platform]]
        if platform == "x":
            account += ["--own-id", X_BRAND_ID]
        accounts.append(account)
    roster = [{"username": p.username, "role": p.role, "team": p.team} for p in staff]
    script = SETUP.format(people=json.dumps(roster), password=PASSWORD, accounts=accounts)
    manage(env, "shell", "-v", "0", "-c", script)
    return stack


def secret(platform: str) -> str:
    """The generic account's secret also signs its outbound replies: the fake checks it."""
    return FakePlatform.GENERIC_SECRET if platform == "generic" else f"soak-{platform}-secret"


def webhook_accounts() -> dict[str, tuple[str, str]]:
    """slug -> (platform, webhook secret), for the load side."""
    return {slug: (platform, secret(platform)) for slug, (platform, _, _) in ACCOUNTS.items()}


def start(stack: Stack) -> None:
    if stack.mode == "embedded":
        stack.servers = [Server(stack.env, stack.workdir, "server1", background=True)]
    else:
        stack.servers = [Server(stack.env, stack.workdir, f"server{k + 1}") for k in range(2)]
    for server in stack.servers:
        server.start()
    if stack.mode == "embedded":
        return
    celery = [sys.executable, "-m", "celery", "-A", "caremgr"]
    commands = {
        "worker": [
            *celery,
            "worker",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        "beat": [
            *celery,
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(stack.workdir / "beat-schedule"),
        ],
    }
    for role, command in commands.items():
        with (stack.workdir / f"{role}.log").open("wb") as log:
            stack.others[role] = subprocess.Popen(
                command, cwd=ROOT, env=stack.env, stdout=log, stderr=subprocess.STDOUT
            )
    time.sleep(3)  # deliveries queue in Redis meanwhile; nothing is lost by starting early
    for role, process in stack.others.items():
        if process.poll() is not None:
            log = (stack.workdir / f"{role}.log").read_text()[-2000:]
            raise RuntimeError(f"celery {role} did not start:\n{log}")


def log_in(stack: Stack, staff: list[Person], actors: list[Person]) -> None:
    """A session per person through the login form (as a browser); a token per API actor."""
    import httpx

    for k, person in enumerate(staff):
        server = stack.servers[k % len(stack.servers)]
        person.cookie = session_cookie(server.url, person.username, PASSWORD)
    for person in actors:
        answer = httpx.post(
            stack.servers[0].url + "/api/v1/auth/token/",
            json={"username": person.username, "password": PASSWORD},
            timeout=30,
        )
        answer.raise_for_status()
        person.token = answer.json()["token"]


def log_problems(paths: list[Path]) -> list[str]:
    """Lines of the server-side logs at ERROR or worse, tracebacks, and 5xx answers in
    daphne's access log."""
    found = []
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            if (
                " ERROR " in line
                or " CRITICAL " in line
                or line.startswith("Traceback")
                or SERVER_ERROR.search(line)
            ):
                found.append(f"{path.name}: {line[:300]}")
    return found
