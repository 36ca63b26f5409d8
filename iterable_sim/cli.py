"""The `iterable-sim` command line: demo, map, send, serve, record, cassettes."""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TextIO

import orjson
import pandas as pd

from .cassettes.commands import cmd_cassettes, cmd_record, configure_cassettes, configure_record
from .archive import ArchiveError, MalformedLine, archive_files, events_only, read_archive
from .archive_map import CHUNK_EVENTS, iter_mapped_lines, map_archive
from .archive_send import send_stream
from .frames import REQUEST_COLUMNS
from .mapping import map_events
from .redact import mask
from .samples import sample_descriptions, sample_events
from .send import LIVE, SendReport, send
from .settings import FLAGS, RUDDER_KEYS, Settings

Command = Callable[[argparse.Namespace, TextIO], int]
MOCK_API_KEY, MOCK_DEVICE_KEY = "demo-api-key", "demo-device-key"


class CliError(Exception):
    """A problem with what was given on the command line, said in one line."""


# ---------------------------------------------------------------- input


def read_events(source: str) -> list[Any]:
    """Events from a JSON file (one event or a list), a JSONL file, or '-' for standard input."""
    if source == "-":
        text, name = sys.stdin.read(), "standard input"
    else:
        path = Path(source)
        if not path.exists():
            raise CliError(f"no such events file: {source}")
        text, name = path.read_text("utf-8"), source
    stripped = text.strip()
    if not stripped:
        raise CliError(f"{name} holds no events")
    try:
        data = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        events = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if not line.strip():
                continue
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError as err:
                raise CliError(f"{name}, line {number}: not JSON ({err})") from None
        return events
    return data if isinstance(data, list) else [data]


