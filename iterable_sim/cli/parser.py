"""The `iterable-sim` command line's face: its commands, their arguments, the parser, and `main`, which runs
one command and turns its failures into one line and an exit code (EXIT_CODES). The commands themselves
(`iterable_sim.cli.commands`) are imported once the arguments are parsed, so that `--help`, `--version` and a
mistyped option answer at once."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence, TextIO

from iterable_sim.cli.arguments import (SETTINGS_HELP, CliError, add_gateway_options, add_release_option,
                                       add_settings_options)
from iterable_sim.cli.cassettes import configure_cassettes, configure_record
from iterable_sim.cli.exits import EXIT_INTERRUPTED, EXIT_PIPE_CLOSED
from iterable_sim.extras import MissingExtra
from iterable_sim.limits import CHUNK_EVENTS
from iterable_sim.mapping.releases import KNOWN_RELEASES, NEWEST, known_list
from iterable_sim.mapping.settings import SettingsError
from iterable_sim.version import PACKAGE_VERSION, RUDDERSTACK_VERSION

Command = Callable[[argparse.Namespace, TextIO], int]

EXIT_CODES = """exit codes:
  0    every event was mapped (map) / delivered (send)
  1    map: RudderStack would not send some event, it is too large for Iterable, or a line is malformed;
       send: some event was not delivered (rejected by Iterable, failed, or the send interrupted)
  2    bad command line or input (an empty input too, an --out that is not a writable directory): nothing was
       mapped or sent
       crosscheck: 0 every event identical, 1 differences, 2 also a transformer unreachable or not answering as one
       upgrade: 0 the changes are told, 1 also a change no rule explains (a bug of iterable_sim's) or a malformed line
  130  interrupted (Ctrl-C) before the outcome was known: nothing was sent; a send interrupted once it began
       reports what was delivered and exits 1. Ctrl-C is how serve and explore stop: they exit 0
  141  the output was cut off (a closed pipe) before the outcome was known
A closed pipe (| head) ends the output, never the outcome: map and send still exit 1 when an event
was not mapped or not delivered."""
TABLE_ROWS = 50  # send --format table: the rows of each table shown unless --rows says otherwise
STOPPED_BY_CTRL_C = ("serve", "explore")  # they run until Ctrl-C: it is their normal end


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def _rows(text: str) -> int | None:
    """--rows: a whole number, or all (None: no limit)."""
    return None if text == "all" else _count(text)


EVENTS_HELP = ("JSON lines files (.gz allowed), directories of them, globs, s3:// or gs:// URLs (the storage extra), "
               "or - for stdin (default); a JSON file holding one event or a list is read whole; RudderStack's "
               "gateway archives, gw_jobs dumps and /v1/batch or replay bodies are told by their content")

# each command: its help, its function (in iterable_sim.cli.commands, or .cassettes for record and cassettes,
# .upgrade for upgrade),
# and what adds its arguments to its parser (whatever that returns is unused)
COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], object]]] = {
    "demo": ("map the sample events, send them to the embedded mock Iterable, show what happens (no key needed)", "cmd_demo", lambda p: None),
    "map": ("map events from JSON lines (.gz too: files, directories, globs, stdin) to Iterable requests",
            "cmd_map", lambda p: (
                p.add_argument("events", nargs="*", default=["-"], help=EVENTS_HELP),
                p.add_argument("--format", choices=("table", "jsonl"), default="table",
                               help="table (small inputs), or JSON lines streamed to stdout"),
                p.add_argument("--out", metavar="DIR", help="write requests and refused events as Parquet, and "
                                                            "summary.json, into DIR (streamed: any size)"),
                p.add_argument("--dask", metavar="local:N|ADDRESS",
                               help="with --out: map the files on a Dask cluster (N local workers, or a scheduler)"),
                p.add_argument("--no-progress", action="store_true", help="no progress bar"),
                add_settings_options(p), add_gateway_options(p))),
    "send": ("send events to the mock Iterable (default), a URL, or live Iterable, and report every event's fate",
             "cmd_send", lambda p: (
                 p.add_argument("events", nargs="*", default=["-"], help=EVENTS_HELP),
                 p.add_argument("--to", default="mock", metavar="mock|URL|live",
                                help="mock: a fresh in-process mock (default); a URL such as a running "
                                     "`iterable-sim serve`; live: Iterable itself (needs a key, and --yes or a "
                                     "typed yes)"),
                 p.add_argument("--yes", action="store_true", help="with --to live: do not ask for confirmation"),
                 p.add_argument("--stable-event-ids", action="store_true",
                                help="give events and purchases without an id one from their messageId, so a retry "
                                     "cannot duplicate them (RudderStack sends none)"),
                 p.add_argument("--failed-out", metavar="FILE",
                                help="write the events not delivered (failed or rejected) as JSONL, to re-send"),
                 p.add_argument("--format", choices=("table", "jsonl"), default="table",
                                help="table (default), or one JSON line per event's outcome"),
                 p.add_argument("--rows", type=_rows, default=TABLE_ROWS, metavar="N|all",
                                help=f"with --format table: the summary, then the first N rows of each table and "
                                     f"how many more there are (default {TABLE_ROWS}; all: every row). Sends of more "
                                     f"than {CHUNK_EVENTS:,} events print the summary only"),
                 p.add_argument("--no-progress", action="store_true", help="no progress bar"),
                 add_settings_options(p), add_gateway_options(p))),
    "serve": ("run the mock Iterable as an HTTP server on this machine", "cmd_serve", lambda p: (
        p.add_argument("--host", default="127.0.0.1"),
        p.add_argument("--port", type=int, default=8000),
        p.add_argument("--project-type", choices=("hybrid", "email", "userId"), default="hybrid"),
        p.add_argument("--api-key", action="append", metavar="KEY",
                       help="a key the mock accepts (repeatable; default: test-key)"),
        p.add_argument("--no-rate-limits", action="store_true", help="never answer 429"),
        p.add_argument("--journal-limit", type=_count, default=10_000, metavar="N",
                       help="keep the last N requests in the journal (default 10000; 0: keep all)"),
        p.add_argument("--event-limit", type=_count, default=100_000, metavar="N",
                       help="keep the newest N events and N purchases per project (default 100000; 0: keep all)"),
        p.add_argument("--log-level", default="info"))),
    "crosscheck": ("send events to your own rudder-transformer and compare its output with iterable_sim's "
                   "(exit 0: identical, 1: differences, 2: transformer unreachable or not answering as one)",
                   "cmd_crosscheck", lambda p: (
                       p.add_argument("events", help="JSON or JSONL file (.gz too; RudderStack's archives and request "
                                                    "bodies too), a storage URL, or - for stdin"),
                       p.add_argument("--transformer", required=True, metavar="URL",
                                      help="rudder-transformer's base URL, such as http://127.0.0.1:9090"),
                       p.add_argument("--router", type=int, metavar="N",
                                      help="compare routerTransform in calls of N events instead of single events"),
                       p.add_argument("--limit", type=int, default=50, metavar="ROWS",
                                      help="difference rows shown (default 50; 0 for all)"),
                       p.add_argument("--no-progress", action="store_true", help="no progress bar"),
                       add_settings_options(p))),
    "explore": ("open the settings explorer as a web page on your events (the samples by default): tick a "
                "setting, see what Iterable receives", "cmd_explore", lambda p: (
                    p.add_argument("events", nargs="?", help="JSON or JSONL file (default: the sample events)"),
                    p.add_argument("--port", type=int, default=8866),
                    p.add_argument("--no-browser", action="store_true", help="do not open a browser"),
                    p.add_argument("--settings", metavar="FILE",
                                   help=f"{SETTINGS_HELP}: where the controls start (default: Track All Pages on, "
                                        f"the rest off)"),
                    p.add_argument("--destination", metavar="ID_OR_NAME",
                                   help="with --settings: the Iterable destination, when the file has several"),
                    add_release_option(p))),
    "record": ("record a cassette of what your events send to Iterable (against a fresh mock server), or record "
               "cassettes again from the events files and settings they note", "cmd_record", configure_record),
    "cassettes": ("cassettes diff: what the current mapping would send, compared with what the cassettes recorded",
                  "cmd_cassettes", configure_cassettes),
    "upgrade": ("what moving rudder-transformer from one release to another changes for your events, per kind "
                "of change with the rule and commit behind it (exit 1: a change no rule explains)",
                "cmd_upgrade", lambda p: (
                    p.add_argument("events", nargs="*", default=["-"], help=EVENTS_HELP),
                    p.add_argument("--from", dest="from_release", required=True, metavar="RELEASE",
                                   help=f"the release you run now: {known_list()}"),
                    p.add_argument("--to", dest="to_release", required=True, metavar="RELEASE",
                                   help="the release you would move to (an older one works too)"),
                    p.add_argument("--router", type=_count, metavar="N",
                                   help="also route the events in router calls of N, as RudderStack's router "
                                        "does, and tell the events whose batches are put together differently"),
                    p.add_argument("--out", metavar="FILE", help="write one row per event and change as CSV"),
                    p.add_argument("--no-progress", action="store_true", help="no progress bar"),
                    add_settings_options(p, release_default=None), add_gateway_options(p))),
}


def version_text() -> str:
    """What `--version` prints: this package's version, the rudder-transformer commit it maps as by default, and
    every release `--rudderstack` can name."""
    releases = "\n".join(f"  {release.tag:<9} rudder-transformer {release.commit} ({release.date})"
                          f"{'  (the default)' if release is NEWEST else ''}" for release in KNOWN_RELEASES)
    return (f"iterable-sim {PACKAGE_VERSION}\nmatches RudderStack's Iterable destination: {RUDDERSTACK_VERSION.project} "
            f"commit {RUDDERSTACK_VERSION.commit} ({RUDDERSTACK_VERSION.date})\nmaps as any of these releases "
            f"(--rudderstack RELEASE):\n{releases}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iterable-sim", epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="See, test and simulate what RudderStack sends to Iterable.")
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, _, configure) in COMMANDS.items():
        configure(commands.add_parser(name, help=help_text, description=help_text,
                                      epilog=EXIT_CODES if name in ("map", "send") else None,
                                      formatter_class=argparse.RawDescriptionHelpFormatter))
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; the exit codes are EXIT_CODES."""
    args = build_parser().parse_args(argv)
    try:
        from iterable_sim.cli import cassettes, commands, upgrade  # after parsing: --help and --version need none

        handler = COMMANDS[args.command][1]
        command: Command = getattr(next((m for m in (cassettes, upgrade) if hasattr(m, handler)), commands), handler)
        return command(args, out or sys.stdout)
    except (CliError, SettingsError, MissingExtra) as err:
        print(f"iterable-sim {args.command}: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head and the like: the outcome still decides the exit code
        _discard_stdout()
        return getattr(args, "exit_code", EXIT_PIPE_CLOSED)
    except KeyboardInterrupt:  # one line, not the traceback (and asyncio's chained one, from serve)
        return interrupted(args)


def interrupted(args: argparse.Namespace) -> int:
    """Say in one line what a Ctrl-C that reached `main` stopped, and return the exit code. A send deals
    with an interrupt itself once it began (its report says what was delivered), so one that reaches here
    came before the send (reading, mapping, confirming: nothing sent) or after it (writing the report)."""
    if args.command in STOPPED_BY_CTRL_C:
        print(f"iterable-sim {args.command}: stopped", file=sys.stderr)
        return 0
    if getattr(args, "sent", False):
        print(f"iterable-sim {args.command}: interrupted while writing the report (the send was over)",
              file=sys.stderr)
        return int(args.exit_code)
    what = "nothing was sent" if args.command == "send" else "stopped before its outcome was known"
    print(f"iterable-sim {args.command}: interrupted (Ctrl-C): {what}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit cannot raise a second BrokenPipeError."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a file (a test's StringIO)
        pass


