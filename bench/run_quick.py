"""The quick benchmark set behind `make bench`: each benchmark at a small size, a few minutes.

Runs the scripts in bench/ as subprocesses with small arguments (on SQLite by default; on
PostgreSQL when DATABASE_URL is set, in databases of their own beside it), prints each one's
output as it comes, then a summary table of the figures. A step that fails or passes its
time bound is marked so and the others still run; the exit status is 1 if any failed.
Figures from a shared or busy machine are noisy: the load average is printed with them.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA_SET_SIZE = ("--messages", "20000", "--cases", "4000")


@dataclass
class Step:
    name: str
    args: list[str]
    keep: str  # regex of the output lines that go into the summary
    timeout: int = 240
    env: dict | None = None


def steps(database_url: str | None, workdir: Path) -> list[Step]:
    if database_url:
        dataset_url = quick_database(database_url)
    else:
        dataset_url = f"sqlite:///{workdir / 'dataset.sqlite3'}"
    return [
        Step(
            "sentiment",
            ["sentiment_eval.py", "--limit", "2000"],
            r"^== .*texts|caremgr engine",
        ),
        Step(
            "import",
            [
                "import_bench.py",
                "--repeat",
                "1",
                str(ROOT.parent / "shared/data/twcs/twcs_head5000.csv"),
            ],
            # the file's line, the column heads, each figure and the two targets' checks
            r"messages\), |^wall +CPU|^(textblob|engine|parse|import \d|insert) ",
        ),
        Step(
            "data set",
            ["dataset.py", "--database-url", dataset_url, "--create", *DATA_SET_SIZE],
            r"^wrote|^sentiment:",
            timeout=300,
        ),
        Step(
            "list, case page, SLA report",
            [
                "scale_bench.py",
                "--database-url",
                dataset_url,
                "--requests",
                "10",
                "--explain",
                "1000",
            ],
            r"^(floor: 404|list default|list \?ordering=sla_due |list \?q=refund|case page|"
            r"case API|SLA report API, a year, by tier)",
            timeout=400,
        ),
        Step(
            "SLA report (in-process)",
            ["report_bench.py", "--cases", "10000", "--repeat", "1"],
            r"^sla_report year, (tier|agent)|^daily",
        ),
        Step(
            "live fan-out",
            ["ws_fanout_bench.py", "--clients", "20", "--deliveries", "15", "--timeout", "150"],
            r"all .*receipts|floor",
            timeout=200,
            env={"DATABASE_URL": ""},
        ),
    ]


def quick_database(database_url: str) -> str:
    """The database the quick data set goes into, beside the configured one."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path=parts.path + "_quick"))


def drop_quick_database(database_url: str) -> None:
    sys.path.insert(0, str(BENCH))
    from report_bench import admin_sql

    name = urlsplit(quick_database(database_url)).path.lstrip("/")
    admin_sql(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(step: Step, python: str) -> tuple[str, float, list[str]]:
    """(status, seconds, summary lines) of one step; its output is shown as it runs."""
    env = {**os.environ, **(step.env or {})}
    env = {key: value for key, value in env.items() if value != ""}
    began = time.perf_counter()
    print(f"\n== {step.name}: bench/{' '.join(step.args)}", flush=True)
    lines, status = [], "ok"
    try:
        process = subprocess.Popen(
            [python, str(BENCH / step.args[0]), *step.args[1:]],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = began + step.timeout
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip())
            if time.perf_counter() > deadline:
                process.kill()
                status = "timeout"
                break
        code = process.wait(timeout=max(1, deadline - time.perf_counter()))
        if status == "ok" and code != 0:
            status = f"failed ({code})"
    except subprocess.TimeoutExpired:
        process.kill()
        status = "timeout"
    pattern = re.compile(step.keep)
    kept = [line.strip() for line in lines if pattern.search(line.strip())]
    return status, time.perf_counter() - began, kept


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="names of the steps to run (default: all)")
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="caremgr-quick-"))
    database_url = os.environ.get("DATABASE_URL")
    if database_url and not database_url.startswith(("postgres://", "postgresql://")):
        database_url = None  # SQLite: every script uses a temp file of its own
    results = []
    load_before = os.getloadavg()[0]
    try:
        for step in steps(database_url, workdir):
            if options.only and step.name not in options.only:
                continue
            results.append((step, *run(step, sys.executable)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if database_url:
            drop_quick_database(database_url)
    print(
        f"\n== summary ({'PostgreSQL' if database_url else 'SQLite'}; load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; nproc "
        f"{os.cpu_count()}). Full figures and targets: docs/benchmarks.md"
    )
    print(f"{'step':<30} {'status':<10} {'time':>6}  figures")
    for step, status, seconds, kept in results:
        first, *rest = kept or ["(no figures)"]
        print(f"{step.name:<30} {status:<10} {seconds:5.0f}s  {first}")
        for line in rest:
            print(f"{'':<49}{line}")
    return 0 if all(status == "ok" for _, status, _, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