def config_from_args(args: argparse.Namespace, *, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A RudderStack Config: `base`, then --settings FILE over it, then any settings flag given."""
    config = dict(base or {})
    if args.settings:
        try:
            loaded = json.loads(Path(args.settings).read_text("utf-8"))
        except FileNotFoundError:
            raise CliError(f"no such settings file: {args.settings}") from None
        except json.JSONDecodeError as err:
            raise CliError(f"{args.settings}: not JSON ({err})") from None
        if not isinstance(loaded, dict):
            raise CliError(f"{args.settings}: a RudderStack destination Config is a JSON object")
        config.update(loaded.get("Config", loaded))
    for name, key in RUDDER_KEYS.items():
        value = getattr(args, name, None)
        if value is not None:
            config[key] = value
    return config


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from --settings and the flags; without a settings file, Track All Pages on."""
    return Settings.from_rudder(config_from_args(args, base=None if args.settings else {"trackAllPages": True}))


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (flags override --settings)")
    group.add_argument("--settings", metavar="FILE", help="a RudderStack destination Config as JSON")
    group.add_argument("--api-key", dest="api_key")
    group.add_argument("--data-center", dest="data_center", metavar="USDC|EUDC")
    group.add_argument("--device-key", dest="register_device_or_browser_api_key", metavar="KEY",
                       help="registerDeviceOrBrowserApiKey")
    for name in FLAGS:
        group.add_argument(f"--{name.replace('_', '-')}", dest=name, action=argparse.BooleanOptionalAction,
                           default=None)


# ---------------------------------------------------------------- output


def print_frame(frame: pd.DataFrame, out: TextIO, *, max_colwidth: int = 40) -> None:
    if frame.empty:
        print("  (none)", file=out)
        return
    shown = frame.astype(object).where(frame.notna(), "")
    with pd.option_context("display.max_columns", None, "display.width", 200,
                           "display.max_colwidth", max_colwidth):
        print(shown.to_string(index=False), file=out)


def print_report(report: SendReport, out: TextIO, *, profiles: bool = False) -> None:
    """What became of each event, what Iterable answered to each call, and (from a mock) the profiles."""
    print(f"{report!r}\n", file=out)
    print("What became of each event:", file=out)
    print_frame(report.frame().drop(columns=["endpoints"]), out, max_colwidth=70)
    print("\nWhat Iterable answered to each request:", file=out)
    print_frame(report.requests_frame().drop(columns=["waited"]), out, max_colwidth=70)
    if profiles and report.mock is not None:
        print("\nProfiles in the mock Iterable afterwards:", file=out)
        users = report.mock.users_frame()
        print_frame(users[["data_center", "email", "userId", "dataFields", "devices", "browserTokens", "cartItems"]],
                    out, max_colwidth=70)
        print(f"\n{len(report.mock.events_frame())} events, {len(report.mock.purchases_frame())} purchases and "
              f"{len(report.mock.devices_frame())} devices stored.", file=out)


def print_warnings(settings: Settings, out: TextIO) -> None:
    for warning in settings.warnings:
        print(f"warning: {warning}", file=out)


# ---------------------------------------------------------------- commands


def cmd_map(args: argparse.Namespace, out: TextIO) -> int:
    settings = settings_from_args(args)
    if args.out is not None:
        return map_to_directory(args, settings, out)
    if args.dask is not None:
        raise CliError("--dask writes Parquet: give --out DIR")
    records = archive_records(args.events)
    if args.format == "jsonl":
        print_warnings(settings, sys.stderr)
        malformed = 0
        for line in iter_mapped_lines(records, settings):  # streamed: any input size
            if line.get("stage") == "input":
                malformed += 1
                print(f"warning: {line['source']}, line {line['line']}: {line['error']}", file=sys.stderr)
            out.write(orjson.dumps(line).decode() + "\n")
        return 1 if malformed else 0
    bad: list[MalformedLine] = []
    results = map_events(events_only(records, bad), settings)
    print_warnings(settings, sys.stderr)
    print_malformed(bad, sys.stderr)
    print("Requests:", file=out)
    print_frame(results.requests_frame(), out)
    print("\nEvents RudderStack would not send:", file=out)
    print_frame(results.errors_frame(), out, max_colwidth=60)
    return 1 if bad else 0


def map_to_directory(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """`map --out DIR`: Parquet parts and summary.json, streamed (or on a Dask cluster with --dask)."""
    print_warnings(settings, sys.stderr)
    files = archive_records(args.events, files_only=True)
    if args.dask is not None:
        from .dask_archive import map_archive_dask

        try:
            summary = map_archive_dask(files, settings, args.out, cluster=args.dask, progress=not args.no_progress)
        except ValueError as err:  # standard input, or a --dask that is neither local:N nor an address
            raise CliError(str(err)) from None
    else:
        summary = map_archive(files, settings, args.out, progress=not args.no_progress)
    endpoints = ", ".join(f"{name} {count:,}" for name, count in summary["requests_per_endpoint"].items())
    print(f"{summary['events']:,} events from {summary['files']:,} file(s): {summary['requests']:,} requests "
          f"({endpoints or 'none'}); {summary['refused']:,} refused, {summary['malformed_lines']:,} malformed "
          f"lines. Written to {args.out}/requests, {args.out}/refused (Parquet) and {args.out}/summary.json",
          file=out)
    return 1 if summary["malformed_lines"] else 0


def archive_records(sources: list[str], *, files_only: bool = False) -> Any:
    """The archive's records (or, with files_only, its files), a CliError when an input cannot be read."""
    try:
        files = archive_files(sources or ["-"])
    except ArchiveError as err:
        raise CliError(str(err)) from None
    return files if files_only else read_archive(files)


def print_malformed(bad: list[MalformedLine], err: TextIO, *, shown: int = 10) -> None:
    for line in bad[:shown]:
        print(f"warning: {line}", file=err)
    if len(bad) > shown:
        print(f"warning: … and {len(bad) - shown:,} more malformed lines", file=err)


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    settings = Settings(api_key=MOCK_API_KEY, register_device_or_browser_api_key=MOCK_DEVICE_KEY)
    events = sample_events()
    results = map_events(events, settings)
    print(f"iterable_sim demo: {len(events)} sample RudderStack events mapped as RudderStack's Iterable "
          f"destination maps them.\nSettings: {settings!r}\n", file=out)
    print("Sample events:", file=out)
    print_frame(pd.DataFrame({"event": range(len(events)), "what it shows": sample_descriptions()}), out,
                max_colwidth=100)
    print("\nRequests to Iterable (one row per request):", file=out)
    print_frame(results.requests_frame()[REQUEST_COLUMNS], out)
    print("\nEvents RudderStack would not send:", file=out)
    print_frame(results.errors_frame(), out, max_colwidth=60)
    print(f"\n{results!r}", file=out)
    print("\n" + "=" * 100 + "\nThe same events sent to the embedded mock Iterable (in-process, no key, nothing leaves "
          "this machine):\n", file=out)
    print_report(send(events, settings, progress=False), out, profiles=True)
    print("\ndelivered: Iterable accepted it. rejected: Iterable refused it, for the reason shown (one bad item in "
          "a bulk call is set aside and the rest sent again). failed: never accepted (RudderStack would not map it, "
          "or no answer after retries). A new Iterable project has no catalogs: catalog updates answer 404 until "
          "the catalog is created.", file=out)
    return 0


def cmd_send(args: argparse.Namespace, out: TextIO) -> int:
    if args.to == "live" and not args.api_key:
        args.api_key = os.environ.get("ITERABLE_API_KEY")  # only ever read for an explicit --to live
    if args.to == "mock":  # the fresh mock accepts whatever keys the settings hold: stand-ins when none given
        args.api_key = args.api_key or MOCK_API_KEY
        args.register_device_or_browser_api_key = args.register_device_or_browser_api_key or MOCK_DEVICE_KEY
    settings = settings_from_args(args)
    records = archive_records(args.events)
    head = list(itertools.islice(records, CHUNK_EVENTS + 1))  # enough to tell a small input from a stream
    print_warnings(settings, sys.stderr)
    to: str | None = None if args.to == "mock" else args.to
    if args.to == "live":
        if not settings.api_key:
            raise CliError("--to live needs your API key: --api-key, the Config's apiKey, or ITERABLE_API_KEY")
        count = f"{len(head)}" if len(head) <= CHUNK_EVENTS else f"more than {CHUNK_EVENTS:,}"
        confirm_live(count, settings, assume_yes=args.yes)
        to = LIVE
    if args.format == "table" and len(head) <= CHUNK_EVENTS:
        return send_small(args, head, settings, to, out)
    return send_streamed(args, itertools.chain(head, records), settings, to, out)


def send_small(args: argparse.Namespace, records: list[Any], settings: Settings, to: str | None, out: TextIO) -> int:
    """A send that fits in one chunk: every event's fate and every call shown as tables."""
    bad: list[MalformedLine] = []
    events = list(events_only(records, bad))
    print_malformed(bad, sys.stderr)
    try:
        report = send(events, settings, to=to, stable_event_ids=args.stable_event_ids, progress=not args.no_progress)
    except ValueError as err:  # a --to that is neither mock, live nor a URL
        raise CliError(str(err)) from None
    print_report(report, out, profiles=args.to == "mock")
    not_delivered = report.failed_events(include_rejected=True)
    if args.failed_out and not_delivered:
        Path(args.failed_out).write_text("".join(orjson.dumps(e).decode() + "\n" for e in not_delivered), "utf-8")
        print(f"{len(not_delivered)} events not delivered written to {args.failed_out}: fix them, or send that "
              f"file again", file=sys.stderr)
    return 1 if not_delivered or bad else 0


def send_streamed(args: argparse.Namespace, records: Iterable[Any], settings: Settings, to: str | None,
                  out: TextIO) -> int:
    """A send of any size, chunk by chunk: JSON lines of outcomes as they come, or a summary at the end."""
    def write_row(row: dict[str, Any]) -> None:
        out.write(orjson.dumps(row).decode() + "\n")

    with contextlib.ExitStack() as stack:
        failed = stack.enter_context(open(args.failed_out, "wb")) if args.failed_out else None
        try:
            report = send_stream(records, settings, to=to, keep_outcomes=False, failed_out=failed,
                                 on_outcome=write_row if args.format == "jsonl" else None,
                                 stable_event_ids=args.stable_event_ids, progress=not args.no_progress)
        except ValueError as err:  # a --to that is neither mock, live nor a URL
            raise CliError(str(err)) from None
    s = report.summary()
    if args.format == "table":
        endpoints = ", ".join(f"{name} {count:,}" for name, count in s["requests_per_endpoint"].items())
        print(f"{report!r}\nrequests per endpoint: {endpoints or 'none'}", file=out)
        if report.mock is not None:
            print(f"the mock Iterable holds {len(report.mock.users_frame()):,} profiles afterwards; simulated time "
                  f"at Iterable's rate limits: {report.duration:,.1f} s", file=out)
    not_delivered = s["failed"] + s["rejected"] + s["malformed_lines"]
    if args.failed_out and not_delivered:
        print(f"{s['failed'] + s['rejected']:,} events not delivered written to {args.failed_out}: fix them, or "
              f"send that file again", file=sys.stderr)
    return 1 if not_delivered else 0


def confirm_live(count: str, settings: Settings, *, assume_yes: bool) -> None:
    """Sending to the real Iterable is asked twice: by --to live, and by --yes or an answer at a terminal."""
    question = f"Send {count} events to live Iterable at {settings.base_url} with key {mask(settings.api_key)}?"
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"{question} Not confirmed: pass --yes to send without a prompt")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise CliError("not sent")


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    from .mock import MockIterable
    from .mock.server import run

    mock = MockIterable(project_type=args.project_type, rate_limits=not args.no_rate_limits)
    for key in args.api_key or ["test-key"]:
        mock.add_api_key(key)
    shown = ", ".join(mask(k) for k in args.api_key or ["test-key"])
    print(f"mock Iterable ({args.project_type} project) on http://{args.host}:{args.port}/api/ — "
          f"accepting API keys {shown}; Host api.eu.iterable.com reaches the EU project. Ctrl-C stops it.",
          file=out, flush=True)
    run(mock, args.host, args.port, log_level=args.log_level)
    return 0


EVENTS_HELP = ("JSON lines files (.gz allowed), directories of them, globs, or - for stdin (default); "
               "a JSON file holding one event or a list is read whole")

COMMANDS: dict[str, tuple[str, Command, Callable[[argparse.ArgumentParser], None]]] = {
    "demo": ("map the sample events, send them to the embedded mock Iterable, show what happens (no key needed)", cmd_demo, lambda p: None),
    "map": ("map events from JSON lines (.gz too: files, directories, globs, stdin) to Iterable requests",
            cmd_map, lambda p: (
                p.add_argument("events", nargs="*", default=["-"], help=EVENTS_HELP),
                p.add_argument("--format", choices=("table", "jsonl"), default="table",
                               help="table (small inputs), or JSON lines streamed to stdout"),
                p.add_argument("--out", metavar="DIR", help="write requests and refused events as Parquet, and "
                                                            "summary.json, into DIR (streamed: any size)"),
                p.add_argument("--dask", metavar="local:N|ADDRESS",
                               help="with --out: map the files on a Dask cluster (N local workers, or a scheduler)"),
                p.add_argument("--no-progress", action="store_true", help="no progress bar"),
                add_settings_options(p))),
    "send": ("send events to the mock Iterable (default), a URL, or live Iterable, and report every event's fate",
             cmd_send, lambda p: (
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
                 p.add_argument("--no-progress", action="store_true", help="no progress bar"),
                 add_settings_options(p))),
    "serve": ("run the mock Iterable as an HTTP server on this machine", cmd_serve, lambda p: (
        p.add_argument("--host", default="127.0.0.1"),
        p.add_argument("--port", type=int, default=8000),
        p.add_argument("--project-type", choices=("hybrid", "email", "userId"), default="hybrid"),
        p.add_argument("--api-key", action="append", metavar="KEY",
                       help="a key the mock accepts (repeatable; default: test-key)"),
        p.add_argument("--no-rate-limits", action="store_true", help="never answer 429"),
        p.add_argument("--log-level", default="info"))),
    "record": ("record cassettes of what is sent to Iterable (default: the sample events under each seed-page "
               "setting, against a fresh mock server, into cassettes/)", cmd_record, configure_record),
    "cassettes": ("cassettes diff: what the current mapping would send, compared with what the cassettes recorded",
                  cmd_cassettes, configure_cassettes),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iterable-sim",
                                     description="See, test and simulate what RudderStack sends to Iterable.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, _, configure) in COMMANDS.items():
        configure(commands.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][1](args, out or sys.stdout)
    except CliError as err:
        print(f"iterable-sim {args.command}: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
