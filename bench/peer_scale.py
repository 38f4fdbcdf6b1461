"""bench/peer_helpdesk.py --deployment scale: each system in its own production deployment,
on the same cores and the same PostgreSQL.

- caremgr as docs/deploy.md runs it: uvicorn with --processes processes (uvloop, httptools)
  answering webhooks through the short ASGI path, and --caremgr-workers Celery workers on
  Redis (solo pool, nice 10) filing the intake queue in batches;
- helpdesk with the same process count: gunicorn serving its WSGI app with threaded workers
  (--peer-threads each, persistent connections), as a synchronous Django app is deployed; or
  (--peer-server uvicorn) its ASGI app under caremgr's server, without persistent
  connections, which under ASGI would stay open one per request thread.

wrk (one thread, --concurrency keep-alive connections, bench/webhook_load.lua) posts the same
twcs messages to each, each message once: a warm-up of --warm messages first (imports,
connections, the language detector), then the N measured ones. Creation is timed from the
first request until the database holds every one of the N filed: for caremgr each message
stored once and in a case, for helpdesk one ticket each. Then the lists are timed as in the
embedded mode, against the same servers.
"""

import json
import os
import signal
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import psycopg
import redis
from peer_helpdesk import Side, get_all, in_process, list_rows, ms, print_table
from webhook_bench import percentile
from webhook_load import cpu_seconds, needs_wrk, stop, wrk_command, wrk_figures

ROOT = Path(__file__).resolve().parents[1]
UVICORN = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]

# Messages stored (answered) and filed, each side counted in its own tables. caremgr: the
# stored deliveries, and inbound messages in a case; helpdesk: its tickets, made in the request.
COUNTS = {
    "caremgr": """
        SELECT (SELECT count(*) FROM inbox_delivery),
               count(*) FILTER (WHERE case_id IS NOT NULL)
        FROM inbox_message WHERE direction = 'in'""",
    "helpdesk": "SELECT count(*), count(*) FROM helpdesk_ticket",
}
CHECKS = {
    "caremgr": """
        SELECT count(*), count(DISTINCT external_id), count(*) FILTER (WHERE case_id IS NOT NULL),
               (SELECT count(*) FROM inbox_delivery WHERE status <> 'processed'),
               (SELECT count(*) FROM cases_case)
        FROM inbox_message WHERE external_id = ANY(%s)""",
    "helpdesk": """
        SELECT count(*), count(DISTINCT (submitter_email, description)), count(*), 0,
               (SELECT count(*) FROM helpdesk_followup)
        FROM helpdesk_ticket""",
}


def deploy(side: Side, options, python: Path) -> None:
    """Turn a side of the embedded comparison into its production deployment (same database,
    same port, same lists)."""
    port = str(side.port)
    if side.name == "caremgr":
        side.env = {
            **side.env,
            "REDIS_URL": options.redis_url,
            "CAREMGR_TASKS_INLINE": "false",
            # docs/deploy.md: raise the per-account limit (500/s) for an account that sends more
            "CAREMGR_WEBHOOK_RATE_LIMIT": "6000000/60",
        }
        side.command = [sys.executable, "-m", "uvicorn", "caremgr.asgi:application"]
        side.command += ["--port", port, "--workers", str(options.processes), *UVICORN]
    elif options.peer_server == "uvicorn":
        side.env = {**side.env, "PEER_CONN_MAX_AGE": "0"}
        side.command = [str(python), "-m", "uvicorn", "peer.asgi:application"]
        side.command += ["--port", port, "--workers", str(options.processes), *UVICORN]
    else:
        side.command = [str(python), "-m", "gunicorn", "peer.wsgi:application", "-b"]
        side.command += [f"127.0.0.1:{port}", "-w", str(options.processes), "-k", "gthread"]
        side.command += ["--threads", str(options.peer_threads), "--log-level", "warning"]


def workers(side: Side, options, workdir: Path) -> list[subprocess.Popen]:
    """caremgr's Celery workers as the Procfile starts them, niced as deploy.md advises."""
    if side.name != "caremgr":
        return []
    started = []
    for n in range(options.caremgr_workers):
        command = ["nice", "-n", "10", sys.executable, "-m", "celery", "-A", "caremgr", "worker"]
        command += ["--pool", "solo", "--loglevel", "WARNING", "-n", f"peer{n}@%h"]
        command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
        with (workdir / f"worker{n}.log").open("ab") as log:
            started.append(
                subprocess.Popen(command, cwd=ROOT, env=side.env, stdout=log, stderr=log)
            )
    return started


