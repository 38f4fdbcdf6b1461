"""Twitter US Airline Sentiment (`Tweets.csv`): customers' tweets at six US airlines.

Every row is an inbound public post; `name` is the author's screen name, the only identity
the file has. There are no reply ids, so nothing is threaded beyond the customer.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from inbox.connectors.base import ParsedMessage, Person, clean_text
from inbox.importers.common import Tally, batched, csv_rows, parsed_records

COLUMNS = ("tweet_id", "airline", "name", "text", "tweet_created")


def parse_time(value: str) -> datetime:
    """ "2015-02-24 11:35:52 -0800" → aware UTC."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)
    except ValueError:
        raise ValueError(
            f"tweet_created {value!r} is not like '2015-02-24 11:35:52 -0800'"
        ) from None


def brand_key(value: str) -> str:
    """ "US Airways", "usairways" and "US airways" name the same airline."""
    return "".join(value.split()).casefold()


def parse_row(row: dict[str, str]) -> ParsedMessage:
    external_id = row["tweet_id"].strip()
    if not external_id:
        raise ValueError("tweet_id is empty")
    name = row["name"].strip()
    if not name:
        raise ValueError("name is empty")
    author = Person(external_id=name[:128], handle=name[:200])
    return ParsedMessage(
        external_id=external_id[:191],
        channel="x",
        direction="in",
        kind="post",
        is_public=True,
        text=clean_text(row["text"]),
        author=author,
        customer=author,
        created_at=parse_time(row["tweet_created"]),
        raw=row,
    )


def read(
    path: Path,
    *,
    batch_size: int = 1000,
    brand: str | None = None,
    skip_bad: bool = False,
    tally: Tally | None = None,
) -> Iterator[list[ParsedMessage]]:
    """Batches of messages from the airline CSV; `brand` keeps one airline ("United")."""
    tally = tally if tally is not None else Tally()
    wanted = brand_key(brand) if brand else None

    def parse(row: dict[str, str]) -> ParsedMessage | None:
        if wanted and brand_key(row["airline"]) != wanted:
            return None
        return parse_row(row)

    records = csv_rows(path, COLUMNS, skip_bad=skip_bad, tally=tally)
    yield from batched(parsed_records(records, parse, skip_bad=skip_bad, tally=tally), batch_size)
