"""Benchmark: map_event and map_events throughput on fresh events (run by hand, prints figures).

    python bench/bench_mapping.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

Each timed pass maps events parsed from the file just before it (not timed), as users have them
and as RudderStack's `bench` mode does; after one warm-up pass, in this one process. Shown: the
median events/s of --runs passes and the share of the time spent in the garbage collector, for a
plain loop of map_event (the collector left as it is) and for map_events (which pauses it), with
rudder-server's steps in front (the default) and without (`rudder_server=False`, the transformer alone).
Compare with RudderStack's process() in the same minute:

    node ../shared/rudderstack/rudderstack-iterable.cjs bench --events ../shared/bench/events-10k.jsonl.gz \
         --config ../shared/bench/settings.json --mode both
"""
from __future__ import annotations

import resource

from benchdata import bench_arguments, fresh_passes, load_lines, load_settings, rate_line

from iterable_sim import MappingError, Settings, map_event, map_events


def map_each(events: list[dict], settings: Settings) -> tuple[int, int]:
    requests = errors = 0
    for event in events:
        try:
            requests += len(map_event(event, settings))
        except MappingError:
            errors += 1
    return requests, errors


def main() -> None:
    args = bench_arguments(__doc__).parse_args()
    lines = load_lines(args.events)
    settings = load_settings(args.settings, args.rudderstack)

    timings, collector, (requests, errors) = fresh_passes(lines, args.runs, lambda events: map_each(events, settings))
    print(f"events: {len(lines):,}  requests: {requests:,}  mapping errors: {errors:,}")
    print(rate_line("map_event loop", len(lines), timings, collector))
    transformer_only = Settings.from_rudder(settings.rudder_config, rudder_server=False)
    for label, chosen in (("map_events, rudder-server's steps on", settings),
                          ("map_events, transformer only", transformer_only)):
        timings, collector, results = fresh_passes(
            lines, args.runs, lambda events, chosen=chosen: map_events(events, chosen, progress=False))
        print(rate_line(label, len(lines), timings, collector))
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
