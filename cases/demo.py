"""The demo: teams, people, accounts, configuration and a week of customer conversations.

Users and accounts are made by the `create_agent` and `create_account` commands. Messages
go through the same intake as webhook deliveries, as history (`live=False`: no automatic
replies, no sending, no live events); the brand's replies arrive as native outbound messages
answering the customer's. The worked-on look afterwards (assignments, resolved and pending
cases, notes, escalations) comes from the operations agents use.
"""

from __future__ import annotations

import io
import math
import random
import string
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from operator import attrgetter
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from cases import actions
from cases import demo_data as data
from cases.models import (
    BusinessHours,
    CannedReply,
    Case,
    KnowledgeArticle,
    Priority,
    RoutingRule,
    Status,
    Team,
)
from inbox.connectors.base import ParsedMessage, Person
from inbox.handoff import batch_handler
from inbox.models import Account, Contact
from inbox.store import upsert_contacts

PASSWORD = "demo"
LOGINS = [user[0] for user in data.USERS]
BATCH_SIZE = 200
X_EPOCH_MS = 1288834974657
FOLLOWER_ROUTES = {"instagram", "instagram_dm", "x", "x_dm"}
NAMELESS_ROUTES = {"facebook", "messenger", "whatsapp", "web"}  # platforms that give no handle
UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "ş": "s", "ı": "i"})


class Route(NamedTuple):
    """How one kind of conversation travels: account, channel, opening kind and weight."""

    slug: str
    channel: str
    kind: str
    weight: int
    brand: str  # key of the brand's identity answering on this route
    private: str = ""  # the route a "please DM us" reply moves the customer to (same contact)

    @property
    def is_public(self) -> bool:
        return self.kind != "dm"


ROUTES = {name: Route(*row) for name, row in data.ROUTES.items()}


@dataclass
class Conversation:
    route: Route
    customer: Person
    language: str
    topic: str
    chat_id: str
    messages: list[ParsedMessage] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    is_escalated: bool = False


