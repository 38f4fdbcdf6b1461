"""The load side of the soak run, in a process of its own (asyncio, one event loop).

Three kinds of traffic for a bounded time:

- WebSocket clients (agents and supervisors, each with the session of a real login) that
  record every `message.created` frame they get, and the delay from the webhook POST of
  that message to the frame;
- a webhook sender at a steady rate, with a few retried deliveries (platforms repeat
  them) that must add nothing;
- a few agents working their cases through the REST API: list, open, reply, note,
  resolve.

Every few seconds it reports the window's figures on a queue; at the end it hands back
what was sent and what each client received, for the parent to check against the database.
"""

import asyncio
import json
import random
import time
from collections import Counter, deque

from soak_payloads import Traffic
from webhook_bench import percentile

REPLIES = [
    "Sorry about that, I have checked your order and a replacement is on its way.",
    "Thanks for your patience. I've escalated this and will update you today.",
    "Danke für Ihre Nachricht, wir kümmern uns sofort darum.",
    "Could you send us your booking reference in a direct message?",
]
RESEND_EVERY = 40  # one delivery in 40 is posted a second time, as platforms retry


class Window:
    """Figures of the current sampling window; `take()` hands them over and starts anew."""

    def __init__(self) -> None:
        self.take()

    def take(self) -> dict:
        taken = getattr(self, "figures", None)
        self.figures = {"posts": [], "frames": [], "api": [], "errors": 0, "api_errors": 0}
        return taken


def p(values: list[float], share: float) -> float | None:
    return percentile(sorted(values), share) if values else None


