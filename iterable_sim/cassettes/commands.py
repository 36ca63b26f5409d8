"""The `iterable-sim record` and `iterable-sim cassettes diff` commands (registered in cli.py)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from ..cli_input import CliError, add_settings_options, config_from_args, read_events
from .drift import drift_frame, drift_report
from .manifest import load_manifest
from .record import record_cassette, record_seed_cassettes


def cmd_record(args: argparse.Namespace, out: TextIO) -> int:
    if args.name is None:
        if args.events or args.settings or args.to:
            raise CliError("--events, --settings and --to record one cassette: give it a --name")
        paths = record_seed_cassettes(args.dir)
    else:
        events = read_events(args.events) if args.events else None
        config = config_from_args(args, base={"trackAllPages": True})
        paths = [record_cassette(args.dir, args.name, config, events, to=args.to,
                                 stable_event_ids=args.stable_event_ids, project_type=args.project_type)]
    for path in paths:
        print(f"recorded {path}", file=out)
    print(f"manifest: {Path(args.dir) / 'manifest.json'}", file=out)
    return 0


def cmd_cassettes(args: argparse.Namespace, out: TextIO) -> int:
    try:
        compared = len(args.cassette or load_manifest(args.dir))
        frame = drift_frame(args.dir, settings=config_from_args(args), cassettes=args.cassette or None)
    except (ValueError, KeyError) as err:
        raise CliError(str(err).strip("'\"")) from None
    print(drift_report(frame, compared), file=out)
    return 1 if len(frame) else 0


def configure_record(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default="cassettes", help="where cassettes and manifest.json go (default: cassettes)")
    parser.add_argument("--name", help="record one cassette of your own (default: the seed-page set over the "
                                       "sample events)")
    parser.add_argument("--events", metavar="FILE", help="JSON or JSONL events (default: the sample events)")
    parser.add_argument("--to", metavar="URL", help="record against this server, or 'live' for Iterable itself "
                                                    "(default: a fresh mock Iterable on a free local port)")
    parser.add_argument("--stable-event-ids", action="store_true", help="see send(stable_event_ids=True)")
    parser.add_argument("--project-type", choices=("hybrid", "email", "userId"), default="hybrid")
    add_settings_options(parser)


def configure_cassettes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("diff",), help="diff: what the current mapping would send, compared "
                                                          "with what the cassettes recorded (exit status 1 on drift)")
    parser.add_argument("--dir", default="cassettes", help="the cassettes and their manifest.json (default: cassettes)")
    parser.add_argument("--cassette", action="append", metavar="NAME", help="compare only this one (repeatable)")
    add_settings_options(parser)
