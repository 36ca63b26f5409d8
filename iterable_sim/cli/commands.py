"""The `iterable-sim` commands demo, map, send, serve, crosscheck and explore (record and cassettes: cassettes.py),
each `cmd_<name>(args, out) -> exit code`; their arguments and `main` are parser.py's."""
from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, TextIO

import orjson

from iterable_sim.extras import JUPYTER, install_command
from iterable_sim.lazy import LazyModule
from iterable_sim.archive.reader import ArchiveError, Event, MalformedLine, archive_files, events_only, read_archive, read_events
from iterable_sim.archive.mapping import OutputError, iter_mapped_lines, map_archive, map_records_in_memory
from iterable_sim.archive.sending import send_stream
from iterable_sim.cli.arguments import CliError, gateway_from_args, settings_from_args
from iterable_sim.mapping.jsvalues import truthy
from iterable_sim.limits import CHUNK_EVENTS, PAYLOAD_TOO_LARGE
from iterable_sim.mapping.request import size_problem
from iterable_sim.mapping import MappingResults, map_events
from iterable_sim.mapping.frames import REQUEST_COLUMNS
from iterable_sim.mapping.names import event_name
from iterable_sim.redact import mask
from iterable_sim.samples import sample_descriptions, sample_events
from iterable_sim.send import LIVE, SendReport, send
from iterable_sim.mapping.settings import PAGE_FLAGS, Settings, check_keys

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

MOCK_API_KEY, MOCK_DEVICE_KEY = "demo-api-key", "demo-device-key"


# ---------------------------------------------------------------- output


def print_frame(frame: pd.DataFrame, out: TextIO, *, max_colwidth: int = 40) -> None:
    if frame.empty:
        print("  (none)", file=out)
        return
    shown = frame.astype(object).where(frame.notna(), "")
    with pd.option_context("display.max_columns", None, "display.width", 200,
                           "display.max_colwidth", max_colwidth):
        print(shown.to_string(index=False), file=out)


def print_rows(frame: pd.DataFrame, out: TextIO, rows: int | None, *, max_colwidth: int) -> None:
    """`frame`, or (`rows` given) its first `rows` rows and a line saying how many more there are and how to
    see them: a large send's tables stay readable, its summary above them in sight."""
    shown = frame if rows is None else frame.head(rows)
    if len(shown) or not len(frame):  # --rows 0: the count line only, not "(none)"
        print_frame(shown, out, max_colwidth=max_colwidth)
    if rows is not None and len(frame) > rows:
        print(f"  … and {len(frame) - rows:,} more rows (--rows all shows every row; --format jsonl gives one "
              f"line per event)", file=out)


def print_report(report: SendReport, out: TextIO, *, profiles: bool = False, rows: int | None = None) -> None:
    """The summary, then what became of each event, what Iterable answered to each call, and (from a mock)
    the profiles, each table cut to its first `rows` rows when given."""
    print(f"{report!r}\n", file=out)
    print("What became of each event:", file=out)
    print_rows(report.frame().drop(columns=["endpoints"]), out, rows, max_colwidth=70)
    print("\nWhat Iterable answered to each request:", file=out)
    print_rows(report.requests_frame().drop(columns=["waited"]), out, rows, max_colwidth=70)
    if profiles and report.mock is not None:
        print("\nProfiles in the mock Iterable afterwards:", file=out)
        users = report.mock.users_frame()
        print_rows(users[["data_center", "email", "userId", "dataFields", "devices", "browserTokens", "cartItems"]],
                   out, rows, max_colwidth=70)
        print(f"\n{len(report.mock.events_frame())} events, {len(report.mock.purchases_frame())} purchases and "
              f"{len(report.mock.devices_frame())} devices stored.", file=out)


def print_warnings(settings: Settings, out: TextIO) -> None:
    for warning in settings.warnings:
        print(f"warning: {warning}", file=out)
    if not any(truthy(getattr(settings, name)) for name in PAGE_FLAGS):
        print("  (a page setting not given is off, as in RudderStack: pass --track-all-pages, --track-named-pages "
              "or --track-categorised-pages)", file=out)


# ---------------------------------------------------------------- commands