class Week:
    """Writes a week of conversations up to `now`, from one seeded random generator."""

    def __init__(self, rng: random.Random, brands: dict[str, Person], now: datetime):
        self.rng, self.brands, self.now = rng, brands, now
        self.counter = 0
        self.posts = {
            "facebook": [f"{brands['page'].external_id}_{self.digits(16)}" for _ in range(6)],
            "instagram": [self.digits(17) for _ in range(6)],
        }
        self.customers: dict[str, list[tuple[str, Person]]] = defaultdict(list)

    def digits(self, n: int) -> str:
        return str(self.rng.randint(10 ** (n - 1), 10**n - 1))

    def token(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choices(alphabet, k=n))

    def person(self, route: str, language: str) -> Person:
        rng, texts = self.rng, data.TEXTS[language]
        first = rng.choice(texts["first names"][0].split())
        last = rng.choice(texts["last names"][0].split())
        handle = rng.choice(data.HANDLES).format(
            first=first, last=last, number=rng.randint(10, 99), word=rng.choice(data.HANDLE_WORDS)
        )
        followers = 0
        if route in FOLLOWER_ROUTES:
            followers = int(rng.lognormvariate(5.3, 1.7))
            if rng.random() < 0.08:  # a few with a large audience
                followers = int(10 ** rng.uniform(4, 5.7))
        if route == "whatsapp":
            external_id = ("49" if language == "de" else "44") + self.digits(10)
        elif route == "web":
            external_id = "visitor-" + self.token(12, "0123456789abcdef")
        else:
            external_id = self.digits({"telegram": 10, "x": 19, "x_dm": 19}.get(route, 17))
        handle = "" if route in NAMELESS_ROUTES else handle.lower().translate(UMLAUTS)
        return Person(external_id, handle, f"{first} {last}", followers)

    def message_id(self, route: Route, at: datetime, root: str) -> str:
        """An id shaped like the platform's own."""
        self.counter += 1
        channel = route.channel
        if channel == "x":
            return str(((int(at.timestamp() * 1000) - X_EPOCH_MS) << 22) | self.counter % 4096)
        if channel == "facebook":
            return f"{root}_{self.digits(16)}"
        if channel == "instagram":
            return self.digits(18) if route.is_public else "aWdfZAG1f" + self.token(40)
        if channel == "messenger":
            return "m_" + self.token(40)
        if channel == "whatsapp":
            return "wamid.HBgM" + self.token(40, string.ascii_uppercase + string.digits)
        if channel == "telegram":
            return f"{root}:{self.counter}"
        return "web-" + self.token(12)

    def start_time(self) -> datetime:
        while True:
            day = self.now.date() - timedelta(days=self.rng.randint(0, 7))
            hour = self.rng.choices(range(24), weights=data.HOURLY)[0]
            at = datetime.combine(day, time(hour), tzinfo=self.now.tzinfo)
            at += timedelta(seconds=self.rng.randint(0, 3599))
            if self.now - timedelta(days=7) < at < self.now - timedelta(minutes=5):
                return at

    def later(self, at: datetime, median_minutes: float, *, staffed: bool = False) -> datetime:
        """A realistic delay: minutes usually, hours sometimes; the brand answers by day."""
        minutes = min(self.rng.lognormvariate(math.log(median_minutes), 1.2), 20 * 60)
        result = at + timedelta(minutes=max(minutes, 1.0))
        if staffed and not 7 <= result.hour < 22:
            day = result.date() + timedelta(days=1 if result.hour >= 22 else 0)
            result = datetime.combine(day, time(7), tzinfo=result.tzinfo)
            result += timedelta(minutes=self.rng.randint(5, 90))
        return result

    def conversation(self) -> Conversation:
        rng = self.rng
        name = rng.choices(list(ROUTES), weights=[r.weight for r in ROUTES.values()])[0]
        known = self.customers[name]
        if known and rng.random() < 0.06:  # a returning customer
            language, customer = rng.choice(known)
        else:
            language = "de" if rng.random() < 0.33 else "en"
            customer = self.person(name, language)
            known.append((language, customer))
        topic = rng.choices(list(data.TOPICS), weights=[w for w, _ in data.TOPICS.values()])[0]
        conv = Conversation(ROUTES[name], customer, language, topic, f"chat-{self.token(10)}")
        self._write(conv, self.start_time())
        return conv

    def _say(self, conv: Conversation, route: Route, direction: str, text: str, at: datetime):
        """Add one message threaded the way the platform threads it."""
        brand, customer = self.brands[route.brand], conv.customer
        earlier = [m for m, r in zip(conv.messages, conv.routes, strict=True) if r is route]
        if not route.is_public:
            root = conv.chat_id if route.channel == "generic" else customer.external_id
        elif earlier:
            root = earlier[0].conversation_id
        else:
            root = self.rng.choice(self.posts.get(route.channel, [""]))
        external_id = self.message_id(route, at, root)
        if direction == "out":
            in_reply_to = next(m.external_id for m in reversed(earlier) if m.direction == "in")
        elif route.is_public:
            in_reply_to = earlier[-1].external_id if earlier else root
        else:
            in_reply_to = ""
        if route.channel == "x" and route.is_public:  # a tweet names whom it answers
            text = f"@{customer.handle if direction == 'out' else brand.handle} {text}"
            root = "" if earlier else external_id
        elif route.channel == "instagram" and route.is_public and direction == "out":
            text = f"@{customer.handle} {text}"
        conv.routes.append(route)
        conv.messages.append(
            ParsedMessage(
                external_id=external_id,
                channel=route.channel,
                direction=direction,
                kind=("comment" if route.is_public else "dm") if earlier else route.kind,
                is_public=route.is_public,
                text=text,
                author=customer if direction == "in" else brand,
                customer=customer,
                created_at=at,
                in_reply_to=in_reply_to,
                conversation_id=root,
            )
        )

    def _write(self, conv: Conversation, at: datetime) -> None:
        """Opener, perhaps a reply (perhaps asking for a DM), perhaps a follow-up and answer."""
        rng, texts, topic, route = self.rng, data.TEXTS[conv.language], conv.topic, conv.route
        values = {
            "name": conv.customer.name.split()[0],
            "order": f"AC-{rng.randint(100000, 999999)}",
            "product": rng.choice(texts["products"][0].split(", ")),
            "days": rng.randint(3, 10),
            "amount": _money(rng.choice(data.AMOUNTS), conv.language),
        }

        def say(direction: str, section: str, when: datetime, index: int | None = None) -> None:
            pool = texts[section]
            text = pool[index] if index is not None else rng.choice(pool)
            self._say(conv, route, direction, text.format(**values), when)

        kind = data.TOPICS[topic][1]
        pair = None
        if len(texts[topic]) == len(texts[f"{topic} reply"]):
            pair = rng.randrange(len(texts[topic]))
        say("in", topic, at, pair)
        reply_at = self.later(at, 25, staffed=True)
        if rng.random() > (0.7 if kind == "praise" else 0.82) or reply_at >= self.now:
            nudge_at = self.later(at, 180)
            if kind == "complaint" and rng.random() < 0.25 and nudge_at < self.now:
                say("in", "nudge", nudge_at)
            return
        if route.private and kind == "complaint" and rng.random() < 0.5:
            say("out", "move to dm", reply_at)
            route = ROUTES[route.private]
            at = self.later(reply_at, 12)
            reply_at = self.later(at, 25, staffed=True)
            if at >= self.now:
                return
            say("in", "dm details", at)
            if reply_at >= self.now:
                return
        say("out", f"{topic} reply", reply_at, pair)
        if rng.random() >= (0.45 if kind == "complaint" else 0.15):
            return
        mood = "thanks"
        if kind == "complaint":
            mood = rng.choices(["thanks", "unhappy", "escalate"], weights=[50, 38, 12])[0]
        follow_at = self.later(reply_at, 50)
        answer_at = self.later(follow_at, 40, staffed=True)
        if follow_at >= self.now:
            return
        say("in", mood, follow_at)
        conv.is_escalated = mood == "escalate"
        if answer_at < self.now and rng.random() < (0.35 if mood == "thanks" else 0.75):
            say("out", f"{mood} reply", answer_at)