def payload_file(path: Path, creations: list) -> Path:
    """The lines webhook_load.lua reads: the headers of each request, then its body."""
    with path.open("w") as out:
        for _, headers, body in creations:
            fields = [f"{k}: {v}" for k, v in headers.items() if k != "Content-Type"]
            out.write("\t".join([*fields, body.decode()]) + "\n")
    return path


def feed(conn, side: Side, lines: Path, count: int, options) -> dict:
    """Send every line with wrk while polling the side's database every 50 ms; once it holds
    `count` more filed, stop wrk (SIGINT: it prints its figures). Returns wrk's figures and
    the seconds from the start until all were stored and until all were filed."""
    stored0, filed0 = conn.execute(COUNTS[side.name]).fetchone()
    load = Namespace(threads=1, connections=options.concurrency)
    command = wrk_command(load, side.port, lines, options.timeout, side.creations[0][0])
    began = time.monotonic()
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    times = {"stored_in": None, "filed_in": None}
    while wrk.poll() is None:
        stored, filed = conn.execute(COUNTS[side.name]).fetchone()
        if times["stored_in"] is None and stored - stored0 >= count:
            times["stored_in"] = time.monotonic() - began
        if filed - filed0 >= count:
            times["filed_in"] = time.monotonic() - began
            break
        time.sleep(0.05)
    wrk.send_signal(signal.SIGINT)
    output, errors = wrk.communicate(timeout=60)
    if "RESULT" not in output:
        raise RuntimeError(f"wrk: {errors or output}")
    return {"wrk": wrk_figures(output), **times}


def measure(side: Side, measured: list, warm: list, options, python, urls, workdir) -> dict:
    deploy(side, options, python)
    if side.name == "caremgr":  # task messages and intake lists of earlier runs
        broker = redis.Redis.from_url(options.redis_url)
        broker.delete("celery", *broker.keys("caremgr:intake:*"))
    files = {
        "warm": payload_file(workdir / f"{side.name}.warm", side.creations[len(measured) :]),
        "measured": payload_file(workdir / f"{side.name}.load", side.creations[: len(measured)]),
    }
    side.start(workdir / f"{side.name}.log")
    processes = [side.process, *workers(side, options, workdir)]
    try:
        if side.after_start:
            side.after_start(side)
        with psycopg.connect(urls[side.name], autocommit=True) as conn:
            feed(conn, side, files["warm"], len(warm), options)
            time.sleep(1)  # the warm-up's last batch marks its deliveries
            load_before = os.getloadavg()[0]
            cpu = {p.pid: cpu_seconds(p.pid) for p in processes}
            result = feed(conn, side, files["measured"], len(measured), options)
            cpu = {p.pid: cpu_seconds(p.pid) - cpu[p.pid] for p in processes}
            load_after = os.getloadavg()[0]
            ids = [m.external_id for m in measured]
            check = conn.execute(CHECKS[side.name], [ids] if side.name == "caremgr" else None)
            check = check.fetchone()
        lists = in_process(
            get_all, side.port, side.process.pid, side.lists, options.requests, timeout=1800
        )
        if "error" in lists:
            raise RuntimeError(f"{side.name} lists: {lists['error']}")
    finally:
        for process in processes[1:]:
            stop(process)
        side.stop()
    if result["filed_in"] is None:
        raise RuntimeError(f"{side.name}: not all {len(measured)} filed within --timeout")
    return {
        **result,
        "web_cpu": cpu[side.process.pid],
        "worker_cpu": sum(cpu[p.pid] for p in processes[1:]),
        "check": check,
        "lists": lists,
        "load": (load_before, load_after),
    }


def run(options, python: Path, sides: list[Side], measured: list, warm: list, urls) -> dict:
    needs_wrk()
    workdir = Path(options.workdir)
    results = {}
    for side in sides:
        print(f"\n{side.name}: {len(measured)} messages after {len(warm)} to warm up", flush=True)
        results[side.name] = result = measure(side, measured, warm, options, python, urls, workdir)
        print(
            f"{side.name}: all {len(measured)} stored after {result['stored_in']:.2f} s, filed "
            f"after {result['filed_in']:.2f} s; web CPU {result['web_cpu']:.1f} s, workers "
            f"{result['worker_cpu']:.1f} s; database check {result['check']}",
            flush=True,
        )
    report(results, options, len(measured))
    return results


