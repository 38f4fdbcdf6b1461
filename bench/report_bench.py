"""SLA report speed: `sla_report` per grouping over a year of cases, best of 3.

Builds N realistic cases (tiers, accounts, teams, agents, channels, sentiment, statuses,
response and resolution times, breaches) with a first and some next `ResponseTime` rows
each, by bulk_create into a database of its own, then times the report for each group_by
over the whole year, and the page's other figures. Target: < 1 s per report for 200k cases
on PostgreSQL.

    .venv/bin/python bench/report_bench.py [--cases 100000]        # SQLite, a temp file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/caremgr_dev \\
        .venv/bin/python bench/report_bench.py --cases 200000      # PostgreSQL

On PostgreSQL the cases go into a database named `<name>_report_bench` next to the one in
DATABASE_URL (created, and dropped afterwards unless --keep), never into that database.
"""

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
GROUP_BYS = ("tier", "account", "team", "agent", "platform")
TIERS = {"tech": 5, "low": 240, "mid": 60, "high": 30}  # first-response target, minutes
TIER_WEIGHTS = {"tech": 0.15, "low": 0.35, "mid": 0.35, "high": 0.15}
CHANNELS = ["x", "facebook", "instagram", "messenger", "whatsapp", "telegram"]
SENTIMENTS = (["negative"] * 3) + (["neutral"] * 5) + (["positive"] * 2)
BATCH = 5000


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench_database_url(url: str) -> tuple[str, str | None]:
    """(URL the bench uses, PostgreSQL database to create) for the given DATABASE_URL."""
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        name = parts.path.lstrip("/") + "_report_bench"
        return urlunsplit(parts._replace(path="/" + name)), name
    path = Path(tempfile.mkdtemp(prefix="report-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}", None


def admin_sql(url: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE on the server of `url`, from its `postgres` database."""
    import psycopg

    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(statement)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caremgr.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build(count: int, now: datetime, seed: int = 7) -> tuple[int, int]:
    """`count` cases created over the year before `now`; returns (cases, responses)."""
    from django.contrib.auth import get_user_model

    from cases.models import Case, ResponseTime, Team
    from inbox.models import Account, Contact

    rng = random.Random(seed)
    accounts = Account.objects.bulk_create(
        Account(platform="generic", slug=f"brand-{i}", secret="s") for i in range(8)
    )
    teams = Team.objects.bulk_create(Team(name=f"Team {i}", slug=f"team-{i}") for i in range(6))
    agents = get_user_model().objects.bulk_create(
        get_user_model()(username=f"agent{i}", password="!") for i in range(40)
    )
    contacts = Contact.objects.bulk_create(
        (
            Contact(channel="generic", external_id=f"c{i}", handle=f"c{i}")
            for i in range(count // 2 + 1)
        ),
        batch_size=BATCH,
    )
    tiers = list(TIER_WEIGHTS)
    weights = list(TIER_WEIGHTS.values())
    responses = 0
    year = 365 * 86400
    for offset in range(0, count, BATCH):
        cases, pending = [], []
        for index in range(offset, min(offset + BATCH, count)):
            # Cases arrive in time order, as the intake writes them: ids grow with created_at.
            age = year * (1 - index / count) - rng.uniform(0, 60)
            created = now - timedelta(seconds=max(age, 0))
            case, answers = realistic_case(
                rng, created, tiers, weights, accounts, teams, agents, contacts
            )
            cases.append(case)
            pending.append(answers)
        Case.objects.bulk_create(cases, batch_size=BATCH)
        rows = []
        for case, answers in zip(cases, pending, strict=True):
            for kind, at, seconds, target in answers:
                rows.append(
                    ResponseTime(
                        case=case,
                        kind=kind,
                        at=at,
                        waited_since=at - timedelta(seconds=seconds),
                        seconds=seconds,
                        target_seconds=target,
                        agent_id=case.assignee_id,
                        tier=case.tier_id,
                        team_id=case.team_id,
                        account_id=case.account_id,
                        channel=case.channel,
                    )
                )
        ResponseTime.objects.bulk_create(rows, batch_size=BATCH)
        responses += len(rows)
    return count, responses


def realistic_case(rng, created, tiers, weights, accounts, teams, agents, contacts):
    """One case and its responses: log-normal waits around the tier's target."""
    from cases.models import Case, ResponseTime

    tier = rng.choices(tiers, weights)[0]
    target = TIERS[tier] * 60
    status = rng.choices(["resolved", "closed", "open", "pending", "new"], [50, 30, 10, 5, 5])[0]
    has_team = rng.random() < 0.85
    case = Case(
        account=rng.choice(accounts),
        contact=rng.choice(contacts),
        channel=rng.choice(CHANNELS),
        status=status,
        tier_id=tier,
        team=rng.choice(teams) if has_team else None,
        assignee=rng.choice(agents) if has_team and rng.random() < 0.9 else None,
        sentiment=rng.choice(SENTIMENTS),
        created_at=created,
        updated_at=created,
        first_response_due=created + timedelta(seconds=target),
        priority=rng.choice(["P1", "P2", "P3", "P3", "P4"]),
    )
    answers = []
    if status != "new" and rng.random() < 0.92:
        wait = min(rng.lognormvariate(0, 0.9) * target * 0.6, 30 * 86400)
        case.first_response_at = created + timedelta(seconds=wait)
        case.first_response_seconds = wait
        case.first_response_breached = wait > target
        answers.append((ResponseTime.FIRST, case.first_response_at, wait, target))
        at = case.first_response_at
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            at += timedelta(seconds=rng.uniform(600, 20000))
            gap = rng.lognormvariate(0, 0.8) * 1800
            at += timedelta(seconds=gap)
            answers.append((ResponseTime.NEXT, at, gap, target * 4))
    elif status != "new":
        case.first_response_breached = True
    if status in ("resolved", "closed"):
        seconds = rng.lognormvariate(0, 0.7) * target * 6
        case.resolved_at = created + timedelta(seconds=seconds)
        case.resolution_seconds = seconds
        case.resolution_due = created + timedelta(seconds=target * 12)
        case.resolution_breached = seconds > target * 12
    case.breach_count = int(case.first_response_breached) + int(case.resolution_breached)
    return case, answers


def database_label(connection) -> str:
    if connection.vendor == "sqlite":
        return f"SQLite {connection.Database.sqlite_version}"
    connection.ensure_connection()
    version = connection.connection.info.server_version  # e.g. 150020
    return f"PostgreSQL {version // 10000}.{version % 100}"


class Clock:
    """Wall time, and CPU time of this process plus its PostgreSQL backend (from /proc, when
    the server runs on this machine): on a shared machine the CPU time is the steadier
    figure. Parallel query workers are separate processes and are not counted."""

    def __init__(self, connection):
        self.backend = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
            self.backend = stat if stat.exists() else None

    def cpu(self) -> float:
        used = time.process_time()
        if self.backend is not None:
            fields = self.backend.read_text().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return used

    def best_of(self, repeat: int, work) -> tuple[float, float, object]:
        """(best wall seconds, best CPU seconds, last result)."""
        walls, cpus, result = [], [], None
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), self.cpu()
            result = work()
            walls.append(time.perf_counter() - wall)
            cpus.append(self.cpu() - cpu)
        return min(walls), min(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench database")
    parser.add_argument(
        "--reuse", action="store_true", help="time a bench database kept by --keep again"
    )
    options = parser.parse_args()

    given = os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3")
    url, pg_name = bench_database_url(given)
    if pg_name and not options.reuse:
        admin_sql(given, f'DROP DATABASE IF EXISTS "{pg_name}"')
        admin_sql(given, f'CREATE DATABASE "{pg_name}"')
    try:
        run(url, options)
    finally:
        if not pg_name:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        elif not options.keep:
            from django.db import connections

            connections.close_all()
            admin_sql(given, f'DROP DATABASE IF EXISTS "{pg_name}"')


def run(url: str, options) -> None:
    setup_django(url)
    from django.db import connection

    from cases.models import Case, ResponseTime
    from cases.reports import sla_report
    from cases.reports_export import CASE_COLUMNS, case_rows, csv_lines
    from cases.reports_figures import backlog, daily

    now = datetime.now(UTC)
    started = time.perf_counter()
    if options.reuse and Case.objects.count() == options.cases:
        now = Case.objects.order_by("-created_at").values_list("created_at", flat=True)[0]
        cases, responses = options.cases, ResponseTime.objects.count()
        print(f"reusing {cases} cases and {responses} responses")
    else:
        cases, responses = build(options.cases, now)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        elapsed = time.perf_counter() - started
        print(f"built {cases} cases and {responses} responses in {elapsed:.1f} s")
    print(
        f"machine: nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()}, "
        f"{database_label(connection)}; load average {os.getloadavg()[0]:.1f}"
    )
    start, end = now - timedelta(days=365), now + timedelta(seconds=1)
    clock = Clock(connection)
    print(f"{'':34} {'wall':>7} {'CPU':>7}")

    def line(label: str, wall: float, cpu: float, note: str = "") -> None:
        print(f"{label:<34} {wall * 1000:5.0f} ms {cpu * 1000:5.0f} ms  {note}")

    for group_by in GROUP_BYS:
        wall, cpu, report = clock.best_of(
            options.repeat, lambda g=group_by: sla_report(start, end, g)
        )
        top = report["groups"][0]
        line(
            f"sla_report year, {group_by}",
            wall,
            cpu,
            f"{len(report['groups'])} groups; largest {top['key']!r}: {top['cases']} cases, "
            f"first response median {top['first_response']['median']:.0f} s, "
            f"p90 {top['first_response']['p90']:.0f} s, attainment {top['attainment']} %",
        )
    month = end - timedelta(days=30)
    for group_by in ("tier", "agent"):
        wall, cpu, _ = clock.best_of(options.repeat, lambda g=group_by: sla_report(month, end, g))
        line(f"sla_report last 30 days, {group_by}", wall, cpu)
    wall, cpu, days = clock.best_of(options.repeat, lambda: daily(start, end))
    line("daily figures, year", wall, cpu, f"{len(days)} days")
    wall, cpu, ages = clock.best_of(options.repeat, lambda: backlog())
    line("backlog by age", wall, cpu, f"{sum(a['cases'] for a in ages)} open")
    wall, cpu, size = clock.best_of(
        1, lambda: sum(len(line) for line in csv_lines(CASE_COLUMNS, case_rows(start, end)))
    )
    line("cases.csv, year", wall, cpu, f"{size / 1e6:.1f} MB")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
