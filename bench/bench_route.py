"""Benchmark: route throughput (mapping and batching) on a file of RudderStack events (run by hand, prints figures).

    python bench/bench_route.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

Events per second is the median of --runs timed passes of route(), after one warm-up pass, in this
one process, each over events parsed afresh just before it (as RudderStack's bench does): in calls
of --batch events (200, as RudderStack's bench calls its router), and in one call over all events. Requests are those the batches hold, in all and per endpoint; the floor is
one request per started 1,000 bulk items plus one per call without a bulk endpoint.
"""
from __future__ import annotations

import math
import tracemalloc
from collections import Counter

import orjson
from benchdata import bench_arguments, fresh_passes, load_lines, load_settings, rate_line

from iterable_sim import route



def floor(batches: list, per_endpoint: Counter) -> int:
    """The fewest requests these events can make: bulk items in full 1,000-item requests, the rest one each."""
    bulk_items = Counter()
    for batch in batches:
        for request in batch.requests:
            body = request.json if isinstance(request.json, dict) else {}
            for key in ("users", "events", "documents"):
                if key in body:
                    bulk_items[request.endpoint] += len(body[key])
    singles = sum(n for endpoint, n in per_endpoint.items() if endpoint not in bulk_items)
    return singles + sum(math.ceil(n / 1000) for n in bulk_items.values())


def route_in_calls(events: list[dict], settings, size: int | None) -> list:
    """route() over all events at once (size None), or in calls of `size` events as RudderStack's bench does."""
    jobs = [(index, event, settings) for index, event in enumerate(events)]
    if size is None:
        return route(jobs)
    return [batch for start in range(0, len(jobs), size) for batch in route(jobs[start:start + size])]


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--batch", type=int, default=200, help="events per route() call, as RudderStack's bench")
    args = parser.parse_args()
    lines = load_lines(args.events)
    settings = load_settings(args.settings, args.rudderstack)
    for size in (args.batch, None):
        timings, collector, batches = fresh_passes(lines, args.runs,
                                                   lambda events, size=size: route_in_calls(events, settings, size))
        per_endpoint = Counter(request.endpoint for batch in batches for request in batch.requests)
        failed = sum(len(batch.job_ids) for batch in batches if batch.error is not None)
        calls = f"calls of {size}" if size else "one call"
        print(rate_line(f"route ({calls})", len(lines), timings, collector))
        print(f"  batches: {len(batches):,}  failed events: {failed:,}  requests: {sum(per_endpoint.values()):,} "
              f"(floor {floor(batches, per_endpoint):,})")
    for endpoint, count in sorted(per_endpoint.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {endpoint:32} {count:6,}")
    tracemalloc.start()
    route_in_calls([orjson.loads(line) for line in lines], settings, None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory routing all events in one call, events included (tracemalloc): {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
