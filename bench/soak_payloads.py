"""Signed webhook deliveries for the soak run, one builder per platform.

The payload shapes come from `tests/payloads` (after each platform's documented examples);
here they get a customer, a text and an id of the soak's own, and the signature header the
platform would send. `external_id` is what caremgr stores for the message, so the run can
check afterwards that every message it sent is stored exactly once.
"""

import csv
import hashlib
import hmac
import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from webhook_bench import TEXTS  # noqa: E402

from tests.payloads import meta, telegram, x  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Delivery:
    """One webhook request: where it goes, its body and headers, the message it carries."""

    account: str
    path: str
    body: bytes
    headers: dict
    external_id: str


def customer_texts(limit: int = 4000) -> list[str]:
    """Real customer messages: inbound tweets of twcs and German tweets of GermEval 2017,
    read from ../shared/data; a few built-in ones when the data is not there."""
    texts: list[str] = []
    twcs = DATA / "twcs" / "twcs_random5000.csv"
    if twcs.exists():
        with twcs.open(newline="", encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle) if row["inbound"] == "True"]
    germeval = DATA / "germeval2017" / "dev_v1.4.tsv"
    if germeval.exists():
        with germeval.open(encoding="utf-8") as handle:
            for line in handle:
                fields = line.rstrip("\n").split("\t")
                if len(fields) > 1 and "twitter.com" in fields[0]:
                    texts.append(fields[1])
    texts = [t for t in texts if t.strip()][:limit]
    return texts or TEXTS


def build(platform: str, slug: str, secret: str, n: int, customer: int, text: str) -> Delivery:
    """Delivery number `n` (unique in the run) from customer number `customer`."""
    now = datetime.now(UTC)
    builder = BUILDERS[platform]
    payload, external_id = builder(n, customer, text, now)
    body = json.dumps(payload).encode()
    return Delivery(
        account=slug,
        path=f"/webhooks/{platform}/{slug}/",
        body=body,
        headers={"Content-Type": "application/json", **SIGNERS[platform](secret, body)},
        external_id=external_id,
    )


def _generic(n: int, customer: int, text: str, now: datetime) -> tuple[dict, str]:
    external_id = f"soak-{n}"
    return {
        "external_id": external_id,
        "author": {
            "id": f"g{customer}",
            "handle": f"shopper{customer}",
            "name": f"Shopper {customer}",
            "followers": customer * 13 % 5000,
        },
        "text": text,
        "created_at": now.isoformat(),
        "conversation_id": f"g{customer}",
        "public": customer % 4 == 0,
        "direction": "in",
    }, external_id


def _meta(n: int, customer: int, text: str, now: datetime) -> tuple[dict, str]:
    mid = f"m_soak{n}"
    event = meta.messenger_message(
        mid=mid, text=text, sender=f"69{customer:012d}", timestamp=int(now.timestamp() * 1000)
    )
    return meta.messaging(event), mid


def _x(n: int, customer: int, text: str, now: datetime) -> tuple[dict, str]:
    user_id = str(4_000_000_000 + customer)
    if n % 3:  # public mentions, and some direct messages
        tweet_id = str(1_900_000_000_000_000_000 + n)
        author = x.user(user_id, f"flyer{customer}", f"Flyer {customer}", customer * 31 % 90_000)
        tweet = x.tweet(
            tweet_id,
            f"@XDevelopers {text}",
            author=author,
            created_at=now.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            timestamp_ms=str(int(now.timestamp() * 1000)),
        )
        return x.tweet_events(tweet), tweet_id
    event_id = str(8_000_000_000_000_000_000 + n)
    event = x.dm_event(
        event_id, text, sender=user_id, created_timestamp=str(int(now.timestamp() * 1000))
    )
    return x.dm_events(event), event_id


def _telegram(n: int, customer: int, text: str, now: datetime) -> tuple[dict, str]:
    chat_id = 700_000_000 + customer
    person = {"id": chat_id, "first_name": f"Rider {customer}", "username": f"rider{customer}"}
    update = telegram.update(
        n,
        message=telegram.message(
            n,
            text,
            chat={**person, "type": "private"},
            sender={**person, "is_bot": False, "language_code": "de"},
            date=int(now.timestamp()),
        ),
    )
    return update, f"{chat_id}:{n}"


def _hex_signature(header: str):
    def sign(secret: str, body: bytes) -> dict:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {header: f"sha256={digest}"}

    return sign


BUILDERS = {"generic": _generic, "meta": _meta, "x": _x, "telegram": _telegram}
SIGNERS = {
    "generic": _hex_signature("X-Caremgr-Signature"),
    "meta": _hex_signature("X-Hub-Signature-256"),
    "x": lambda secret, body: {"x-twitter-webhooks-signature": x.sign(secret, body)},
    "telegram": lambda secret, body: {"X-Telegram-Bot-Api-Secret-Token": secret},
}


class Traffic:
    """The stream of deliveries: accounts in turn, customers drawn from a pool small enough
    that most write more than once (their messages join, update and reopen cases)."""

    def __init__(self, accounts: dict, customers: int, seed: int = 7) -> None:
        self.accounts = list(accounts.items())  # slug -> (platform, secret)
        self.customers = customers
        self.texts = customer_texts()
        self.rng = random.Random(seed)

    def delivery(self, n: int) -> Delivery:
        slug, (platform, secret) = self.accounts[n % len(self.accounts)]
        customer = self.rng.randrange(self.customers)
        return build(platform, slug, secret, n, customer, self.rng.choice(self.texts))
