"""`iterable-sim upgrade`: what moving rudder-transformer from one release to another changes for your events
(`iterable_sim.checks.upgrade.upgrade_diff`), grouped by kind with the rule and commit behind each change."""
from __future__ import annotations

import argparse
import contextlib
import csv
import sys
from typing import Any, Iterable, Iterator, TextIO

from iterable_sim.archive.reader import Event, MalformedLine
from iterable_sim.checks.upgrade import COLUMNS, Change, upgrade_diff
from iterable_sim.cli.arguments import CliError, gateway_from_args, settings_from_args
from iterable_sim.cli.commands import archive_records, nothing_readable, output_file, print_malformed, print_warnings
from iterable_sim.mapping.releases import UnknownReleaseError, resolve_release


def cmd_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    """Exit 0 when the diff is made, 1 when some change has no rule to explain it (a bug of iterable_sim's)
    or a line is malformed, 2 for bad input (CliError, raised before anything is read)."""
    settings = settings_from_args(args)
    for option, name in (("--from", args.from_release), ("--to", args.to_release)):
        try:
            resolve_release(name)
        except UnknownReleaseError as err:
            raise CliError(f"{option}: {err}") from None
    if args.router is not None and args.router < 1:
        raise CliError(f"--router: a router call needs at least 1 event, not {args.router}")
    if args.out:
        output_file(args.out, "--out")
    records = archive_records(args.events)
    print_warnings(settings, sys.stderr)
    malformed: list[MalformedLine] = []
    with open(args.out, "w", newline="", encoding="utf-8") if args.out else contextlib.nullcontext() as rows:
        writer = csv.DictWriter(rows, fieldnames=COLUMNS) if rows is not None else None
        if writer is not None:
            writer.writeheader()
        diff = upgrade_diff(_events(records, malformed), settings, from_=args.from_release, to=args.to_release,
                            router=args.router, progress=not args.no_progress, keep_rows=False,
                            on_change=None if writer is None else lambda change: _write(writer, change),
                            **gateway_from_args(args))
    nothing_readable(diff.events, malformed)
    print_malformed(malformed, sys.stderr)
    args.exit_code = 1 if diff.unexplained or malformed else 0
    print(diff.summary(), file=out)
    if args.out:
        print(f"\none row per event and change written to {args.out} (CSV)", file=out)
    return args.exit_code


def _events(records: Iterable[Any], malformed: list[MalformedLine]) -> Iterator[Event]:
    """The events of `records` as they are read; malformed lines go to `malformed`."""
    for record in records:
        if isinstance(record, Event):
            yield record
        else:
            malformed.append(record)


def _write(writer: csv.DictWriter[str], change: Change) -> None:
    writer.writerow(change.row())
