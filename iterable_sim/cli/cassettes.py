"""The `iterable-sim record` and `iterable-sim cassettes diff` commands (registered in cli.py).

The cassettes wing is imported by the commands themselves: vcrpy's import alone takes longer than every
other command needs to start."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from iterable_sim.cli.arguments import (CliError, add_settings_options, flag_overrides, release_from_args,
                                       settings_from_args)
from iterable_sim.mapping.releases import LATEST, resolve_release

DEFAULT_PLACES = ("tests", "cassettes")


def default_recording_config() -> dict[str, Any]:
    """`record --events` without --settings: Track All Pages, and keys for the fresh mock (as the pytest plugin's
    default iterable_config). With --settings, the file's Config alone, as every tool reads it."""
    from iterable_sim.cassettes.record import RECORDING_KEYS

    return {**RECORDING_KEYS, "trackAllPages": True}


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The Config keys `cassettes diff` and `record CASSETTE` change: --settings FILE's Config (read by
    read_settings, as every tool reads it) with the flags over it, else the flags alone."""
    if not args.settings:
        return flag_overrides(args)
    settings = settings_from_args(args)
    return dict(settings.rudder_config or {})


def _release(args: argparse.Namespace) -> str | None:
    """--rudderstack (None when not given), the warning of a release another stands in for on stderr: record and
    cassettes diff print no other settings warning."""
    name = release_from_args(args)
    warning = resolve_release(name)[1] if name is not None else None
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return name


def cmd_record(args: argparse.Namespace, out: TextIO) -> int:
    from iterable_sim.archive.reader import ArchiveError, read_events
    from iterable_sim.cassettes.record import RecordingError, record_cassette, record_seed_cassettes, rerecord
    from iterable_sim.cassettes.sources import SourceError

    rudderstack = _release(args)
    try:
        if args.samples:
            paths = record_seed_cassettes(args.dir or "cassettes", rudderstack=rudderstack or LATEST)
        elif args.events:
            target = Path(args.cassette[0]) if args.cassette else None
            if args.name:
                target = Path(args.dir or "cassettes") / f"{args.name}.yaml"
            if target is None or len(args.cassette or ()) > 1:
                raise CliError("--events records one cassette: name it (CASSETTE path, or --name [--dir])")
            settings = settings_from_args(args, default=default_recording_config())
            events = read_events(args.events)
            if not events:
                raise CliError(f"{args.events} holds no events (empty, or blank lines only): no cassette recorded")
            paths = [record_cassette(target.parent, target.stem, settings, events, to=args.to,
                                     stable_event_ids=args.stable_event_ids, project_type=args.project_type,
                                     personal_data=args.personal_data)]
        elif args.cassette:
            overrides = _overrides(args)
            paths = [rerecord(path, to=args.to, settings=overrides, personal_data=args.personal_data,
                              rudderstack=rudderstack) for path in args.cassette]
        else:
            raise CliError("give --events FILE and a CASSETTE to record, CASSETTE... to record again from the events "
                           "and settings they note, or --samples for iterable_sim's own sample cassettes")
    except (SourceError, ArchiveError, RecordingError) as err:  # a cassette, or the events it names, unreadable
        raise CliError(str(err)) from None
    for path in paths:
        print(f"recorded {path}", file=out)
    return 0


def cmd_cassettes(args: argparse.Namespace, out: TextIO) -> int:
    from iterable_sim.archive.reader import ArchiveError
    from iterable_sim.cassettes.drift import drift_frame, drift_report, iterable_cassettes
    from iterable_sim.cassettes.sources import SourceError

    rudderstack = _release(args)
    places = args.paths or [p for p in DEFAULT_PLACES if Path(p).is_dir()]
    if not places:
        raise CliError(f"no {' or '.join(DEFAULT_PLACES)} directory here: name the cassettes or their directory")
    try:
        compared = len(iterable_cassettes(places, args.cassette))
        if not compared:
            raise CliError(f"no cassette recorded by iterable_sim under {', '.join(places)}")
        frame = drift_frame(places, settings=_overrides(args), cassettes=args.cassette, rudderstack=rudderstack)
    except (SourceError, ArchiveError) as err:  # a cassette, or the events it names, unreadable
        raise CliError(str(err)) from None
    print(drift_report(frame, compared), file=out)
    return 1 if len(frame) else 0


def configure_record(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cassette", nargs="*", metavar="CASSETTE",
                        help="with --events: the cassette file to write; alone: cassettes to record again from the "
                             "events files and settings they note (events read from where they are now)")
    parser.add_argument("--events", metavar="FILE", help="your JSON or JSONL events (the cassette notes this file)")
    parser.add_argument("--name", help="with --events: the cassette is DIR/NAME.yaml (instead of a CASSETTE path)")
    parser.add_argument("--dir", help="with --name or --samples (default: cassettes)")
    parser.add_argument("--samples", action="store_true",
                        help="iterable_sim's own regression set: the sample events under each seed-page setting")
    parser.add_argument("--to", metavar="URL", help="record against this server, or 'live' for Iterable itself "
                                                    "(default: a fresh mock Iterable on a free local port)")
    parser.add_argument("--stable-event-ids", action="store_true", help="see send(stable_event_ids=True)")
    parser.add_argument("--project-type", choices=("hybrid", "email", "userId"), default="hybrid")
    parser.add_argument("--personal-data", action=argparse.BooleanOptionalAction, default=True,
                        help="pseudonymise emails, names, phone numbers and addresses in the cassette (default: on)")
    add_settings_options(parser, release_default="with --events or --samples, latest; CASSETTE... alone, the "
                                                  "release each was recorded under")


def configure_cassettes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("diff",), help="diff: what the current mapping would send, compared "
                                                          "with what the cassettes recorded (exit status 1 on drift)")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="cassette files or directories (default: tests and cassettes); pytest cassettes "
                             "included; cassettes iterable_sim did not record are skipped")
    parser.add_argument("--cassette", action="append", metavar="NAME",
                        help="compare only the cassette with this file name, without .yaml (repeatable)")
    add_settings_options(parser, release_default="the release each cassette was recorded under")
