"""What the real data says: thread lengths, who writes next, how long each side waits, when
customers write, and the texts themselves. Read once at start from `../shared/data/`.

- twcs (Customer Support on Twitter): threads are the connected reply chains of
  `twcs_head5000.csv` (almost whole there); thread length, the inbound/outbound turn-taking
  (a Markov chain of "who writes next"), the brand's delay before answering a customer and
  the customer's delay before writing again come from them. Hours of the day come from
  both twcs files. Inbound English texts: customers' tweets of both twcs files and the
  airline tweets; outbound English texts: the brands' tweets of both twcs files and the agents'
  answers of the IBM customer-care set.
- GermEval 2017: the German customer texts (Twitter and Facebook sources, up to 280
  characters). The shared data holds no German answers of a brand, so German outbound
  texts are the few plain care phrasings in GERMAN_REPLIES.
"""

import csv
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TWCS_TIME = "%a %b %d %H:%M:%S %z %Y"
MAX_TEXT = 280
MENTION = re.compile(r"@\w+")
GERMAN_REPLIES = (
    "Das tut uns leid. Schreib uns bitte eine Direktnachricht mit deiner Auftragsnummer, dann "
    "schauen wir uns das an.",
    "Danke für deine Geduld. Wir haben das an die Kollegen weitergegeben und melden uns.",
    "Hallo, wir kümmern uns darum. Kannst du uns sagen, wann das passiert ist?",
    "Gern geschehen! Gute Fahrt und einen schönen Tag.",
    "Entschuldige die Verspätung. Die Erstattung beantragst du am einfachsten online.",
    "Wir verstehen deinen Ärger. Bitte sende uns deine Kundennummer per DM.",
)


@dataclass
class Shape:
    """Distributions and texts drawn from the real files (all plain lists, for `random`)."""

    thread_lengths: list[int] = field(default_factory=list)
    # P(the next message is inbound | the previous one was inbound / outbound)
    inbound_after_inbound: float = 0.0
    inbound_after_outbound: float = 0.0
    brand_delays: list[float] = field(default_factory=list)  # seconds, inbound → reply
    customer_delays: list[float] = field(default_factory=list)  # seconds, reply → customer
    hour_weights: list[int] = field(default_factory=lambda: [0] * 24)
    inbound: dict[str, list[str]] = field(default_factory=dict)  # pool → texts
    outbound: dict[str, list[str]] = field(default_factory=dict)
    inbound_share: float = 0.0

    def summary(self) -> str:
        lengths = sorted(self.thread_lengths)
        brand = sorted(self.brand_delays)
        return (
            f"{len(lengths)} twcs threads (median length {lengths[len(lengths) // 2]}, mean "
            f"{sum(lengths) / len(lengths):.2f}, max {lengths[-1]}); inbound share "
            f"{self.inbound_share:.1%}; P(in|in) {self.inbound_after_inbound:.2f}, "
            f"P(in|out) {self.inbound_after_outbound:.2f}; brand delay median "
            f"{brand[len(brand) // 2] / 60:.1f} min, p90 {brand[int(len(brand) * 0.9)] / 3600:.1f} "
            f"h ({len(brand)} replies); texts: "
            + ", ".join(f"{k} in {len(v)}" for k, v in self.inbound.items())
            + ", "
            + ", ".join(f"{k} out {len(v)}" for k, v in self.outbound.items())
        )


def clean(text: str) -> str:
    """A text as a customer-care message: mentions and whitespace normalised, bounded."""
    text = MENTION.sub("", text or "")
    return " ".join(text.split())[:MAX_TEXT]


def read_twcs(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def threads(rows: list[dict]) -> list[list[dict]]:
    """Connected reply chains, each in time order."""
    by_id = {row["tweet_id"]: row for row in rows}
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    for row in rows:
        answered = row["in_response_to_tweet_id"]
        if answered in by_id:
            a, b = root(row["tweet_id"]), root(answered)
            if a != b:
                parent[a] = b
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(root(row["tweet_id"]), []).append(row)
    for group in groups.values():
        for row in group:
            row["at"] = datetime.strptime(row["created_at"], TWCS_TIME)
        group.sort(key=lambda row: row["at"])
    return list(groups.values())


def learn_twcs(shape: Shape, rows: list[dict]) -> None:
    """Thread lengths, turn-taking and both sides' delays from whole threads."""
    by_id = {row["tweet_id"]: row for row in rows}
    after = Counter()
    for thread in threads(rows):
        shape.thread_lengths.append(len(thread))
        for previous, current in itertools.pairwise(thread):
            after[(previous["inbound"], current["inbound"])] += 1
    yes, no = "True", "False"
    shape.inbound_after_inbound = after[(yes, yes)] / (after[(yes, yes)] + after[(yes, no)])
    shape.inbound_after_outbound = after[(no, yes)] / (after[(no, yes)] + after[(no, no)])
    shape.inbound_share = sum(row["inbound"] == yes for row in rows) / len(rows)
    for row in rows:
        answered = by_id.get(row["in_response_to_tweet_id"])
        if answered is None or answered["inbound"] == row["inbound"]:
            continue
        delay = (row["at"] - answered["at"]).total_seconds()
        if delay > 0:
            (shape.customer_delays if row["inbound"] == yes else shape.brand_delays).append(delay)


def read_germeval(folder: Path) -> list[str]:
    texts = []
    for name in ("dev_v1.4.tsv", "test_dia.tsv"):
        path = folder / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                source, text = [*line.split("\t"), "", ""][:2]
                if ("twitter" in source or "facebook" in source) and len(text) <= MAX_TEXT:
                    texts.append(clean(text))
    return [text for text in texts if text]


def read_airline(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [clean(row["text"]) for row in csv.DictReader(handle)]


def read_ibm_answers(path: Path) -> list[str]:
    answers = []
    for conversation in json.loads(path.read_text(encoding="utf-8")):
        utterance = (conversation.get("agentURL") or {}).get("url_utterance")
        if utterance:
            answers.append(clean(utterance))
    return answers


def learn(data: Path = DATA) -> Shape:
    """Everything the generator draws from, from the files under `data`."""
    twcs = data / "twcs"
    head = read_twcs(twcs / "twcs_head5000.csv")
    sample = read_twcs(twcs / "twcs_random5000.csv")
    shape = Shape()
    learn_twcs(shape, head)
    for row in head + sample:
        if row["inbound"] == "True":
            stamp = row.get("at") or datetime.strptime(row["created_at"], TWCS_TIME)
            shape.hour_weights[stamp.hour] += 1
    customers = [clean(r["text"]) for r in head + sample if r["inbound"] == "True"]
    brands = [clean(r["text"]) for r in head + sample if r["inbound"] == "False"]
    customers += read_airline(data / "airline-sentiment" / "Tweets.csv")
    brands += read_ibm_answers(data / "ibm-twitter-care" / "dev.json")
    shape.inbound = {
        "en": sorted({t for t in customers if len(t) > 3}),
        "de": sorted(set(read_germeval(data / "germeval2017"))),
    }
    shape.outbound = {"en": sorted({t for t in brands if len(t) > 3}), "de": list(GERMAN_REPLIES)}
    return shape
