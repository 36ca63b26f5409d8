"""The RudderStack delivery model (iterable_sim.rudder_router): rudder-server's router status cases, and
scenarios derived from rudder-server's source (paths in rudder_router/rudderstack.py's docstring)."""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from iterable_sim import MockIterable, Settings
from iterable_sim.clock import ManualClock
from iterable_sim.mock.errors import MockSetupError
from iterable_sim.rudder_router import RouterConfig, RouterConfigError, Timing, deliver_like_rudderstack
from iterable_sim.rudder_router.barrier import Barrier
from iterable_sim.rudder_router.config import go_duration
from iterable_sim.pipeline.router import job_state
from iterable_sim.rudder_router.rudderstack import fnv32a

CASES = Path(__file__).resolve().parents[2] / "shared" / "rudderstack" / "server" / "cases" / "router_status.json"
if not CASES.exists():  # the main checkout sits next to shared/ too
    CASES = Path("/work/shared/rudderstack/server/cases/router_status.json")
SETTINGS = Settings.from_rudder({"apiKey": "k"})
MINUTE = 60.0


def track(i: int, user: str, event: str = "Clicked") -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": user, "messageId": f"m{i}", "properties": {"n": i},
            "originalTimestamp": "2024-01-01T00:00:00Z"}


def fresh_mock() -> MockIterable:
    mock = MockIterable(clock=ManualClock())
    mock.accept_keys_of(SETTINGS)
    return mock


def _router_cases() -> list[dict[str, Any]]:
    return json.loads(CASES.read_text())["cases"] if CASES.exists() else []


@pytest.mark.skipif(not CASES.exists(), reason="../shared/rudderstack is not there")
@pytest.mark.parametrize("case", _router_cases(), ids=lambda c: c["id"])
def test_router_status_cases(case: dict[str, Any]) -> None:
    """router/worker_test.go TestAnyNonTerminalCode: the model's state of each code is failed (retried) exactly
    when rudder-server calls it non-terminal."""
    codes = (case["input"]["respStatusCodes"] or {}).values()
    assert any(job_state(code) == "failed" for code in codes) is case["expected"]["anyNonTerminal"]


def test_status_classes() -> None:
    """router/misc.go:23-28, router/worker.go:1045-1055."""
    assert [job_state(c) for c in (200, 204, 298, 299, 301, 400, 404, 408, 429, 500, 503, 599, 100)] == [
        "succeeded", "succeeded", "filtered", "succeeded", "aborted", "aborted", "aborted", "failed", "failed",
        "failed", "failed", "failed", "failed"]


def test_config_reads_rudder_server_keys_the_destination_type_key_winning() -> None:
    config = RouterConfig.from_keys({"Router.ITERABLE.noOfJobsToBatchInAWorker": 50, "Router.noOfJobsToBatchInAWorker": 10,
                                     "Router.retryTimeWindow": "1h30m", "Router.ITERABLE.transformerProxy": "true"})
    assert (config.no_of_jobs_to_batch_in_a_worker, config.retry_time_window, config.transformer_proxy) == (50, 5400.0, True)
    assert RouterConfig().keys()["Router.jobsBatchTimeout"] == 5.0 and go_duration("100ms") == 0.1
    with pytest.raises(RouterConfigError):
        RouterConfig.from_keys({"Router.noSuchKey": 1})


def test_worker_is_fnv32a_of_the_order_key() -> None:
    """misc.GetHash is FNV-1a 32 (utils/misc/misc.go:115-119); known vectors."""
    assert fnv32a("") == 0x811C9DC5 and fnv32a("a") == 0xE40C292C and fnv32a("foobar") == 0xBF9CF968