def _money(amount: float, language: str) -> str:
    return f"{amount:.2f} €".replace(".", ",") if language == "de" else f"€{amount:.2f}"


def create_teams() -> dict[str, Team]:
    teams = {}
    for slug, name, strategy, zone in data.TEAMS:
        teams[slug], _ = Team.objects.update_or_create(
            slug=slug, defaults={"name": name, "strategy": strategy, "timezone": zone}
        )
    berlin = teams["kundenservice"]
    BusinessHours.objects.bulk_create(
        BusinessHours(team=berlin, weekday=day, opens=time(8), closes=time(18)) for day in range(5)
    )
    return teams


def create_users() -> dict:
    """The demo users, all with the one password (hashed once: hashing is slow on purpose)."""
    User = get_user_model()
    for username, role, teams, languages, capacity, first, last in data.USERS:
        options = {"role": role, "teams": teams, "stdout": io.StringIO()}
        if languages:
            options["languages"] = languages
        if capacity:
            options["capacity"] = capacity
        call_command("create_agent", username, **options)
        User.objects.filter(username=username).update(first_name=first, last_name=last)
    users = User.objects.filter(username__in=[u[0] for u in data.USERS])
    users.update(password=make_password(PASSWORD))
    return {u.username: u for u in users}


def create_accounts(rng: random.Random) -> tuple[dict[str, Account], dict[str, Person]]:
    """The four accounts with secrets and ids that look random but follow from the seed."""
    brands = {}
    for slug, platform, name, handle, tier, identities in data.ACCOUNTS:
        own = {
            key: Person(str(rng.randint(10 ** (n - 1), 10**n - 1)), own_handle, own_name)
            for key, (n, own_handle, own_name) in identities.items()
        }
        brands.update(own)
        call_command(
            "create_account", platform, slug, secret=f"{rng.getrandbits(160):040x}",
            verify_token=f"{rng.getrandbits(96):024x}", tier=tier, name=name, team="care",
            own_ids=[p.external_id for p in own.values()], stdout=io.StringIO(),
        )  # fmt: skip
        Account.objects.filter(slug=slug).update(handle=handle)
    return {a.slug: a for a in Account.objects.all()}, brands


def create_configuration(teams: dict[str, Team]) -> None:
    """Knowledge base, canned replies and routing rules."""
    for header, (body,) in data.ARTICLES.items():
        title, language, keywords, path = header.split(" | ")
        KnowledgeArticle.objects.create(
            title=title, language=language, keywords=keywords, body=body,
            url=f"https://help.acme.example/{path}",
        )  # fmt: skip
    for header, (text,) in data.CANNED_REPLIES.items():
        title, shortcut, language, team = header.split(" | ")
        CannedReply.objects.create(
            title=title, shortcut=shortcut, language=language, text=text, team=teams.get(team)
        )
    for position, rule in enumerate(data.RULES, start=1):
        fields = {**rule, "set_team": teams.get(rule.get("set_team", ""))}
        RoutingRule.objects.create(position=position * 10, stop_processing=False, **fields)


