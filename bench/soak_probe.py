"""What the soak run samples of each server-side process, read from /proc (Linux only).

A role (a daphne server, the Celery worker, beat) is a process and its children: a prefork
worker's pool processes hold most of its memory. Database connections are counted on the
server's side: for SQLite the descriptors open on the database file, for PostgreSQL the
backends of the database in `pg_stat_activity`.
"""

import os
from pathlib import Path

from ws_fanout_bench import process_cpu


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def descriptors(pid: int) -> list[str]:
    """What each open file descriptor points at."""
    folder = f"/proc/{pid}/fd"
    targets = []
    for name in os.listdir(folder):
        try:
            targets.append(os.readlink(f"{folder}/{name}"))
        except OSError:
            continue  # closed meanwhile
    return targets


def sample_role(pid: int, sqlite_path: str | None) -> dict:
    """RSS (MB), open descriptors, SQLite connections and CPU seconds of a process tree."""
    totals = {"rss": 0.0, "fds": 0, "sqlite": 0, "cpu": 0.0}
    for member in descendants(pid):
        try:
            targets = descriptors(member)
            totals["rss"] += rss_mb(member)
            totals["cpu"] += process_cpu(member)
        except OSError:
            continue
        totals["fds"] += len(targets)
        if sqlite_path:
            totals["sqlite"] += targets.count(sqlite_path)
    return totals


def postgres_connections(url: str, database: str) -> int:
    """Backends connected to `database`, the bench's own probe connection left out."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    return int(row[0])


def slope_per_minute(times: list[float], values: list[float]) -> float:
    """Least-squares slope of values over times (seconds), per minute."""
    n = len(times)
    if n < 2:
        return 0.0
    mean_t, mean_v = sum(times) / n, sum(values) / n
    spread = sum((t - mean_t) ** 2 for t in times)
    if spread == 0:
        return 0.0
    covariance = sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True))
    return covariance / spread * 60
