"""JSON Lines in caremgr's generic format: one webhook item per line.

Each line is read exactly as the generic webhook reads an item (`parse_item`), so a file
exported from one caremgr, or written by any script, imports with the same rules.
"""

import json
from collections.abc import Iterator
from pathlib import Path

from inbox.connectors.base import ParsedMessage
from inbox.connectors.generic import parse_item
from inbox.importers.common import Tally, batched, parsed_records


def json_lines(path: Path, *, tally: Tally) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each line that is not blank."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")  # a byte order mark
            if line.strip():
                tally.rows += 1
                yield number, line


def parse_line(line: bytes) -> ParsedMessage:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte {exc.start})") from None
    try:
        item = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    return parse_item(item, "item")


def read(
    path: Path,
    *,
    batch_size: int = 1000,
    brand: str | None = None,
    skip_bad: bool = False,
    tally: Tally | None = None,
) -> Iterator[list[ParsedMessage]]:
    """Batches of messages from a JSON Lines file; a generic item names no brand."""
    if brand:
        raise ValueError("the jsonl format has no brands: import the file into one account")
    tally = tally if tally is not None else Tally()
    records = json_lines(path, tally=tally)
    yield from batched(
        parsed_records(records, parse_line, skip_bad=skip_bad, tally=tally), batch_size
    )
