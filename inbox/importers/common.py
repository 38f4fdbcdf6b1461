"""What the file importers share: line-numbered errors, a tally, batching and CSV reading.

Importers stream: a file of millions of rows is read row by row and handed on in batches,
so memory stays flat whatever the file's size.
"""

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from inbox.connectors.base import ParsedMessage

T = TypeVar("T")
R = TypeVar("R")


class ImportFileError(ValueError):
    """A line of the file cannot be imported; the message names the line and the reason."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class Tally:
    """Counts an importer keeps while it reads, for the summary at the end."""

    rows: int = 0  # records read (CSV rows or JSON lines), whatever became of them
    bad: int = 0  # records skipped because they could not be read (with skip_bad)
    filtered: int = 0  # records left out on purpose (another brand)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of up to `size` items, in order (itertools.batched needs Python 3.12)."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def count_lines(path: Path) -> int:
    """Physical lines in the file, counted in binary chunks: a quick total for a progress bar."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def csv_rows(
    path: Path, columns: Sequence[str], *, skip_bad: bool, tally: Tally
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number where the record starts, row) for each record of a CSV file with a header.

    The header must name every column in `columns`. A text field may span several lines, so
    the line number is taken before each record is read. A record the CSV reader cannot make
    sense of is an ImportFileError, or is counted and skipped with `skip_bad`.
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFileError(1, f"cannot read the header: {exc}") from None
        if header is None:
            return
        missing = [name for name in columns if name not in header]
        if missing:
            raise ImportFileError(1, f"the header lacks the column(s) {', '.join(missing)}")
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader, None)
            except UnicodeDecodeError:
                # The decoder cannot resume mid-stream, so this one is never skipped.
                raise ImportFileError(start, "the file is not valid UTF-8 near here") from None
            except csv.Error as exc:
                values, reason = [], f"not valid CSV: {exc}"
            else:
                if values is None:
                    return
                if not values:
                    continue  # a blank line
                reason = f"{len(values)} fields where the header has {len(header)}"
            tally.rows += 1
            if len(values) == len(header):
                yield start, dict(zip(header, values, strict=True))
            elif skip_bad:
                tally.bad += 1
            else:
                raise ImportFileError(start, reason)


def parsed_records(
    records: Iterable[tuple[int, R]],
    parse: Callable[[R], ParsedMessage | None],
    *,
    skip_bad: bool,
    tally: Tally,
) -> Iterator[ParsedMessage]:
    """Each record through `parse` (None = left out on purpose); a ValueError names its line."""
    for line, record in records:
        try:
            message = parse(record)
        except ValueError as exc:  # PayloadError is one too
            if not skip_bad:
                raise ImportFileError(line, str(exc)) from None
            tally.bad += 1
            continue
        if message is None:
            tally.filtered += 1
            continue
        yield message