def test_a_quiet_run_batches_small_and_sends_like_rudder_server() -> None:
    """20 jobs per worker batch at most (router/worker_batch_loop.go:53-83); User-Agent and Go's JSON
    (router/network.go:102-199, 224-231); every event gets an outcome."""
    events = [track(i, f"u{i % 30}") for i in range(300)]
    mock = fresh_mock()
    report = deliver_like_rudderstack(events, SETTINGS, mock)
    s = report.summary()
    assert (s["succeeded"], s["aborted"], s["unfinished"]) == (300, 0, 0)
    assert max(report.batch_sizes) <= 20
    entry = next(e for e in mock.journal if e.endpoint == "events/trackBulk")
    assert entry.request_headers["user-agent"] == "RudderLabs"
    body = orjson.loads(entry.request_body)["events"][0]
    assert list(body) == sorted(body)
    assert len(orjson.loads(entry.request_body)["events"]) <= 20


def test_a_30_minute_503_outage_is_retried_with_back_off_and_nothing_is_aborted() -> None:
    """router/misc.go:30-35: waits 10, 20, 40, ... 300 s; under 180 min no abort (router/handle.go:773-800)."""
    events = [track(i, f"u{i % 10}") for i in range(100)]
    mock = fresh_mock()
    t0 = mock.clock.now()
    mock.faults.add("5xx", "events/trackBulk", status=503, start=t0, end=t0 + 30 * MINUTE)
    report = deliver_like_rudderstack(events, SETTINGS, mock)
    s = report.summary()
    assert (s["succeeded"], s["aborted"], s["unfinished"]) == (100, 0, 0)
    failures = [step.time for step in report.steps(0) if step.state == "failed"]
    gaps = [b - a for a, b in zip(failures[:-1], failures[1:], strict=True)]
    assert len(gaps) >= 7
    for gap, backoff in zip(gaps[:7], (10, 20, 40, 80, 160, 300, 300), strict=True):
        assert backoff <= gap <= backoff + 1 + 5 + 1  # + a pickup (1 s) + the batch timer (5 s) + the call
    # later events of a blocked user wait behind it (router/worker.go:121-160, router/handle.go:739-748)
    assert s["waiting_events"] > 0 and max(x.behind_blocked_user for x in report.samples) == 90
    assert s["held_events"] == 90 and s["reported_failed"] == s["retried_events"] == 10  # one failed job per user
    assert report.duration > 30 * MINUTE and s["latency_max"] < 30 * MINUTE + 6 * MINUTE


def test_a_long_503_outage_aborts_after_180_minutes_and_3_attempts() -> None:
    events = [track(i, f"u{i}") for i in range(5)]
    mock = fresh_mock()
    t0 = mock.clock.now()
    mock.faults.add("5xx", "events/trackBulk", status=503, start=t0, end=t0 + 4 * 60 * MINUTE)
    report = deliver_like_rudderstack(events, SETTINGS, mock)
    last = report.steps(0)[-1]
    assert (last.state, last.code, last.note) == ("aborted", 410, "retry limit reached")
    first_failure = next(step.time for step in report.steps(0) if step.state == "failed")
    assert 180 * MINUTE < last.time - first_failure < 180 * MINUTE + 6 * MINUTE
    assert report.summary()["aborted"] == 5


def test_a_429_storm_is_retried_past_the_retry_window_never_aborted() -> None:
    """408, 429 and 599 never reach the retry limit (router/handle.go:781-789): retried until jobRetention."""
    events = [track(i, f"u{i}") for i in range(5)]
    mock = fresh_mock()
    t0 = mock.clock.now()
    mock.faults.add("429", "events/trackBulk", start=t0, end=t0 + 4 * 60 * MINUTE)
    report = deliver_like_rudderstack(events, SETTINGS, mock)
    s = report.summary()
    assert (s["succeeded"], s["aborted"]) == (5, 0)
    assert report.duration > 4 * 60 * MINUTE
    failures = [step.time for step in report.steps(0) if step.state == "failed"]
    # the back-off stays on past the retry window (router/worker.go:1052: retryLimitReached is false below 500)
    assert min(b - a for a, b in zip(failures[5:-1], failures[6:], strict=True)) >= 300
    assert len(failures) < 4 * 60 * MINUTE / 300 + 6


