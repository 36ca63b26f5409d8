"""Reading event archives as a stream: JSON lines, gzipped or not, from files, directories, globs or stdin.

RudderStack's object-storage destinations write events as gzipped JSON lines; a day of a site is
millions of them. `read_archive` yields them one at a time, so memory does not grow with the
archive, and a line that is not a JSON object is reported as a `MalformedLine` (file, line number,
reason) in its place while the rest goes on. A file that is one JSON document (an event, or a list
of events, possibly pretty-printed) is read whole, as small inputs are.

`read_events` is the strict reader for one file of events that fits in memory (the CLI's explore,
cassettes, the pytest plugin, the explore page): the same reading, all of it in a list that
remembers its file, and the first bad line an `ArchiveError`.
"""
from __future__ import annotations

import glob
import gzip
import io
import itertools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

import orjson

from iterable_sim.exceptions import IterableSimError

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_SUFFIXES = (".jsonl", ".json", ".ndjson", ".gz")


@dataclass(frozen=True, slots=True)
class Event:
    """An event read from an archive, and where it came from."""

    source: str
    line: int
    event: Any
    through_gateway: bool = False  # a gateway stored the event already (an archive's payload)


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """A line of an archive that is not a JSON object: where it is and why."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}, line {self.line}: {self.reason}"


Record = Union[Event, MalformedLine]


class ArchiveError(IterableSimError, ValueError):
    """An input that cannot be read at all (no such file, a glob matching nothing), or, for
    `read_events`, a line that is not an event."""


class EventsFile(list):  # type: ignore[type-arg]
    """Events read from a file, remembering the file (`source`, its absolute path; None for standard
    input), so a cassette can name it."""

    source: str | None

    def __init__(self, events: Iterable[Any], source: str | None) -> None:
        super().__init__(events)
        self.source = source


def read_events(source: str | os.PathLike[str]) -> EventsFile:
    """All the RudderStack events of one file ('-' for standard input): a JSON document (one event or
    a list of them) or JSON lines, gzipped or not (told by the first bytes). Strict: the first line
    that is not an event raises an `ArchiveError` naming the file and the line. An empty file holds
    no events."""
    name = str(source)
    if name != STDIN:
        path = Path(name)
        if path.is_dir():
            raise ArchiveError(f"{name} is a directory: give a JSON or JSONL events file")
        if not path.is_file():
            raise ArchiveError(f"no such events file: {name}")
    events = []
    try:
        for record in read_file(name):
            if isinstance(record, MalformedLine):
                raise ArchiveError(str(record))
            events.append(record.event)
    except OSError as err:  # opening it: a file one may not read
        raise ArchiveError(f"cannot read {name}: {err.strerror}") from None
    return EventsFile(events, None if name == STDIN else str(Path(name).resolve()))


def archive_files(sources: Iterable[str | Path] | str | Path) -> list[str]:
    """The files named by `sources` (one source or several), in order: files as given, '-' for stdin,
    a directory's archive files (sorted, recursively), a glob's matches (sorted)."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    files: list[str] = []
    for source in sources:
        text = str(source)
        path = Path(text)
        if text == STDIN or path.is_file():
            files.append(text)
        elif path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES))
            if not found:
                raise ArchiveError(f"{text} is a directory holding no .jsonl, .json, .ndjson or .gz files")
            files.extend(found)
        elif glob.has_magic(text):
            found = sorted(p for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not found:
                raise ArchiveError(f"{text}: no file matches")
            files.extend(found)
        else:
            raise ArchiveError(f"no such events file: {text}")
    return files


def read_archive(sources: Iterable[str | Path] | str | Path) -> Iterator[Record]:
    """Every event of every file named (see `archive_files`), each an `Event`, or a `MalformedLine`
    in place of a line that is not a JSON object. Blank lines are skipped."""
    for name in archive_files(sources):
        yield from read_file(name)


def read_file(name: str) -> Iterator[Record]:
    """The records of one file ('-' for stdin); gzip is recognised by its first bytes, not its name."""
    if name == STDIN:
        stdin = getattr(sys.stdin, "buffer", None)  # a text stream without one (a test's StringIO) is read whole
        raw = io.BufferedReader(stdin if stdin is not None else io.BytesIO(sys.stdin.read().encode()))
        yield from _unpacked(raw, "standard input")
        return
    with open(name, "rb") as raw:
        yield from _unpacked(raw, name)


def _unpacked(raw: io.BufferedReader, name: str) -> Iterator[Record]:
    stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == GZIP_MAGIC else raw
    try:
        yield from _records(stream, name)
    except (OSError, EOFError) as err:  # a truncated or corrupt .gz: what was read stands
        yield MalformedLine(name, 0, f"the file cannot be read further: {err}")


def events_only(records: Iterable[Record], malformed: list[MalformedLine] | None = None) -> Iterator[Any]:
    """The events of `records`; malformed lines are appended to `malformed` when given, else skipped."""
    for record in records:
        if isinstance(record, Event):
            yield record.event
        elif malformed is not None:
            malformed.append(record)


def _records(stream: io.BufferedIOBase, name: str) -> Iterator[Record]:
    lines = iter(stream)
    first = next(lines, b"")
    rest: Iterable[bytes] = lines
    try:
        first.decode()
    except UnicodeDecodeError:  # a binary file: one error for it, not one per "line"
        yield MalformedLine(name, 1, "is not UTF-8 text: events are JSON lines, gzipped or not")
        return
    if first.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{") and not _is_json(first):
        # one JSON document over several lines (an event, or a list of events), or a bad first line
        text = first + stream.read()
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            rest = iter(io.BytesIO(text))  # not one document: JSON lines after all, each bad line reported
            first = next(rest, b"")
        else:
            yield from _items(document if isinstance(document, list) else [document], name, 1)
            return
    loads = orjson.loads
    for number, line in enumerate(itertools.chain((first,), rest), 1):
        if not line.strip():
            continue
        try:
            event = loads(line)
        except orjson.JSONDecodeError as err:
            yield MalformedLine(name, number, f"not JSON ({str(err).replace('line 1 column', 'column')})")
            continue
        if isinstance(event, dict):
            yield Event(name, number, event)
        elif isinstance(event, list):  # a line holding a list of events, as a one-line JSON file may
            yield from _items(event, name, number)
        else:
            yield MalformedLine(name, number, f"not a JSON object but {type(event).__name__}: an event is an object")


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _items(items: list[Any], name: str, line: int) -> Iterator[Record]:
    for index, item in enumerate(items):
        if isinstance(item, dict):
            yield Event(name, line, item)
        else:
            yield MalformedLine(name, line, f"item {index} is not a JSON object but {type(item).__name__}")