def assign_tiers(rng: random.Random, conversations: list[Conversation], manager) -> None:
    """Some customers have a dedicated manager (high-touch), some are served by automation."""
    people = {(c.route.channel, c.customer.external_id): c for c in conversations}
    chosen: dict[str, list[Conversation]] = {"high": [], "tech": []}
    for conv in people.values():
        roll = rng.random()
        if roll < 0.07:
            chosen["high"].append(conv)
        elif roll < 0.17 and conv.topic != "legal":
            chosen["tech"].append(conv)
    for tier, convs in chosen.items():
        contacts = upsert_contacts((c.route.channel, c.customer) for c in convs)
        Contact.objects.filter(pk__in=[c.pk for c in contacts.values()]).update(
            tier=tier, owner=manager if tier == "high" else None
        )


def feed(accounts: dict[str, Account], conversations: list[Conversation], *, progress: bool):
    """Hand each account's messages to the intake in time order, a batch at a time."""
    handler = batch_handler()
    by_account: dict[str, list[ParsedMessage]] = defaultdict(list)
    for conv in conversations:
        by_account[conv.route.slug].extend(conv.messages)
    total = sum(len(items) for items in by_account.values())
    with tqdm(total=total, unit="msg", file=sys.stderr, disable=None if progress else True) as bar:
        for slug, items in by_account.items():
            items.sort(key=attrgetter("created_at"))
            for start in range(0, len(items), BATCH_SIZE):
                batch = items[start : start + BATCH_SIZE]
                with transaction.atomic():
                    handler(accounts[slug], batch, live=False)
                bar.update(len(batch))


def settle(rng: random.Random, users: dict, conversations: list[Conversation], now: datetime):
    """Make the inbox look worked on: resolve older answered cases, park a few as pending,
    hand some open ones to agents, write a few notes, and escalate the angriest."""
    agent, agent2, supervisor = users["agent"], users["agent2"], users["supervisor"]
    by_team = {"kundenservice": agent2, "key-accounts": agent}

    def worker(case: Case):
        if case.contact.owner_id:
            return case.contact.owner
        return by_team.get(case.team.slug if case.team else "") or rng.choice([agent, agent2])

    cases = list(Case.objects.select_related("account", "team", "contact__owner").order_by("pk"))
    older = [c for c in cases if c.first_response_at and c.created_at < now - timedelta(days=1)]
    older.sort(key=lambda c: (c.last_message_direction != "out", rng.random()))
    resolved = older[: round(len(older) * 0.35)]
    for case in resolved:
        who = worker(case)
        actions.set_status(actions.assign_case(case, who, actor=who), Status.RESOLVED, actor=who)

    still_open = [c for c in cases if c not in resolved]
    answered = [c for c in still_open if c.last_message_direction == "out"]
    pending = rng.sample(answered, min(5, len(answered)))
    for case in pending:
        who = worker(case)
        actions.set_status(actions.assign_case(case, who, actor=who), Status.PENDING, actor=who)
    waiting = [c for c in still_open if c not in pending]
    handed = rng.sample(waiting, max(round(len(still_open) * 0.3) - len(pending), 0))
    handed = [actions.assign_case(case, worker(case), actor=supervisor) for case in handed]
    for case, note in zip(rng.sample(handed, min(3, len(handed))), data.NOTES, strict=False):
        actions.add_note(case, note, actor=case.assignee)

    angry = {(c.route.slug, c.customer.external_id) for c in conversations if c.is_escalated}
    for case in (c for c in waiting if (c.account.slug, c.contact.external_id) in angry):
        actions.set_priority(case, Priority.P1, actor=supervisor)
        actions.add_note(case, data.ESCALATION_NOTE, actor=supervisor)


def load(*, seed: int = 7, messages: int = 400, progress: bool = True) -> None:
    """Fill an empty database with the demo, in one transaction."""
    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        teams = create_teams()
        users = create_users()
        accounts, brands = create_accounts(rng)
        create_configuration(teams)
        week = Week(rng, brands, now)
        conversations: list[Conversation] = []
        while sum(len(c.messages) for c in conversations) < messages:
            conversations.append(week.conversation())
        assign_tiers(rng, conversations, users["agent"])
        feed(accounts, conversations, progress=progress)
        settle(rng, users, conversations, now)