def test_429_above_a_rate_is_a_fault_of_the_mock() -> None:
    clock = ManualClock()
    mock = MockIterable(clock=clock)
    mock.add_api_key("k")
    mock.faults.add("429", "events/trackBulk", above=2)
    statuses = [mock.handle("POST", "https://api.iterable.com/api/events/trackBulk", {"Api-Key": "k"},
                            b'{"events":[]}').status for _ in range(4)]
    assert statuses[2:] == [429, 429] and statuses[0] != 429
    clock.advance(1.5)
    assert mock.handle("POST", "https://api.iterable.com/api/events/trackBulk", {"Api-Key": "k"},
                       b'{"events":[]}').status != 429
    with pytest.raises(MockSetupError):
        mock.faults.add("5xx", start=10, end=5)


def test_a_4xx_for_one_users_event_aborts_it_and_does_not_hold_their_next_events() -> None:
    """An aborted job sets no barrier (router/worker.go:1057-1073 only for failed): the next events go on.
    Iterable's 400 for an email change of an unknown user; a group call the processor's event filter stops (298)
    before the router (settings.rudder_server, on by default)."""
    user = "alice@example.com"
    events = [track(0, user), {"type": "alias", "userId": user, "previousId": "nobody@example.com", "messageId": "a"},
              track(2, user), {"type": "group", "userId": user, "messageId": "g"}, track(4, user)]
    report = deliver_like_rudderstack(events, SETTINGS)
    records = report.records()
    assert [r.outcome for r in records] == ["succeeded", "aborted", "succeeded", "filtered", "succeeded"]
    assert [records[i].code for i in (1, 3)] == [400, 298] and [r.attempts for r in records] == [1, 1, 1, 0, 1]
    s = report.summary()
    assert (s["events"], s["router_jobs"], s["stopped_before_router"], s["waiting_events"], s["held_events"]) == \
        (5, 4, 1, 0, 0)
    assert report.steps(3)[0].state == "filtered" and report.steps(4)[-1].state == "succeeded"


def test_one_invalid_event_in_a_bulk_call_aborts_every_job_of_the_call() -> None:
    """Direct delivery: Iterable's one 400 for the trackBulk body applies to every job it carries
    (router/worker.go:594-595, 892-901)."""
    events = [track(0, "a"), {"type": "track", "userId": "a", "messageId": "bad"}, track(2, "b")]
    report = deliver_like_rudderstack(events, SETTINGS, config=RouterConfig(no_of_workers=1))
    assert [j.outcome for j in report.jobs] == ["aborted"] * 3 and report.summary()["calls"] == 1


def test_after_a_failed_job_is_aborted_its_user_drains_one_job_at_a_time() -> None:
    """Retry limit reached -> aborted; then Router.eventOrderDrainedConcurrencyLimit (1) job of the key in flight
    until the next success (router/internal/eventorder/eventorder.go:175-178, 549-566)."""
    config = RouterConfig.from_keys({"Router.retryTimeWindow": "1m"})
    events = [track(i, "bob") for i in range(6)]
    mock = fresh_mock()
    t0 = mock.clock.now()
    mock.faults.add("5xx", "events/trackBulk", status=503, start=t0, end=t0 + 100)
    report = deliver_like_rudderstack(events, SETTINGS, mock, config=config)
    outcomes = [j.outcome for j in report.jobs]
    assert outcomes[0] == "aborted" and report.jobs[0].code == 410 and outcomes[1:] == ["succeeded"] * 5
    # the job after the abort goes alone: its success time comes before the next job is picked
    second = report.steps(1)
    third_picked = [s.time for s in report.steps(2) if s.state == "executing"][-1]
    assert second[-1].state == "succeeded" and third_picked >= second[-1].time


def test_a_user_with_250_events_in_flight_has_ordering_switched_off() -> None:
    """Router.eventOrderKeyThreshold (200): the key's barrier is disabled for 20 min (eventorder.go:162-171)."""
    events = [track(i, "busy") for i in range(250)]
    mock = fresh_mock()
    t0 = mock.clock.now()
    mock.faults.add("5xx", "events/trackBulk", status=503, start=t0, end=t0 + 5 * MINUTE)
    report = deliver_like_rudderstack(events, SETTINGS, mock)
    s = report.summary()
    assert s["ordering_switched_off"] == 1 and report.disabled_keys[0][0] == t0
    assert (s["succeeded"], s["aborted"]) == (250, 0)
    # with ordering off, jobs of the one user fail and retry side by side, none waits behind another
    assert s["retried_events"] > 20


