"""send() and asend() against the mock Iterable: every event's fate, under the failures Iterable has."""
import asyncio
import copy
import importlib

import httpx
import pytest

import iterable_sim as its
from iterable_sim import MockIterable, Settings
from iterable_sim.clock import ManualClock
from iterable_sim.send.client import RetryPolicy
from iterable_sim.limits import MAX_BODY_BYTES
from iterable_sim.mock.options import MockOptions
from iterable_sim.samples import sample_events
from iterable_sim.send import LIVE, LiveSendRefused, asend, send

send_module = importlib.import_module("iterable_sim.send.api")

KEY = "send-test-key"
DEVICE_KEY = "send-test-device-key"
SETTINGS = Settings(api_key=KEY, register_device_or_browser_api_key=DEVICE_KEY)
FAST_RETRY = RetryPolicy(attempts=5, seed=1)


def mock(**options) -> MockIterable:
    m = MockIterable(clock=ManualClock(), options=MockOptions(**options) if options else None)
    m.add_api_key(KEY)
    m.add_api_key(DEVICE_KEY)
    return m


def track(i: int, **extra) -> dict:
    return {"type": "track", "event": "Viewed", "userId": f"user-{i}", "messageId": f"msg-{i}",
            "properties": {"n": i}, **extra}


def counts_add_up(report) -> None:
    s = report.summary()
    assert s["delivered"] + s["filtered"] + s["rejected"] + s["failed"] == s["sent"] == len(report.events)
    assert [o.index for o in report.outcomes] == list(range(len(report.events)))


def test_sample_events_each_get_an_outcome_and_one_bad_item_does_not_sink_its_bulk_call():
    report = send(sample_events(), SETTINGS, progress=False)
    counts_add_up(report)
    frame = report.frame().set_index("event")
    # event 8 has no eventName: Iterable refuses the whole trackBulk call for it, naming the item;
    # it is set aside with Iterable's reason and the rest of the call goes again
    assert frame.loc[8, "fate"] == "rejected"
    assert frame.loc[8, "reason"] == "BadJsonBody: Invalid JSON body (obj.events[2].eventName: Missing required field)"
    assert (frame.loc[[6, 9, 10, 11, 12, 13, 14], "fate"] == "delivered").all()
    assert report.requests_frame()["status"].tolist().count(400) >= 1
    assert len(report.mock.events_frame().query("eventType == 'customEvent'")) == 7
    # events RudderStack refuses never reach Iterable, and say why
    assert frame.loc[5, "stage"] == "gateway" and "neither has anonymousId nor userId" in frame.loc[5, "reason"]
    assert (frame.loc[22, "fate"], frame.loc[22, "stage"], frame.loc[22, "status"]) == ("filtered", "event_filter", 298)
    assert frame.loc[22, "reason"].startswith("Message type not supported: ")


def test_partial_failure_in_a_bulk_update_is_attributed_to_its_event():
    events = [{"type": "identify", "userId": f"u{i}", "traits": {"email": f"u{i}@example.com"}} for i in range(3)]
    events[1]["traits"]["email"] = "not-an-email"
    report = send(events, SETTINGS, to=mock(), progress=False)
    assert [o.fate for o in report.outcomes] == ["delivered", "rejected", "delivered"]
    assert "not-an-email" in report.outcomes[1].reason
    assert report.summary()["requests"] == 1


def test_429_is_retried_after_retry_after_and_delivered():
    m = mock(retry_after_seconds=7)
    m.faults.add("429", "events/trackBulk", times=1)
    start = m.clock.now()
    report = send([track(i) for i in range(3)], SETTINGS, to=m, progress=False, retry=FAST_RETRY)
    assert report.summary()["delivered"] == 3 and report.summary()["retried"] == 3
    assert report.outcomes[0].attempts == 2
    assert "HTTP 429" in report.deliveries[0].retries[0] and m.clock.now() - start >= 7


def test_the_mocks_own_rate_limit_is_met_by_retrying_when_pacing_is_off():
    m = mock(retry_after_seconds=1)
    events = [track(i) for i in range(12_000)]  # 12 trackBulk calls; Iterable allows 10 a second
    report = send(events, SETTINGS, to=m, progress=False, pace=False, retry=FAST_RETRY)
    assert report.summary()["delivered"] == 12_000
    assert (m.journal_frame()["status"] == 429).sum() >= 1


def test_pacing_keeps_a_large_send_under_the_rate_limits_on_simulated_time():
    m = mock()
    report = send([track(i) for i in range(12_000)], SETTINGS, to=m, progress=False)
    assert report.summary()["delivered"] == 12_000
    assert (m.journal_frame()["status"] == 429).sum() == 0
    assert report.duration == pytest.approx(1.1, abs=0.01)  # 12 calls, one every 0.1 s


