"""Customer Support on Twitter (Kaggle `twcs.csv`): customers' tweets and brands' replies.

Columns: tweet_id, author_id, inbound, created_at ("Tue Oct 31 22:10:47 +0000 2017"), text,
response_tweet_id, in_response_to_tweet_id. A brand's reply names only the tweet it answers,
so the file is read twice: a first pass keeps who wrote each tweet and what it answers (ids
and interned author names only), the second turns rows into messages, finding each reply's
customer and each thread's first tweet by walking up that map.
"""

import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from inbox.connectors.base import ParsedMessage, Person, clean_text
from inbox.importers.common import Tally, batched, csv_rows, parsed_records

COLUMNS = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# Brand replies start with the customer they answer: "@115712 I understand. …"
LEADING_MENTION = re.compile(r"\s*@(\w{1,50})")
MAX_DEPTH = 10_000  # a reply chain longer than this is taken as broken (or a cycle)

Key = int | str


def tweet_key(value: str) -> Key:
    """A tweet id as a compact dict key; float text ("3.0", as pandas writes it) is accepted."""
    value = value.strip()
    if value.endswith(".0"):
        value = value[:-2]
    return int(value) if value.isdigit() else value


def parse_time(value: str) -> datetime:
    """Twitter's "Tue Oct 31 22:10:47 +0000 2017" → aware UTC, independent of the locale."""
    try:
        _, month, day, clock, offset, year = value.split()
        hour, minute, second = clock.split(":")
        if offset == "+0000":  # what Twitter writes: already UTC
            return datetime(
                int(year), MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
            )
        if offset[0] not in "+-" or len(offset) != 5:
            raise ValueError(offset)
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        zone = timezone(-shift if offset[0] == "-" else shift)
        moment = datetime(
            int(year), MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
    except (ValueError, KeyError, IndexError):
        raise ValueError(
            f"created_at {value!r} is not like 'Tue Oct 31 22:10:47 +0000 2017'"
        ) from None
    return moment.astimezone(UTC)


def parse_inbound(value: str) -> bool:
    flag = value.strip().lower()
    if flag not in ("true", "false"):
        raise ValueError(f"inbound {value!r} is neither True nor False")
    return flag == "true"


class Threads:
    """Who wrote each tweet of the file and which tweet it answers: the first pass."""

    def __init__(self) -> None:
        self.authors: dict[Key, str] = {}
        self.parents: dict[Key, Key] = {}
        self.brands: set[str] = set()

    @classmethod
    def scan(cls, path: Path) -> "Threads":
        threads = cls()
        # Rows that fail here are reported by the second pass, with their line number.
        for _, row in csv_rows(path, COLUMNS, skip_bad=True, tally=Tally()):
            try:
                tweet = tweet_key(row["tweet_id"])
                author = sys.intern(row["author_id"].strip())
                inbound = parse_inbound(row["inbound"])
            except ValueError:
                continue
            threads.authors[tweet] = author
            if not inbound:
                threads.brands.add(author)
            parent = row["in_response_to_tweet_id"].strip()
            if parent:
                threads.parents[tweet] = tweet_key(parent)
        return threads

    def root(self, tweet: Key) -> tuple[Key, bool]:
        """The farthest ancestor reachable, and whether it is the thread's first tweet.

        When the chain leaves the file, the last id reached (a tweet not in the file) comes
        back with False: it still groups the replies to it, but it is not a known root.
        """
        current = tweet
        for _ in range(MAX_DEPTH):
            parent = self.parents.get(current)
            if parent is None:
                return current, current in self.authors
            current = parent
        return current, False

    def customer_of(self, tweet: Key) -> str | None:
        """The author of the nearest customer tweet up the chain (brands may answer themselves)."""
        current = self.parents.get(tweet)
        for _ in range(MAX_DEPTH):
            if current is None:
                return None
            author = self.authors.get(current)
            if author is None:
                return None  # the chain leaves the file
            if author not in self.brands:
                return author
            current = self.parents.get(current)
        return None

    def brand_roots(self, brand: str) -> set[Key]:
        """Roots of the threads a brand wrote in."""
        wanted = brand.casefold()
        return {
            self.root(tweet)[0]
            for tweet, author in self.authors.items()
            if author.casefold() == wanted
        }


class Rows:
    """Turns one row into a message, with the first pass's map at hand."""

    def __init__(self, threads: Threads, brand: str | None) -> None:
        self.threads = threads
        self.brand = brand.casefold() if brand else None
        self.brand_roots = threads.brand_roots(brand) if brand else set()
        self.brand_mention = re.compile(rf"@{re.escape(brand)}\b", re.IGNORECASE) if brand else None

    def parse(self, row: dict[str, str]) -> ParsedMessage | None:
        if not row["tweet_id"].strip():
            raise ValueError("tweet_id is empty")
        tweet = tweet_key(row["tweet_id"])
        external_id = str(tweet)
        author_id = row["author_id"].strip()
        if not author_id:
            raise ValueError("author_id is empty")
        inbound = parse_inbound(row["inbound"])
        created_at = parse_time(row["created_at"])
        text = clean_text(row["text"])
        reply_to = row["in_response_to_tweet_id"].strip()
        in_reply_to = str(tweet_key(reply_to)) if reply_to else ""
        root, is_root_known = self.threads.root(tweet)
        if self.brand and not self._belongs_to_brand(author_id, root, text):
            return None

        author = Person(external_id=author_id[:128], handle=author_id[:200])
        if inbound:
            direction, customer = "in", author
        else:
            direction = "out"
            author = Person(external_id=author.external_id, handle=author.handle, name=author_id)
            customer_id = self.threads.customer_of(tweet) or self._addressee(text, author_id)
            # A broadcast post answers nobody: like the generic format, its customer is itself.
            customer = (
                Person(customer_id[:128], handle=customer_id[:200]) if customer_id else author
            )
        return ParsedMessage(
            external_id=external_id,
            channel="x",
            direction=direction,
            kind="comment" if in_reply_to else "post",
            is_public=True,
            text=text,
            author=author,
            customer=customer,
            created_at=created_at,
            in_reply_to=in_reply_to,
            conversation_id=str(root) if is_root_known else "",
            raw=row,
        )

    def _belongs_to_brand(self, author_id: str, root: Key, text: str) -> bool:
        return (
            author_id.casefold() == self.brand
            or root in self.brand_roots
            or bool(self.brand_mention and self.brand_mention.search(text))
        )

    @staticmethod
    def _addressee(text: str, author_id: str) -> str | None:
        match = LEADING_MENTION.match(text)
        if match and match.group(1).casefold() != author_id.casefold():
            return match.group(1)
        return None


def read(
    path: Path,
    *,
    batch_size: int = 1000,
    brand: str | None = None,
    skip_bad: bool = False,
    tally: Tally | None = None,
) -> Iterator[list[ParsedMessage]]:
    """Batches of messages from a twcs CSV; `brand` keeps only that brand's threads.

    A brand's threads are its own tweets, every tweet of a thread it wrote in, and tweets
    that @mention it.
    """
    tally = tally if tally is not None else Tally()
    rows = Rows(Threads.scan(path), brand)
    records = csv_rows(path, COLUMNS, skip_bad=skip_bad, tally=tally)
    yield from batched(
        parsed_records(records, rows.parse, skip_bad=skip_bad, tally=tally), batch_size
    )