def test_direct_delivery_marks_a_200_with_failures_succeeded_the_proxy_aborts_the_failed_events() -> None:
    """Direct: one status for every job of the item (router/worker.go:594-595, 892-901); proxy: per-event 400
    for disallowed event names (rudder-transformer src/v1/destinations/iterable/utils.ts:32-102)."""
    events = [track(0, "a", "Allowed"), track(1, "b", "Blocked"), track(2, "c", "Allowed")]
    outcomes = {}
    for proxy in (False, True):
        mock = fresh_mock()
        mock.disallow_event("Blocked")
        report = deliver_like_rudderstack(events, SETTINGS, mock, config=RouterConfig(transformer_proxy=proxy))
        outcomes[proxy] = [j.outcome for j in report.jobs]
    assert outcomes == {False: ["succeeded"] * 3, True: ["succeeded", "aborted", "succeeded"]}


def test_barrier_lets_only_the_failed_job_in() -> None:
    barrier = Barrier()
    assert barrier.enter("k", 1, 0.0) == (True, None)
    barrier.failed("k", 1)
    assert barrier.enter("k", 2, 0.0) == (False, 1) and barrier.enter("k", 1, 0.0) == (True, 1)
    barrier.changed("k", 1, "succeeded")
    barrier.sync()
    assert barrier.enter("k", 2, 0.0) == (True, None)


def test_arrivals_spread_over_time_and_the_report_frames() -> None:
    events = [track(i, f"u{i % 3}") for i in range(30)]
    report = deliver_like_rudderstack(events, SETTINGS, timing=Timing(arrival_interval=2.0))
    assert report.summary()["succeeded"] == 30 and report.duration >= 58
    frame = report.steps_frame()
    assert set(frame["state"]) == {"executing", "succeeded"} and len(report.outcomes_frame()) == 30
    assert report.timeline()._repr_svg_().startswith("<svg")


def test_the_delivery_simulator_widget_shows_the_timeline() -> None:
    pytest.importorskip("ipywidgets")
    from iterable_sim.widgets.delivery import DeliverySimulator

    events = [track(i, f"u{i % 4}") for i in range(40)]
    simulator = DeliverySimulator(events, SETTINGS, outage=(0, 10), arrival_interval=5)
    assert simulator.report is not None and simulator.report.summary()["succeeded"] == 40
    assert "calls to Iterable per minute" in simulator._chart.value and "<svg" in simulator.snapshot_html()
    simulator.controls["rate_429"].value = 1
    simulator.controls["outage_end"].value = 0
    assert simulator.run().summary()["calls_by_status"].get(429, 0) > 0


def test_a_time_window_fault_acts_over_the_http_server_too() -> None:
    import httpx

    clock = ManualClock()
    mock = MockIterable(clock=clock)
    mock.add_api_key("k")
    t0 = clock.now()
    mock.faults.add("5xx", "events/trackBulk", status=503, start=t0 + 60, end=t0 + 120)
    with mock.serve() as url, httpx.Client(base_url=url) as client:
        def status() -> int:
            return client.post("/api/events/trackBulk", headers={"Api-Key": "k"}, content=b'{"events":[]}').status_code

        before = status()
        clock.advance(60)
        during = status()
        clock.advance(60)
        after = status()
    assert (before != 503, during, after != 503) == (True, 503, True)


def test_the_gateway_stamps_each_event_when_it_arrives() -> None:
    # rudder-server's gateway sets receivedAt as a request comes in (gateway/handle.go), and an event with no
    # timestamp of its own takes it: events arriving a minute apart reach Iterable created a minute apart
    events = [{k: v for k, v in track(i, f"u{i}").items() if k != "originalTimestamp"} for i in range(3)]
    mock = fresh_mock()
    deliver_like_rudderstack(events, SETTINGS, mock, timing=Timing(arrival_interval=MINUTE))
    created = sorted(mock.events_frame()["createdAt"])
    assert [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(created)] == [60, 60]
