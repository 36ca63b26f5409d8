"""Benchmark: recording and replaying one cassette of n events (run by hand, prints a table).

    python bench/bench_replay.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

For each size (the first n events of the file), send() delivers them to an in-process mock
Iterable inside a cassette (`make_vcr(record_mode="all")`: record, written to a temporary file),
then the same events are sent again against that cassette (`record_mode="none"`: replay; nothing
behind the transport runs). Times are wall-clock seconds of one pass each, in this one process,
including reading and writing the cassette; also shown: the calls and the cassette's size.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchdata import bench_arguments, load_events, load_settings

from iterable_sim import MockIterable
from iterable_sim.cassettes import make_vcr
from iterable_sim.clock import ManualClock
from iterable_sim.send import send


def run(events: list, settings, path: Path, mode: str) -> tuple[float, int]:
    mock = MockIterable(clock=ManualClock(), rate_limits=False)
    mock.accept_keys_of(settings)
    started = time.perf_counter()
    with make_vcr(record_mode=mode).use_cassette(str(path)) as cassette:
        report = send(events, settings, to=mock, progress=False, pace=False)
    elapsed = time.perf_counter() - started
    if mode == "none":
        assert cassette.all_played and not getattr(cassette, "misses", []), "the replay did not match"
    return elapsed, report.summary()["requests"]


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--sizes", default="30,1000,3000,10000")
    args = parser.parse_args()
    events = load_events(args.events)
    settings = load_settings(args.settings, args.rudderstack)
    print(f"{'events':>7} {'calls':>6} {'record s':>9} {'replay s':>9} {'cassette MB':>12}")
    with tempfile.TemporaryDirectory() as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(scratch) / f"bench-{size}.yaml"
            recorded, calls = run(events[:size], settings, path, "all")
            replayed, _ = run(events[:size], settings, path, "none")
            print(f"{size:>7} {calls:>6} {recorded:>9.2f} {replayed:>9.2f} {path.stat().st_size / 1e6:>12.1f}")


if __name__ == "__main__":
    main()