def cmd_map(args: argparse.Namespace, out: TextIO) -> int:
    settings = settings_from_args(args)
    if args.out is not None:
        return map_to_directory(args, settings, out)
    if args.dask is not None:
        raise CliError("--dask writes Parquet: give --out DIR")
    records = archive_records(args.events)
    if args.format == "jsonl":
        return map_streamed(args, records, settings, out)
    bad: list[MalformedLine] = []
    results = map_records_in_memory(records, settings, bad, **gateway_from_args(args))
    nothing_readable(len(results), bad)
    print_warnings(settings, sys.stderr)
    print_malformed(bad, sys.stderr)
    too_large = {result.index: problem for result in results for problem in map(size_problem, result.requests)
                 if problem}
    args.exit_code = 1 if results.errors or too_large or bad else 0  # known before any output: a closed pipe keeps it
    print("Requests (dataFields as compact JSON; --format jsonl gives every request whole):", file=out)
    print_frame(readable_requests(results), out)
    print("\nEvents that cannot be sent (RudderStack would not map them, or Iterable's size limits):", file=out)
    errors = results.errors_frame()
    if too_large:
        rows = [{"event": r.index, "type": r.event.get("type"), "name": event_name(r.event),
                 "status": PAYLOAD_TOO_LARGE, "error": too_large[r.index], "field": None}
                for r in results if r.index in too_large]
        errors = pd.concat([errors, pd.DataFrame(rows, columns=errors.columns)]).sort_values("event", kind="stable")
    print_frame(errors, out, max_colwidth=60)
    print_filtered(results, out)
    return args.exit_code


def print_filtered(results: MappingResults, out: TextIO) -> None:
    """The events rudder-server drops before the transformer, when there are any (not an error: exit 0)."""
    filtered = results.filtered_frame()
    if len(filtered):
        print("\nEvents rudder-server drops before Iterable's transformer (filtered: neither sent nor failed):",
              file=out)
        print_frame(filtered, out, max_colwidth=90)


def map_streamed(args: argparse.Namespace, records: Iterable[Any], settings: Settings, out: TextIO) -> int:
    """`map --format jsonl`: a line per request, per event that cannot be sent and per malformed line, as
    the events stream by (any input size); the exit code so far is kept should the pipe close."""
    print_warnings(settings, sys.stderr)
    args.exit_code = 0
    for line in iter_mapped_lines(records, settings, **gateway_from_args(args)):
        if "error" in line:
            args.exit_code = 1
            if line.get("stage") == "input":
                print(f"warning: {MalformedLine(line['source'], line['line'], line['error'])}", file=sys.stderr)
        out.write(orjson.dumps(line).decode() + "\n")
    return args.exit_code