def report(results: dict, options, count: int) -> None:
    peer = (
        f"uvicorn, {options.processes} processes"
        if options.peer_server == "uvicorn"
        else f"gunicorn, {options.processes} gthread workers × {options.peer_threads} threads"
    )
    print(
        f"\ndeployment: caremgr uvicorn, {options.processes} processes + "
        f"{options.caremgr_workers} Celery worker(s) (solo, nice 10) on Redis "
        f"{options.redis_url}; helpdesk {peer}; PostgreSQL for both; wrk, 1 thread, "
        f"{options.concurrency} connections, {count} twcs messages, each once"
    )
    for name, r in results.items():
        total, distinct, filed, unprocessed, containers = r["check"]
        w = r["wrk"]
        print(
            f"{name}: load average {r['load'][0]:.2f} → {r['load'][1]:.2f}; wrk: "
            f"{w['requests']:.0f} answered, {w['acked']:.0f} with 200/201, {w['refused']:.0f} "
            f"refused, {w['errors']:.0f} socket errors (wrk stops reading at the last line); "
            + (
                f"database: {total} of the {count} stored, {distinct} distinct, {filed} in a "
                f"case; {unprocessed} deliveries not processed; {containers} cases"
                if name == "caremgr"
                else f"database: {total} tickets with the {options.warm} of the warm-up, "
                f"{distinct} distinct; {containers} follow-ups"
            )
        )
    if len(results) == 1:  # --only: this side's figures, nothing to compare
        ((name, r),) = results.items()
        print(
            f"{name}: filed end to end {count / r['filed_in']:.1f} msg/s ({r['filed_in']:.1f} s), "
            f"stored and answered {count / r['stored_in']:.1f} msg/s; answer latency p50 / p95 "
            f"/ p99 {ms(r['wrk']['p50'] / 1e6)} / {ms(r['wrk']['p95'] / 1e6)} / "
            f"{ms(r['wrk']['p99'] / 1e6)} ms; CPU per message: web "
            f"{ms(r['web_cpu'] / count)} ms, workers {ms(r['worker_cpu'] / count)} ms"
        )
        for label, figures in r["lists"].items():
            print(
                f"{label}: p50 {ms(percentile(figures['samples'], 0.5))} ms, p95 "
                f"{ms(percentile(figures['samples'], 0.95))} ms, server CPU {ms(figures['cpu'])} ms"
            )
        return
    c, h = results["caremgr"], results["helpdesk"]
    rows = []

    def rate(r: dict) -> float:
        return count / r["filed_in"]

    rows.append(("filed end to end (msg/s)", f"{rate(c):.1f}", f"{rate(h):.1f}", rate(c) / rate(h)))
    answered = {n: count / r["stored_in"] for n, r in results.items()}
    rows.append(
        (
            "stored and answered (msg/s)",
            f"{answered['caremgr']:.1f}",
            f"{answered['helpdesk']:.1f}",
            answered["caremgr"] / answered["helpdesk"],
        )
    )
    for key in ("p50", "p95", "p99"):
        cm, hm = c["wrk"][key] / 1e6, h["wrk"][key] / 1e6
        rows.append((f"answer latency {key} (ms)", ms(cm), ms(hm), hm / cm))
    per = {n: (r["web_cpu"], r["worker_cpu"]) for n, r in results.items()}
    cw, hw = (per[n][0] / count for n in ("caremgr", "helpdesk"))
    ct, ht = (sum(per[n]) / count for n in ("caremgr", "helpdesk"))
    rows.append(("web CPU per message (ms)", ms(cw), ms(hw), hw / cw))
    rows.append(("web + worker CPU per message (ms)", ms(ct), ms(ht), ht / ct))
    print_table(rows + list_rows(c["lists"], h["lists"]))
    print(
        f"filed end to end: first request to the last of the {count} filed in the database "
        f"(caremgr {c['filed_in']:.1f} s, all answered after {c['stored_in']:.1f} s; helpdesk "
        f"{h['filed_in']:.1f} s)"
    )
    print(json.dumps({n: {k: r[k] for k in ("filed_in", "stored_in")} for n, r in results.items()}))
