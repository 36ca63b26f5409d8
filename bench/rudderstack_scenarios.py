"""The RudderStack delivery model's scenarios, with their figures (run by hand, prints a table).

    python bench/rudderstack_scenarios.py

Each scenario is the one a test of tests/test_rudderstack_delivery.py pins, at a size worth reading; the rule
each checks is printed with it. "held" is the time the pickup held an event back behind its user's failed job
(no status is written for it); "set waiting" counts the events a worker set `waiting` (router/worker.go:121-160,
670-692); "first try after" is the longest time an event waited for its first delivery attempt; latency is
creation to success.
"""
from __future__ import annotations

from typing import Any, Callable

from iterable_sim import MockIterable, Settings
from iterable_sim.clock import ManualClock
from iterable_sim.rudder_router import DeliveryReport, RouterConfig, deliver_like_rudderstack

SETTINGS = Settings.from_rudder({"apiKey": "k"})
MINUTE = 60.0


def track(i: int, user: str, event: str = "Clicked") -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": user, "messageId": f"m{i}", "properties": {"n": i},
            "originalTimestamp": "2024-01-01T00:00:00Z"}


def run(events: list[Any], faults: Callable[[MockIterable, float], None] | None = None,
        config: RouterConfig | None = None) -> DeliveryReport:
    mock = MockIterable(clock=ManualClock())
    mock.accept_keys_of(SETTINGS)
    if faults:
        faults(mock, mock.clock.now())
    return deliver_like_rudderstack(events, SETTINGS, mock, config=config)


def outage(minutes: float, status: int = 503, start: float = 0.0) -> Callable[[MockIterable, float], None]:
    def add(mock: MockIterable, t0: float) -> None:
        if status == 429:
            mock.faults.add("429", "events/trackBulk", start=t0 + start * MINUTE, end=t0 + (start + minutes) * MINUTE)
        else:
            mock.faults.add("5xx", "events/trackBulk", status=status, start=t0 + start * MINUTE,
                            end=t0 + (start + minutes) * MINUTE)
    return add


def above(rate: float) -> Callable[[MockIterable, float], None]:
    return lambda mock, t0: mock.faults.add("429", None, above=rate) and None


def alice() -> list[Any]:
    user = "alice@example.com"
    return [track(0, user), {"type": "alias", "userId": user, "previousId": "nobody@example.com", "messageId": "a"},
            track(2, user), track(3, user)]


SCENARIOS: list[tuple[str, str, Callable[[], DeliveryReport]]] = [
    ("30-minute 503 on trackBulk, 1,000 events of 100 users",
     "5xx failed, back-off min(300 s, 10 s x 2^(n-1)); later events of a failed user wait; no abort before 180 min",
     lambda: run([track(i, f"u{i % 100}") for i in range(1000)], outage(30))),
    ("4-hour 503 on trackBulk, 100 events of 100 users",
     ">= 500 (not 599): aborted 410 'retry limit reached' after 180 min and >= 3 attempts",
     lambda: run([track(i, f"u{i}") for i in range(100)], outage(240))),
    ("429 storm: 4 hours of 429 on trackBulk, 100 events",
     "429 failed and retried, never the retry limit: retried until Router.jobRetention",
     lambda: run([track(i, f"u{i}") for i in range(100)], outage(240, 429))),
    ("429 above 2 req/s on every endpoint, 1,000 events of 100 users",
     "429 failed and retried; rudder-server has no pacing of its own (throttling is off by default)",
     lambda: run([track(i, f"u{i % 100}") for i in range(1000)], above(2))),
    ("a 400 for one user's event (updateEmail of an unknown user), 4 events",
     "3xx/4xx aborted at once; an abort sets no barrier: the user's next events go on",
     lambda: run(alice())),
    ("one user with 250 events, 5-minute 503",
     "200 jobs of one key in flight: ordering off for the key (20 min), jobs retried side by side",
     lambda: run([track(i, "busy") for i in range(250)], outage(5))),
    ("one user with 150 events (below the 200 threshold), 5-minute 503",
     "below the threshold: one failed job blocks the user's 149 others",
     lambda: run([track(i, "busy") for i in range(150)], outage(5))),
]


def main() -> None:
    for name, rule, scenario in SCENARIOS:
        report = scenario()
        s = report.summary()
        latency = "-" if s["latency_max"] is None else f"p50 {s['latency_p50']:.0f} s, max {s['latency_max']:.0f} s"
        print(f"{name}\n  rule: {rule}\n  calls {s['calls']:,} {s['calls_by_status']}; succeeded {s['succeeded']:,}, "
              f"aborted {s['aborted']:,}, unfinished {s['unfinished']}; held behind a blocked user: {s['held_events']:,} "
              f"events, at most {s['held_seconds_max']:.0f} s; set waiting: {s['waiting_events']:,}; "
              f"first try after at most {s['first_attempt_after_max']:.0f} s; latency {latency}; ordering switched "
              f"off for {s['ordering_switched_off']} user(s); {report.duration / 60:.1f} simulated min\n")


if __name__ == "__main__":
    main()