class Load:
    def __init__(self, options: dict, stats) -> None:
        self.options, self.stats = options, stats
        self.window = Window()
        self.sent_at: dict[str, float] = {}
        self.sent: dict[str, list[str]] = {slug: [] for slug in options["accounts"]}
        self.received = [set() for _ in options["clients"]]
        self.frame_kinds = [Counter() for _ in options["clients"]]
        self.drops: list[str] = []
        self.post_errors: list[str] = []
        self.api_errors: list[str] = []
        self.api_refused = Counter()
        self.latencies = {"posts": [], "frames": [], "api": []}
        self.resent = 0
        self.behind = 0.0
        self.last_frame = time.perf_counter()
        self.done_sending = False
        self.stopping = False

    # -- WebSocket clients ----------------------------------------------------------------

    async def listen(self, index: int, socket) -> None:
        received, kinds = self.received[index], self.frame_kinds[index]
        try:
            async for raw in socket:
                now = time.perf_counter()
                event = json.loads(raw)
                kind = event.get("type")
                kinds[kind] += 1
                if kind != "message.created":
                    continue
                self.last_frame = now
                message = event["message"]
                if message["id"] in received:
                    continue  # also heard through a second group (team and own)
                received.add(message["id"])
                began = self.sent_at.get(message["external_id"])
                if began is not None:
                    self.window.figures["frames"].append(now - began)
        except Exception as exc:
            if not self.stopping:
                self.drops.append(f"client {index}: {type(exc).__name__}: {exc}")
        else:
            if not self.stopping:
                self.drops.append(f"client {index}: closed by the server ({socket.close_code})")

    # -- webhooks -------------------------------------------------------------------------

    async def post(self, client, delivery, *, resend: bool = False) -> None:
        if not resend:
            self.sent_at[delivery.external_id] = time.perf_counter()
        began = time.perf_counter()
        try:
            answer = await client.post(
                delivery.path, content=delivery.body, headers=delivery.headers
            )
            status = answer.status_code
            detail = answer.text[:200] if status != 200 else ""
        except Exception as exc:
            status, detail = 0, f"{type(exc).__name__}: {exc}"
        self.window.figures["posts"].append(time.perf_counter() - began)
        if status != 200:
            self.window.figures["errors"] += 1
            self.post_errors.append(f"{delivery.path} {delivery.external_id}: {status} {detail}")
        elif not resend:
            self.sent[delivery.account].append(delivery.external_id)

    async def send_webhooks(self, clients: list) -> None:
        """One delivery every 1/rate seconds, spread over the servers, never more than
        `in_flight` at once (when the server falls behind, the schedule slips and says so)."""
        options = self.options
        traffic = Traffic(options["accounts"], options["customers"], seed=options["seed"])
        total = int(options["rate"] * options["duration"])
        gate = asyncio.Semaphore(options["in_flight"])
        recent: deque = deque(maxlen=200)
        rng = random.Random(options["seed"])
        tasks = set()
        start = time.perf_counter()

        async def one(client, delivery, resend=False):
            try:
                await self.post(client, delivery, resend=resend)
            finally:
                gate.release()

        for n in range(total):
            due = start + n / options["rate"]
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await gate.acquire()
            self.behind = max(0.0, time.perf_counter() - due)
            client = clients[n % len(clients)]
            if n % RESEND_EVERY == RESEND_EVERY - 1 and recent:
                self.resent += 1
                task = asyncio.create_task(one(client, rng.choice(recent), resend=True))
            else:
                delivery = traffic.delivery(n)
                recent.append(delivery)
                task = asyncio.create_task(one(client, delivery))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)

    # -- agents working through the API ---------------------------------------------------

    async def call(self, client, method: str, path: str, **kwargs):
        began = time.perf_counter()
        try:
            answer = await client.request(method, path, **kwargs)
        except Exception as exc:
            self.window.figures["api_errors"] += 1
            self.api_errors.append(f"{method} {path}: {type(exc).__name__}: {exc}")
            return None
        self.window.figures["api"].append(time.perf_counter() - began)
        if answer.status_code >= 500:
            self.window.figures["api_errors"] += 1
            self.api_errors.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
            return None
        if answer.status_code >= 400:  # the product said no (a status it may not take)
            self.api_refused[f"{method} {answer.status_code} {answer.text[:80]}"] += 1
            return None
        return answer.json()

    async def work_cases(self, client, seed: int) -> None:
        rng = random.Random(seed)
        while not self.done_sending:
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            listing = await self.call(
                client, "GET", "/api/v1/cases/?assignee=me&status=new&status=open&page_size=20"
            )
            if not listing or not listing["results"]:
                continue
            case = rng.choice(listing["results"])["id"]
            await self.call(client, "GET", f"/api/v1/cases/{case}/")
            await self.call(
                client, "POST", f"/api/v1/cases/{case}/reply/", json={"text": rng.choice(REPLIES)}
            )
            roll = rng.random()
            if roll < 0.4:
                await self.call(
                    client, "POST", f"/api/v1/cases/{case}/status/", json={"status": "resolved"}
                )
            elif roll < 0.55:
                await self.call(
                    client, "POST", f"/api/v1/cases/{case}/notes/", json={"text": "Called back."}
                )
            elif roll < 0.65:
                await self.call(
                    client, "POST", f"/api/v1/cases/{case}/priority/", json={"priority": "P2"}
                )

    # -- the run --------------------------------------------------------------------------

    async def report(self) -> None:
        """Every `interval` seconds: the window's figures, on the stats queue."""
        while True:
            await asyncio.sleep(self.options["interval"])
            self.publish()

    def publish(self) -> None:
        figures = self.window.take()
        for key in ("posts", "frames", "api"):
            self.latencies[key] += figures[key]
        self.stats.put(
            {
                "posts": len(figures["posts"]),
                "post_p50": p(figures["posts"], 0.5),
                "post_p95": p(figures["posts"], 0.95),
                "frames": len(figures["frames"]),
                "frame_p50": p(figures["frames"], 0.5),
                "frame_p95": p(figures["frames"], 0.95),
                "api": len(figures["api"]),
                "api_p95": p(figures["api"], 0.95),
                "errors": figures["errors"] + figures["api_errors"],
                "behind": self.behind,
                "delivered": sum(len(v) for v in self.sent.values()),
            }
        )

    async def run(self) -> dict:
        import httpx
        import websockets

        options = self.options
        sockets = []
        for client in options["clients"]:
            headers = {"Cookie": f"sessionid={client['cookie']}", "Origin": "http://127.0.0.1"}
            url = options["ws_urls"][client["server"]]
            sockets.append(await websockets.connect(url, additional_headers=headers, max_size=None))
        listeners = [asyncio.create_task(self.listen(i, s)) for i, s in enumerate(sockets)]
        limits = httpx.Limits(max_connections=options["in_flight"])
        posters = [
            httpx.AsyncClient(base_url=url, timeout=30, limits=limits) for url in options["urls"]
        ]
        actors = [
            httpx.AsyncClient(
                base_url=options["urls"][k % len(options["urls"])],
                timeout=30,
                headers={"Authorization": f"Token {actor['token']}"},
            )
            for k, actor in enumerate(options["actors"])
        ]
        reporter = asyncio.create_task(self.report())
        workers = [
            asyncio.create_task(self.work_cases(c, options["seed"] + k))
            for k, c in enumerate(actors)
        ]
        self.stats.put({"event": "sending"})
        began = time.perf_counter()
        await self.send_webhooks(posters)
        sending = time.perf_counter() - began
        self.done_sending = True
        await asyncio.gather(*workers, return_exceptions=True)
        # Let the last deliveries through (a queue may still be draining): until no message
        # frame has come for `quiet` seconds (SLA events go on), for `settle` seconds at most.
        deadline = time.perf_counter() + options["settle"]
        self.last_frame = time.perf_counter()
        while time.perf_counter() < deadline:
            if time.perf_counter() - self.last_frame > options["quiet"]:
                break
            await asyncio.sleep(0.25)
        reporter.cancel()
        self.publish()
        self.stopping = True
        for socket in sockets:
            await socket.close()
        for task in listeners:
            task.cancel()
        for client in posters + actors:
            await client.aclose()
        return {
            "sending_seconds": sending,
            "sent": self.sent,
            "resent": self.resent,
            "received": [sorted(r) for r in self.received],
            "frame_kinds": [dict(k) for k in self.frame_kinds],
            "drops": self.drops,
            "post_errors": self.post_errors,
            "api_errors": self.api_errors,
            "api_refused": dict(self.api_refused),
            "latencies": self.latencies,
        }


def load_process(options: dict, stats, results) -> None:
    """Entry point of the load process; its outcome (or its error) goes on `results`."""
    load = Load(options, stats)
    try:
        outcome = asyncio.run(asyncio.wait_for(load.run(), options["timeout"]))
    except Exception as exc:  # reported by the parent, which owns the cleanup
        outcome = {"error": f"{type(exc).__name__}: {exc}"}
    results.put(outcome)