def map_to_directory(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    """`map --out DIR`: Parquet parts and summary.json, streamed (or on a Dask cluster with --dask)."""
    print_warnings(settings, sys.stderr)
    files = archive_records(args.events, files_only=True)
    try:
        if args.dask is not None:
            from iterable_sim.archive.on_dask import map_archive_dask

            summary = map_archive_dask(files, settings, args.out, cluster=args.dask, progress=not args.no_progress,
                                       **gateway_from_args(args))
        else:
            summary = map_archive(files, settings, args.out, progress=not args.no_progress,
                                  **gateway_from_args(args))
    except OutputError as err:  # --out names a file, or a place that cannot be written
        raise CliError(f"--out {args.out} {err.problem}") from None
    except ValueError as err:  # --dask: standard input, or a --dask that is neither local:N nor an address
        raise CliError(str(err)) from None
    if not summary["events"] and not summary["malformed_lines"]:
        raise CliError(no_events(files))
    args.exit_code = 1 if summary["refused"] or summary["malformed_lines"] else 0
    endpoints = ", ".join(f"{name} {count:,}" for name, count in summary["requests_per_endpoint"].items())
    print(f"{summary['events']:,} events from {summary['files']:,} file(s): {summary['requests']:,} requests "
          f"({endpoints or 'none'}); {summary['refused']:,} refused, {summary['filtered']:,} filtered, "
          f"{summary['malformed_lines']:,} malformed line(s). Written to {args.out}/requests, {args.out}/refused (Parquet) and {args.out}/summary.json",
          file=out)
    return args.exit_code


def output_file(path: str, option: str) -> None:
    """Say in one line, before anything is sent, why `path` cannot be written: it is opened to append (what
    it holds is kept), and removed again if it was not there."""
    target = Path(path)
    existed = target.exists()
    try:
        with target.open("ab"):
            pass
    except OSError as err:
        raise CliError(f"{option} {path} cannot be written: {err.strerror}") from None
    if not existed:
        target.unlink()


def archive_records(sources: list[str], *, files_only: bool = False) -> Any:
    """The archive's records (or, with files_only, its files), a CliError when an input cannot be read or
    holds no record at all (the first is read to know: an empty input is bad input, not a success)."""
    try:
        files = archive_files(sources or ["-"])
    except ArchiveError as err:
        raise CliError(str(err)) from None
    if files_only:
        return files
    records = read_archive(files)
    first = next(records, None)
    if first is None:
        raise CliError(no_events(files))
    return itertools.chain((first,), records)


def no_events(files: list[str]) -> str:
    """The one line an input without a single event or malformed line gets."""
    named = "standard input" if files == ["-"] else ", ".join(files)
    return f"{named} holds no events (empty, or blank lines only): nothing to do"


def nothing_readable(events: int, bad: list[MalformedLine]) -> None:
    """Input with malformed lines and not one event is bad input: a one-line error, nothing done."""
    if not events and bad:
        more = f" (and {len(bad) - 1:,} more malformed line(s))" if len(bad) > 1 else ""
        raise CliError(f"{bad[0]}{more}: no event to map or send")


def print_malformed(bad: list[MalformedLine], err: TextIO, *, shown: int = 10) -> None:
    for line in bad[:shown]:
        print(f"warning: {line}", file=err)
    if len(bad) > shown:
        print(f"warning: … and {len(bad) - shown:,} more malformed line(s)", file=err)


def readable_requests(results: MappingResults, *, width: int = 40, data_width: int = 60) -> pd.DataFrame:
    """A table for a person: a fixed set of columns, dataFields as one compact-JSON column, each cell
    cut to `width` characters (`data_width` for dataFields) with an ellipsis."""
    shown = results.requests_frame().reindex(columns=REQUEST_COLUMNS)
    shown["dataFields"] = [orjson.dumps(request.json["dataFields"]).decode()
                           if isinstance(request.json, dict) and "dataFields" in request.json else None
                           for result in results for request in result.requests]
    for column in shown.columns:
        limit = data_width if column == "dataFields" else width
        shown[column] = shown[column].map(lambda v, limit=limit: v[:limit - 1] + "…"
                                          if isinstance(v, str) and len(v) > limit else v)
    return shown


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    args.exit_code = 0  # the demo's outcome does not depend on its output reaching anyone
    settings = Settings.from_rudder({"apiKey": MOCK_API_KEY, "registerDeviceOrBrowserApiKey": MOCK_DEVICE_KEY,
                                     "trackAllPages": True})
    events = sample_events()
    results = map_events(events, settings)
    print(f"iterable_sim demo: {len(events)} sample RudderStack events mapped as RudderStack's Iterable "
          f"destination maps them.\nSettings: {settings!r}\nTrack All Pages is turned on here. A RudderStack "
          f"Config without trackAllPages leaves it off, and so do `iterable-sim map` and `send` without "
          f"--track-all-pages: page and screen events are then refused.\n", file=out)
    print("Sample events:", file=out)
    print_frame(pd.DataFrame({"event": range(len(events)), "what it shows": sample_descriptions()}), out,
                max_colwidth=100)
    print("\nRequests to Iterable (one row per request):", file=out)
    print_frame(results.requests_frame()[REQUEST_COLUMNS], out)
    print("\nEvents RudderStack would not send:", file=out)
    print_frame(results.errors_frame(), out, max_colwidth=60)
    print_filtered(results, out)
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
    settings = settings_from_args(args)  # the fresh mock accepts the keys the settings hold, and no others
    if args.failed_out:
        output_file(args.failed_out, "--failed-out")
    records = archive_records(args.events)
    head = list(itertools.islice(records, CHUNK_EVENTS + 1))  # enough to tell a small input from a stream
    bad_head = [record for record in head if isinstance(record, MalformedLine)]
    nothing_readable(len(head) - len(bad_head), bad_head)
    print_warnings(settings, sys.stderr)
    if args.to == "mock" and not settings.api_key:
        print("warning: the Config has no apiKey: RudderStack sends no api_key header, and Iterable (as the mock) "
              "answers 401 Invalid API key; give --api-key (the mock accepts any key the Config holds)",
              file=sys.stderr)
    to: str | None = None if args.to == "mock" else args.to
    if args.to == "live":
        if not settings.api_key:
            raise CliError("--to live needs your API key: --api-key, the Config's apiKey, or ITERABLE_API_KEY")
        check_keys(settings)  # before asking: a key that cannot be sent is refused, not confirmed
        confirm_live(f"{len(head)}" if len(head) <= CHUNK_EVENTS else f"more than {CHUNK_EVENTS:,}", settings,
                     assume_yes=args.yes)
        to = LIVE
    if args.format == "table" and len(head) <= CHUNK_EVENTS:
        return send_small(args, head, settings, to, out)
    return send_streamed(args, itertools.chain(head, records), settings, to, out)


def send_small(args: argparse.Namespace, records: list[Any], settings: Settings, to: str | None, out: TextIO) -> int:
    """A send that fits in one chunk: every event's fate and every call shown as tables."""
    bad = [record for record in records if isinstance(record, MalformedLine)]
    kept = [record for record in records if isinstance(record, Event)]
    gateway = gateway_from_args(args)
    print_malformed(bad, sys.stderr)
    try:
        report = send([record.event for record in kept], settings, to=to, stable_event_ids=args.stable_event_ids,
                      progress=not args.no_progress, received_at=gateway["received_at"],
                      through_gateway=[record.through_gateway or gateway["through_gateway"] for record in kept])
    except ValueError as err:  # a --to that is neither mock, live nor a URL; a key no header can carry
        raise CliError(str(err)) from None
    # the outcome and the events to re-send are settled before any output, which a closed pipe may cut short
    not_delivered = report.failed_events(include_rejected=True)
    args.exit_code = 1 if not_delivered or bad else 0
    args.sent = True
    say_key_refused(report.key_note)
    if args.failed_out and not_delivered:
        Path(args.failed_out).write_text("".join(orjson.dumps(e).decode() + "\n" for e in not_delivered), "utf-8")
        print(f"{len(not_delivered)} events not delivered written to {args.failed_out}: fix them, or send that "
              f"file again", file=sys.stderr)
    print_report(report, out, profiles=args.to == "mock", rows=args.rows)
    return args.exit_code


def send_streamed(args: argparse.Namespace, records: Iterable[Any], settings: Settings, to: str | None,
                  out: TextIO) -> int:
    """A send of any size, chunk by chunk: JSON lines of outcomes as they come, or a summary at the end."""
    args.exit_code = 0

    def write_row(row: dict[str, Any]) -> None:
        if row["fate"] not in ("delivered", "filtered"):
            args.exit_code = 1
        out.write(orjson.dumps(row).decode() + "\n")

    with contextlib.ExitStack() as stack:
        failed = stack.enter_context(open(args.failed_out, "wb")) if args.failed_out else None
        try:
            report = send_stream(records, settings, to=to, keep_outcomes=False, failed_out=failed,
                                 **gateway_from_args(args),
                                 on_outcome=write_row if args.format == "jsonl" else None,
                                 stable_event_ids=args.stable_event_ids, progress=not args.no_progress)
        except ValueError as err:  # a --to that is neither mock, live nor a URL; a key no header can carry
            raise CliError(str(err)) from None
    s = report.summary()
    not_delivered = s["failed"] + s["rejected"]
    args.exit_code = 1 if not_delivered or s["malformed_lines"] or report.interrupted else 0
    args.sent = True
    say_key_refused(report.key_note)
    if args.failed_out and not_delivered:
        print(f"{not_delivered:,} events not delivered written to {args.failed_out}: fix them, or send that file "
              f"again", file=sys.stderr)
    if args.format == "table":
        endpoints = ", ".join(f"{name} {count:,}" for name, count in s["requests_per_endpoint"].items())
        print(f"{report!r}\nrequests per endpoint: {endpoints or 'none'}", file=out)
        if report.mock is not None:
            print(f"the mock Iterable holds {len(report.mock.users_frame()):,} profiles afterwards; simulated time "
                  f"at Iterable's rate limits: {report.duration:,.1f} s", file=out)
    return args.exit_code


def say_key_refused(note: str) -> None:
    """The one line a send whose every call was refused with 401 ends with on stderr, above its rows."""
    if note:
        print(f"iterable-sim send: {note}", file=sys.stderr)


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
    from iterable_sim.mock import MockIterable
    from iterable_sim.mock.server import run

    mock = MockIterable(project_type=args.project_type, rate_limits=not args.no_rate_limits,
                        journal_limit=args.journal_limit or None, event_limit=args.event_limit or None)
    for key in args.api_key or ["test-key"]:
        mock.add_api_key(key)
    shown = ", ".join(mask(k) for k in args.api_key or ["test-key"])
    banner = (f"mock Iterable ({args.project_type} project) on http://{args.host}:{args.port}/api/ — "
              f"accepting API keys {shown}; Host api.eu.iterable.com reaches the EU project; control routes under "
              f"/_mock/ (reset, keys, users, state, journal, snapshot, restore, snapshot/drop). Ctrl-C stops it.")
    run(mock, args.host, args.port, log_level=args.log_level, on_listening=lambda: print(banner, file=out, flush=True))
    # uvicorn from 0.29 raises the Ctrl-C again once it has stopped (main says "stopped"); older ones return
    print("iterable-sim serve: stopped", file=sys.stderr)
    return 0


def cmd_crosscheck(args: argparse.Namespace, out: TextIO) -> int:
    from iterable_sim.checks.crosscheck import TransformerError, crosscheck

    settings = settings_from_args(args)
    print_warnings(settings, sys.stderr)
    unreadable: list[MalformedLine] = []
    records = archive_records([args.events])
    try:
        report = crosscheck(events_only(records, unreadable), settings, args.transformer, router=args.router,
                            progress=not args.no_progress)
    except (TransformerError, ValueError) as err:  # ValueError: a --router below 1
        raise CliError(str(err)) from None
    print(report.summary(), file=out)
    if unreadable:
        others = len(unreadable) - 1
        more = f" (and {others} more unreadable line{'s' if others > 1 else ''})" if others else ""
        raise CliError(f"{unreadable[0]}{more}: not compared")
    if report.ok:
        return 0
    frame = report.frame()
    shown = frame if args.limit == 0 else frame.head(args.limit)
    print(f"\nDifferences (transformer at {report.url} against iterable_sim"
          f"{'' if len(shown) == len(frame) else f', first {len(shown)} of {len(frame)} rows'}):", file=out)
    print_frame(shown, out, max_colwidth=60)
    if len(shown) < len(frame):
        print("\nDiffering fields, all rows:", file=out)
        print(report.by_field().to_string(), file=out)
    return 1


def cmd_explore(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from iterable_sim.widgets import page

        page.require_voila()
    except ImportError as err:
        raise CliError(f"the explorer page needs Voilà and the widgets ({err.name} is missing): "
                       f"{install_command(JUPYTER)}") from None
    if args.events:  # a bad file is said here, in one line, not in the page
        try:
            events = read_events(args.events)
        except ArchiveError as err:
            raise CliError(str(err)) from None
        if not events:
            raise CliError(f"{args.events} holds no events")
    settings = settings_from_args(args, default=page.DEFAULT_CONFIG)  # checked here, read again by the page
    print_warnings(settings, sys.stderr)
    try:
        return page.serve(args.events, args.settings, port=args.port, open_browser=not args.no_browser,
                          destination=args.destination, rudderstack=args.rudderstack, on_listening=lambda: print(
                              f"settings explorer on {args.events or 'the sample events'}: http://127.0.0.1:"
                              f"{args.port}/ (only this machine can open it; Ctrl-C stops it)", file=out, flush=True))
    except page.PortInUse as err:
        raise CliError(str(err)) from None