def test_5xx_is_retried_and_a_persistent_5xx_fails_the_events_for_resending():
    m = mock()
    m.faults.add("5xx", "events/trackBulk", times=2, status=503)
    report = send([track(i) for i in range(2)], SETTINGS, to=m, progress=False, retry=FAST_RETRY)
    assert [o.attempts for o in report.outcomes] == [3, 3] and report.summary()["delivered"] == 2

    m.faults.add("5xx", "events/trackBulk", status=500)  # now it always fails
    report = send([track(i) for i in range(2, 5)], SETTINGS, to=m, progress=False, retry=FAST_RETRY)
    assert [(o.fate, o.status, o.stage, o.attempts) for o in report.outcomes] == [("failed", 500, "delivery", 5)] * 3
    assert report.failed_events() == report.events

    m.faults.clear()
    again = report.resend()
    assert again.summary()["delivered"] == 3 and again.events == report.events


def test_a_dropped_connection_is_retried():
    m = mock()
    m.faults.add("drop", "users/bulkUpdate", times=1)
    report = send([{"type": "identify", "userId": "u1", "traits": {"plan": "pro"}}], SETTINGS, to=m,
                  progress=False, retry=FAST_RETRY)
    assert report.outcomes[0].fate == "delivered" and report.outcomes[0].attempts == 2
    assert "RemoteProtocolError" in report.deliveries[0].retries[0]


def test_a_request_that_never_answers_fails_with_the_transport_error():
    m = mock()
    m.faults.add("drop", "users/bulkUpdate")
    report = send([{"type": "identify", "userId": "u1"}], SETTINGS, to=m, progress=False,
                  retry=RetryPolicy(attempts=2, seed=1))
    outcome = report.outcomes[0]
    assert (outcome.fate, outcome.status, outcome.stage, outcome.attempts) == ("failed", None, "delivery", 2)
    assert outcome.reason.startswith("no answer: RemoteProtocolError")


@pytest.mark.parametrize("stable_event_ids, stored", [(False, 2), (True, 1)])
def test_a_timeout_after_iterable_stored_the_event_duplicates_it_unless_ids_are_stable(stable_event_ids, stored):
    m = mock()
    m.faults.add("latency", "events/trackBulk", seconds=30, times=1)  # Iterable stores it, the answer is late
    report = send([track(1)], SETTINGS, to=m, progress=False, timeout=5, retry=FAST_RETRY,
                  stable_event_ids=stable_event_ids)
    assert report.outcomes[0].fate == "delivered" and "ReadTimeout" in report.deliveries[0].retries[0]
    assert len(m.events_frame()) == stored


def test_the_eu_data_center_reaches_the_eu_project_in_process_and_over_the_server():
    eu = Settings(api_key=KEY, data_center="EUDC")
    for over_http in (False, True):
        m = mock()
        m.clock = ManualClock()
        if over_http:
            with m.serve() as url:
                report = send([track(1)], eu, to=url, progress=False)
        else:
            report = send([track(1)], eu, to=m, progress=False)
        assert report.summary()["delivered"] == 1
        assert len(m.events_frame("EU")) == 1 and len(m.events_frame("US")) == 0


def test_live_iterable_needs_an_explicit_key_and_nothing_is_sent_without_one():
    for to in (LIVE, "https://api.iterable.com", "https://api.eu.iterable.com/api", "https://API.Iterable.com/api",
               "api.iterable.com"):
        with pytest.raises(LiveSendRefused, match="API key"):
            send([track(1)], Settings(), to=to, progress=False)
    with pytest.raises(ValueError, match="give a URL"):
        send([track(1)], SETTINGS, to="localhost:8080", progress=False)


def test_an_interrupted_send_still_reports_every_event():
    m = mock()
    events = [track(i) for i in range(2)] + [{"type": "identify", "userId": "u9"}]
    calls, real = [], m.transport()

    def interrupt_on_second_call(request):
        calls.append(request)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real.handle_request(request)

    m.transport = lambda: httpx.MockTransport(interrupt_on_second_call)  # the user presses stop mid-send
    report = send(events, SETTINGS, to=m, progress=False)
    assert report.interrupted
    counts_add_up(report)
    # the identify went first and was delivered; the trackBulk call carrying both tracks never answered
    assert [(o.fate, o.stage) for o in report.outcomes] == [("failed", "interrupted")] * 2 + [("delivered", None)]
    assert "interrupted" in repr(report)


def test_stable_ids_leave_room_for_themselves_in_every_bulk_body():
    big = "x" * 3_950
    events = [track(i, properties={"blob": big}) for i in range(1000)]  # ~3.99 MB without ids
    report = send(events, SETTINGS, progress=False, stable_event_ids=True)
    assert report.summary()["delivered"] == 1000
    assert all(len(d.request.body_bytes()) <= MAX_BODY_BYTES for d in report.deliveries)
    assert len(report.deliveries) == 2


