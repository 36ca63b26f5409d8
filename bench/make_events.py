"""Make an archive of N varied events from the bench events (run by hand, for the archive benchmarks).

    python bench/make_events.py 1000000 /tmp/events-1m.jsonl.gz
    python bench/make_events.py 1000000 /tmp/events-1m/ --parts 8     # a partitioned archive

Copy k of the bench events (k = 0, 1, ...) has its own users, emails and ids: every userId
`user-1…` becomes `user-k-1…`, every email `name@…example.com` becomes `name+k@…example.com`, every
UUID (messageId, anonymousId, rudderId, device ids…) and order id gets k mixed in. So N events
have about N/10,000 times the bench events' users, and no two events share a messageId. Written
as gzipped JSON lines, as RudderStack's object-storage destinations write them.
"""
from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

BENCH_EVENTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench" / "events-10k.jsonl.gz"
EMAIL = re.compile(rb"@((?:[a-z0-9-]+\.)*example\.com)")
UUID = re.compile(rb'"([0-9a-f]{8})(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")')


def varied(line: bytes, copy: int) -> bytes:
    """The event of `line` as copy number `copy`: its own users, emails and ids."""
    if copy == 0:
        return line
    tag = b"%d" % copy
    line = EMAIL.sub(b"+" + tag + rb"@\1", line.replace(b'"user-', b'"user-' + tag + b"-"))
    line = line.replace(b'"ord-', b'"ord-' + tag + b"-")
    return UUID.sub(lambda m: b'"%08x%s' % (int(m.group(1), 16) ^ copy, m.group(2)), line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="how many events")
    parser.add_argument("out", type=Path, help="a .jsonl.gz file, or a directory with --parts")
    parser.add_argument("--parts", type=int, default=1, help="split into this many files in the directory `out`")
    parser.add_argument("--source", type=Path, default=BENCH_EVENTS, help="the events to vary (JSONL, .gz)")
    args = parser.parse_args()
    if not args.source.is_file():
        parser.exit(2, f"make_events.py: no {args.source.resolve()}: the bench events are in ../shared/bench/ beside the "
                       "checkout, or give --source FILE\n")
    with gzip.open(args.source, "rb") as source:
        base = [line.rstrip(b"\n") for line in source if line.strip()]
    if args.parts > 1:
        args.out.mkdir(parents=True, exist_ok=True)
        paths = [args.out / f"events-{part:03d}.jsonl.gz" for part in range(args.parts)]
    else:
        paths = [args.out]
    per_part = -(-args.count // len(paths))
    written = 0
    for path in paths:
        with gzip.open(path, "wb", compresslevel=1) as out:
            for number in range(written, min(written + per_part, args.count)):
                out.write(varied(base[number % len(base)], number // len(base)) + b"\n")
        written = min(written + per_part, args.count)
    print(f"{written:,} events in {len(paths)} file(s) at {args.out}")


if __name__ == "__main__":
    main()
