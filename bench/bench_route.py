"""Benchmark: route throughput (mapping and batching) on a file of RudderStack events (run by hand, prints figures).

    python bench/bench_route.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

Events per second is the median of --runs timed passes of route() over all events, after one warm-up
pass, in this one process. Requests are those the batches hold, in all and per endpoint; the floor is
one request per started 1,000 bulk items plus one per call without a bulk endpoint.
"""
from __future__ import annotations

import gc
import math
import statistics
import time
import tracemalloc
from collections import Counter

from benchdata import bench_arguments, load_events, load_settings

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


def main() -> None:
    parser = bench_arguments(__doc__)
    args = parser.parse_args()
    events = load_events(args.events)
    settings = load_settings(args.settings)
    jobs = [(index, event, settings) for index, event in enumerate(events)]

    route(jobs)  # warm-up
    timings = []
    for _ in range(args.runs):
        gc.collect()  # start each pass from the same heap: no collection left over from the pass before
        start = time.perf_counter()
        batches = route(jobs)
        timings.append(time.perf_counter() - start)
    tracemalloc.start()
    route(jobs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    per_endpoint = Counter(request.endpoint for batch in batches for request in batch.requests)
    failed = sum(len(batch.job_ids) for batch in batches if batch.error is not None)
    median = statistics.median(timings)
    print(f"events: {len(events):,}  batches: {len(batches):,}  failed events: {failed:,}")
    print(f"route: {len(events) / median:,.0f} events/s (median of {args.runs}; "
          f"best {len(events) / min(timings):,.0f}, worst {len(events) / max(timings):,.0f})")
    print(f"requests: {sum(per_endpoint.values()):,} (floor {floor(batches, per_endpoint):,})")
    for endpoint, count in sorted(per_endpoint.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {endpoint:32} {count:6,}")
    print(f"peak memory routing all events (tracemalloc): {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
