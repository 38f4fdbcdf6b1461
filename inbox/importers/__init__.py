"""File importers by format name: each reads a file into batches of ParsedMessage.

Every reader has the same signature, `read(path, *, batch_size, brand, skip_bad, tally)`, and
streams the file; `import_messages` hands each batch to the intake.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from inbox.connectors.base import ParsedMessage
from inbox.importers import airline, jsonl, twcs
from inbox.importers.common import ImportFileError, Tally, count_lines

Reader = Callable[..., Iterator[list[ParsedMessage]]]


@dataclass(frozen=True)
class Format:
    read: Reader
    header_lines: int  # lines before the first record, left out of the progress total
    has_brands: bool  # whether `brand` can pick one brand's messages out of the file


FORMATS: dict[str, Format] = {
    "twcs": Format(read=twcs.read, header_lines=1, has_brands=True),
    "airline": Format(read=airline.read, header_lines=1, has_brands=True),
    "jsonl": Format(read=jsonl.read, header_lines=0, has_brands=False),
}


def estimate_records(path: Path, format_name: str) -> int:
    """Roughly how many records the file holds (a text may span lines): a progress total."""
    return max(count_lines(path) - FORMATS[format_name].header_lines, 0)


__all__ = ["FORMATS", "Format", "ImportFileError", "Tally", "estimate_records"]