def many_events(n: int) -> list[dict]:
    """n valid events of every batched and unbatched kind, each with its own user and messageId."""
    kinds = [e for i, e in enumerate(sample_events()) if i in (0, 1, 2, 6, 9, 11, 13, 15, 18)]
    events = []
    for i in range(n):
        event = copy.deepcopy(kinds[i % len(kinds)])
        event["userId"] = f"user-{i}"
        event["messageId"] = f"msg-{i}"
        if "order_id" in event.get("properties", {}):
            event["properties"].update(order_id=f"order-{i}", orderId=f"order-{i}")
        for traits in (event.get("traits"), event.get("context", {}).get("traits")):
            if isinstance(traits, dict) and "email" in traits:
                traits["email"] = f"user-{i}@example.com"
        events.append(event)
    return events


def test_ten_thousand_events_under_injected_faults_lose_and_duplicate_nothing():
    m = mock(retry_after_seconds=1)
    m.faults.add("5xx", rate=0.05)
    m.faults.add("429", rate=0.03)
    m.faults.add("drop", rate=0.03)
    m.faults.add("latency", "events/trackBulk", rate=0.3, seconds=20)  # stored, then answered too late
    events = many_events(10_000)
    report = send(events, SETTINGS, to=m, progress=False, timeout=5, stable_event_ids=True,
                  retry=RetryPolicy(attempts=3, seed=7))
    counts_add_up(report)
    s = report.summary()
    assert s["rejected"] == 0 and s["retried"] > 0 and s["failed"] > 0
    assert any("ReadTimeout" in why for d in report.deliveries for why in d.retries)

    failed = report.failed_events()
    m.faults.clear()
    resent = report.resend()
    counts_add_up(resent)
    assert resent.summary()["delivered"] == len(failed)

    delivered = [e for r in (report, resent) for o, e in zip(r.outcomes, r.events, strict=True)
                 if o.fate == "delivered"]
    assert len(delivered) == 10_000
    tracked = sorted(e["messageId"] for e in delivered if e["type"] in ("track", "page", "screen")
                     and e.get("event") not in ("Order Completed", "Product Added"))
    stored = m.events_frame().query("eventType == 'customEvent'")
    assert len(stored) == len(tracked) and stored["id"].is_unique
    assert len(m.purchases_frame()) == sum(1 for e in delivered if e.get("event") == "Order Completed")
    identified = {e["userId"] for e in delivered if e["type"] == "identify"}
    assert identified <= set(m.users_frame()["userId"])


class CountingTransport(httpx.AsyncBaseTransport):
    """Answers 200 after a short real wait, counting how many requests were in flight at once."""

    def __init__(self) -> None:
        self.in_flight = self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return httpx.Response(200, json={"msg": "", "code": "Success", "params": None})


def test_asend_keeps_at_most_concurrency_requests_in_flight(monkeypatch):
    counting = CountingTransport()
    m = mock()
    monkeypatch.setattr(m, "transport", lambda: counting)
    events = [{"type": "track", "event": "Order Completed", "userId": f"u{i}",
               "properties": {"total": 1, "products": [{"product_id": "p", "name": "P", "price": 1, "quantity": 1}]}}
              for i in range(20)]
    report = asyncio.run(asend(events, SETTINGS, to=m, concurrency=4, progress=False, pace=False))
    assert report.summary()["delivered"] == 20
    assert counting.most == 4


def test_asend_to_the_mock_matches_send():
    events = sample_events()
    sync = send(events, SETTINGS, progress=False)
    concurrent = asyncio.run(asend(events, SETTINGS, progress=False))
    assert concurrent.frame().equals(sync.frame())


def test_the_key_never_reaches_logs_or_reprs(caplog):
    secret = "secret-key-0123456789"
    settings = Settings(api_key=secret)
    m = mock()
    m.add_api_key(secret)
    m.faults.add("5xx", "events/trackBulk", times=1)
    with caplog.at_level("DEBUG"):
        report = send([track(1)], settings, to=m, progress=False, retry=FAST_RETRY)
    assert report.summary()["delivered"] == 1 and caplog.records  # the client did log the call and its retry
    shown = [caplog.text, repr(report), repr(report.deliveries), report.requests_frame().to_string(),
             report.frame().to_string(), m.journal_frame().to_string()]
    assert not [text for text in shown if secret in text]


def test_a_report_from_asend_can_be_resent():
    m = mock()
    m.faults.add("5xx", "events/trackBulk", status=500)
    report = asyncio.run(asend([track(i) for i in range(3)], SETTINGS, to=m, progress=False, retry=FAST_RETRY))
    assert report.summary()["failed"] == 3

    m.faults.clear()
    again = report.resend()
    assert again.summary()["delivered"] == 3 and again.events == report.events


