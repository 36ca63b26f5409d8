"""At-least-once under a real network's faults: what Iterable stores, against what was delivered.

    python bench/bench_retries.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

The events go to the in-process mock Iterable (simulated time) under the fault mix of issue 16:
8% 503, 5% 429, 5% dropped connections, and 30% of answers 20 s late, past the client's 10 s timeout,
the request already acted on. The events that still fail are re-sent once the faults are cleared,
so every event ends up delivered. For custom events, purchases and updateCart events, the table shows
how many were delivered, how many the mock stored (extra: stored - delivered), how many events the
reports mark `possibly_duplicated` and the extra copies they say Iterable may hold
(`possible_duplicates`), with `stable_event_ids` off and on. `--without-order-id 0.2` drops the order
id from a fifth of the purchases first (the bench's purchases all carry one).
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

from benchdata import load_events, load_settings

from iterable_sim import MockIterable, SendReport, Settings, send
from iterable_sim.clock import ManualClock
from iterable_sim.send.client import RetryPolicy

KINDS = {"events/track": "events", "events/trackBulk": "events", "commerce/trackPurchase": "purchases",
         "commerce/updateCart": "cart events"}


def faulty_mock(settings: Settings) -> MockIterable:
    mock = MockIterable(clock=ManualClock())
    mock.accept_keys_of(settings)
    mock.faults.add("5xx", rate=0.08, status=503)
    mock.faults.add("429", rate=0.05)
    mock.faults.add("drop", rate=0.05)
    mock.faults.add("latency", rate=0.30, seconds=20)  # acted on, then answered after the client gave up
    return mock


def tally(reports: list[SendReport], mock: MockIterable) -> dict[str, dict[str, int]]:
    """Per kind: delivered (over all reports), stored by the mock, the events marked possibly
    duplicated and the extra copies the reports say Iterable may hold."""
    rows = {kind: {"delivered": 0, "stored": 0, "possibly duplicated": 0, "possible duplicates": 0}
            for kind in dict.fromkeys(KINDS.values())}
    for report in reports:
        for outcome in report.outcomes:
            kind = next((KINDS[e] for e in outcome.endpoints if e in KINDS), None)
            if kind is not None:
                rows[kind]["delivered"] += outcome.fate == "delivered"
                rows[kind]["possibly duplicated"] += outcome.possibly_duplicated
                rows[kind]["possible duplicates"] += outcome.possible_duplicates
    stored = mock.events_frame()["eventType"].value_counts()
    rows["events"]["stored"] = int(stored.get("customEvent", 0))
    rows["cart events"]["stored"] = int(stored.get("updateCart", 0))
    rows["purchases"]["stored"] = len(mock.purchases_frame())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path, help="JSONL file of events (.gz allowed)")
    parser.add_argument("settings", type=Path, nargs="?", help="RudderStack destination Config JSON")
    parser.add_argument("--seed", type=int, default=1, help="seeds the client's back-off jitter")
    parser.add_argument("--without-order-id", type=float, default=0.0, metavar="FRACTION",
                        help="drop order_id/orderId/event_id from this fraction of the purchases")
    args = parser.parse_args()
    events = load_events(args.events)
    settings = load_settings(args.settings)
    strip = random.Random(args.seed)
    for event in events:
        if event.get("event") == "Order Completed" and strip.random() < args.without_order_id:
            for key in ("order_id", "orderId", "event_id"):
                event.get("properties", {}).pop(key, None)

    print(f"{len(events):,} events; faults: 8% 503, 5% 429, 5% dropped, 30% answered 20 s late (timeout 10 s)")
    print(f"{'stable_event_ids':<17}{'kind':<13}{'delivered':>10}{'stored':>8}{'extra':>7}{'possibly dup.':>15}"
          f"{'possible dups':>15}")
    for stable in (False, True):
        mock = faulty_mock(settings)
        report = send(events, settings, to=mock, progress=False, timeout=10.0, stable_event_ids=stable,
                      retry=RetryPolicy(seed=args.seed))
        mock.faults.clear()
        resent = report.resend()
        for kind, row in tally([report, resent], mock).items():
            print(f"{str(stable):<17}{kind:<13}{row['delivered']:>10,}{row['stored']:>8,}"
                  f"{row['stored'] - row['delivered']:>7,}{row['possibly duplicated']:>15,}"
                  f"{row['possible duplicates']:>15,}")
        s, r = report.summary(), resent.summary()
        print(f"{'':<17}(first send: {s['delivered']:,} delivered, {s['rejected']:,} rejected, {s['failed']:,} "
              f"failed, {s['requests']:,} calls; re-sent {r['sent']:,}: {r['delivered']:,} delivered)")


if __name__ == "__main__":
    main()