# ---------------------------------------------------------------- keys, progress, resend, mistakes in Python

ALL_PAGES = Settings.from_rudder({"apiKey": KEY, "trackAllPages": True})


@pytest.mark.parametrize("key", ["…", "ключ", "key\nwith-a-line-break", "tab\tkey"])
def test_a_key_no_http_header_can_carry_is_refused_before_anything_is_sent(key):
    mock = its.MockIterable(clock=its.ManualClock())
    settings = its.Settings.from_rudder({"apiKey": key, "trackAllPages": True})
    with pytest.raises(its.SettingsError, match="apiKey has a character an HTTP header cannot carry") as err:
        its.send(sample_events(), settings, to=mock)
    assert key not in str(err.value)  # a key is never echoed back
    assert mock.journal_frame().empty


@pytest.mark.parametrize("key", [None, "", 123, "wrong-but-printable"])
def test_any_other_key_value_gives_every_event_an_outcome(key):
    report = its.send(sample_events(), its.Settings.from_rudder({"apiKey": key, "trackAllPages": True}),
                      to=its.MockIterable(clock=its.ManualClock()), progress=False)
    counts_add_up(report)
    assert report.summary()["delivered"] == 0  # the mock knows no key: Iterable's 401 for each call


def test_the_device_key_is_checked_too():
    settings = its.Settings(api_key="k", register_device_or_browser_api_key="…")
    with pytest.raises(its.SettingsError, match="registerDeviceOrBrowserApiKey"):
        its.send(sample_events(), settings)


def test_a_short_send_shows_no_progress_bar(capsys):
    its.send(sample_events(), ALL_PAGES)
    assert capsys.readouterr().err == ""


def test_a_send_still_running_after_the_delay_shows_its_bar(capsys, monkeypatch):
    monkeypatch.setattr(send_module, "PROGRESS_DELAY", 0)
    its.send(sample_events(), ALL_PAGES)
    assert "sending to the in-process mock Iterable" in capsys.readouterr().err


def test_resend_leaves_out_what_would_fail_again_and_says_so():
    mock = its.MockIterable(clock=its.ManualClock())
    mock.add_api_key(KEY)
    mock.faults.add("drop", "users/bulkUpdate")  # the identify events get no answer
    first = its.send(sample_events(), ALL_PAGES, to=mock, progress=False)
    by_stage = first.frame().groupby(["fate", "stage"], dropna=False)["event"].apply(list).to_dict()
    undelivered = by_stage[("failed", "delivery")]
    unmappable = by_stage[("failed", "mapping")] + by_stage[("failed", "gateway")]
    filtered = by_stage[("filtered", "event_filter")]  # the group call: rudder-server drops it, never re-sent
    assert undelivered and unmappable and filtered
    mock.faults.clear()
    again = first.resend()
    assert again.events == [first.events[i] for i in undelivered]
    assert again.summary()["delivered"] == len(undelivered) == again.summary()["sent"]
    assert f"re-sent events {', '.join(map(str, undelivered))}" in repr(again)
    assert f"{len(unmappable)} that cannot succeed unchanged" in again.resent and "include_unmappable=True" in again.resent
    everything = first.resend(include_unmappable=True, include_rejected=True)
    assert everything.summary()["sent"] == (first.summary()["sent"] - first.summary()["delivered"]
                                            - first.summary()["filtered"])


EVENT = {"type": "track", "event": "Clicked", "userId": "u1"}


@pytest.mark.parametrize("call", [  # the wrong types are the point
    lambda: its.map_event(EVENT, {"apiKey": "k"}),  # type: ignore[arg-type]
    lambda: its.map_events([EVENT], {"apiKey": "k"}),  # type: ignore[arg-type]
    lambda: its.explain(EVENT, {"apiKey": "k"}),  # type: ignore[arg-type]
    lambda: its.send([EVENT], {"apiKey": "k"}),  # type: ignore[arg-type]
    lambda: its.send([EVENT], None),  # type: ignore[arg-type]
], ids=["map_event", "map_events", "explain", "send", "send-None"])
def test_a_config_given_where_settings_belong_says_how_to_make_them(call):
    with pytest.raises(TypeError, match=r"settings must be a Settings, not \w+: .*Settings.from_rudder\(config\)"):
        call()


@pytest.mark.parametrize("call", [lambda: its.map_events(EVENT, ALL_PAGES), lambda: its.send(EVENT, ALL_PAGES)],
                         ids=["map_events", "send"])
def test_one_event_given_where_a_list_belongs_is_not_read_as_its_keys(call):
    with pytest.raises(TypeError, match=r"for one event, pass \[event\]"):
        call()


def test_live_spelt_in_capitals_is_told_what_live_is():
    with pytest.raises(ValueError, match=r"its.LIVE \(the string 'live'\)"):
        its.send([EVENT], ALL_PAGES, to="LIVE")
