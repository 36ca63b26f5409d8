"""Every tool, one events file and one real-shaped RudderStack export: the same requests.

The export is a rudder-server workspaceConfig.json (tests/data) whose Iterable destination has consent
settings, a device key and page settings of its own (Track All Pages off); the events
(tests/data/tool_agreement_events.jsonl) are an identify, a track, a page, a screen, an alias, an Order
Completed, a Product Added, a group call (filtered by rudder-server), an event with `"Iterable": false`
(filtered), a token registration, an event whose consent is denied (filtered) and an unnamed page (refused).
Each carries a timestamp, so Iterable's createdAt does not depend on the gateway's clock, which is pinned
anyway where a tool takes it.

Two kinds of requests are compared. The transformer's, one event at a time: `map_events`, `iterable-sim map
--format jsonl`, the explorer widget and crosscheck's own side. The calls delivered to Iterable, batched by
the router: `send()`, `iterable-sim send` to a mock server, `iterable-sim record`'s cassette, the pytest
plugin's cassette and what `cassettes diff` sends now. The second kind is the first routed, as
RudderStack's router does (`route`). Each request: method, URL, JSON body, and which key its api_key header
carries (the API key, the device key, or none).
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterable

import httpx
import pytest

from iterable_sim import MockIterable, crosscheck, map_events, read_settings, route, send
from iterable_sim.cassettes import CassetteSerializer
from iterable_sim.cli import main
from iterable_sim.mapping.request import endpoint_path
from iterable_sim.mapping.settings import Settings
from iterable_sim.pipeline import events_for_transformer
from iterable_sim.redact import mask
from iterable_sim.widgets.explorer import SettingsExplorer

DATA = Path(__file__).parent / "data"
EVENTS = DATA / "tool_agreement_events.jsonl"
EXPORT = DATA / "workspaceConfig.json"
RECEIVED_AT = "2026-01-05T10:00:30.000Z"
ENDPOINTS = ["users/update", "events/track", "events/track", "events/track", "users/updateEmail",
             "commerce/trackPurchase", "commerce/updateCart", "users/update", "users/registerDeviceToken"]

Call = tuple[str, str, Any, str | None]  # method, URL, JSON body, the key its api_key header carries


def events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EVENTS.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return read_settings(EXPORT)


def which_key(settings: Settings, value: Any, *, absent: bool = False) -> str | None:
    """'api', 'device' or None: which key of the settings a header value is (its value, mask or placeholder)."""
    if absent:
        return None
    for name, key, placeholder in (("api", settings.api_key, "<API_KEY>"),
                                   ("device", settings.register_device_or_browser_api_key, "<DEVICE_API_KEY>")):
        if value in (key, mask(key), placeholder):
            return name
    raise AssertionError(f"an api_key header that is neither key: {value!r}")


def header(headers: Any, settings: Settings) -> str | None:
    found = [v for k, v in dict(headers).items() if str(k).lower() == "api_key"]
    value = found[0][0] if found and isinstance(found[0], list) else (found[0] if found else None)
    return which_key(settings, value, absent=not found)


def request_calls(requests: Iterable[Any], settings: Settings) -> list[Call]:
    return [(r.method, r.url, r.json, header(r.headers, settings)) for r in requests]


@pytest.fixture(scope="module")
def transformer_requests(settings: Settings) -> list[Call]:
    """The reference: `map_events`, the transformer's requests event by event."""
    calls = request_calls(map_events(events(), settings, received_at=RECEIVED_AT).requests, settings)
    assert [url.split("/api/", 1)[1] for _, url, _, _ in calls] == ENDPOINTS
    assert all(url.startswith("https://api.iterable.com/api/") for _, url, _, _ in calls)
    assert [key for *_, key in calls] == ["api"] * 8 + ["device"]
    assert calls[1][2]["createdAt"] == 1767607202250  # the event's timestamp, 2026-01-05T10:00:02.250Z
    return calls


@pytest.fixture(scope="module")
def delivered_calls(settings: Settings) -> list[Call]:
    """The reference for what reaches Iterable: Python `send()` to a fresh mock."""
    report = send(events(), settings, progress=False, received_at=RECEIVED_AT)
    return [(d.request.method, d.request.url, json.loads(d.request.body_bytes()), header(d.request.headers, settings))
            for d in report.deliveries]


def cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out), out.getvalue()


# ---------------------------------------------------------------- the transformer's requests


def test_the_command_lines_map_gives_map_events_requests(transformer_requests: list[Call]) -> None:
    code, out = cli(["map", str(EVENTS), "--settings", str(EXPORT), "--format", "jsonl"])
    assert code == 1  # the unnamed page is refused (Track All Pages is off in this export)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["method"], line["url"], line["json"]) for line in lines if "url" in line] == \
        [call[:3] for call in transformer_requests]  # map's JSON lines carry no headers
    assert [(line["event"], line["error"]) for line in lines if "error" in line] == [(11, "Invalid page call")]


def test_the_explorer_widget_shows_map_events_requests(settings: Settings, transformer_requests: list[Call]) -> None:
    explorer = SettingsExplorer(events(), settings, received_at=RECEIVED_AT)
    assert explorer.settings is settings
    assert request_calls(explorer.results.requests, settings) == transformer_requests
    frame = explorer.requests_frame()
    assert [f"https://{host}/api/{endpoint}" for host, endpoint in zip(frame["host"], frame["endpoint"], strict=True)] == \
        [url for _, url, _, _ in transformer_requests]
    reference = map_events(events(), settings, received_at=RECEIVED_AT).requests_frame()
    assert frame.drop(columns=["host", "preflight", "preflight_reason"]).equals(reference)


def test_crosschecks_own_side_gives_map_events_requests(settings: Settings, transformer_requests: list[Call]) -> None:
    """A transformer answering with map_events' requests finds crosscheck's own side identical, and is sent the
    destination's Config."""
    passed = events_for_transformer(events(), settings.pipeline_config(), received_at=RECEIVED_AT)
    by_message: dict[str, list[Call]] = {}
    paths: dict[str, list[str | None]] = {}  # each request's endpointPath, as RudderStack's output carries it
    results = map_events(events(), settings, received_at=RECEIVED_AT)
    for result in results:
        if result.requests:
            by_message[result.event["messageId"]] = request_calls(result.requests, settings)
            paths[result.event["messageId"]] = [endpoint_path(r, settings.release) for r in result.requests]
    configs = []

    def transformer(request: httpx.Request) -> httpx.Response:
        answer = []
        for item in json.loads(request.content):
            configs.append(item["destination"]["Config"])
            message_id = item["message"]["messageId"]
            for (method, url, body, key), path in zip(by_message.get(message_id, []), paths.get(message_id, []),
                                                      strict=True):
                headers = {"Content-Type": "application/json",
                           "api_key": settings.api_key if key == "api" else settings.register_device_or_browser_api_key}
                answer.append({"metadata": item["metadata"], "statusCode": 200,
                               "output": {"method": method, "endpoint": url, "headers": headers, "params": {},
                                          "body": {"JSON": body}, "endpointPath": path}})
            if item["message"]["messageId"] not in by_message:  # the unnamed page
                answer.append({"metadata": item["metadata"], "statusCode": 400, "error": "Invalid page call"})
        return httpx.Response(200, json=answer)

    report = crosscheck([event for _, event in passed.events], settings, "http://transformer", progress=False,
                        transport=httpx.MockTransport(transformer))
    assert report.ok and report.events == len(passed.events) == 9, report.frame()
    assert configs and all(config == dict(settings.rudder_config or {}) for config in configs)
    assert sum(len(calls) for calls in by_message.values()) == len(transformer_requests)


# ---------------------------------------------------------------- what reaches Iterable


def test_send_delivers_the_transformers_requests_routed(settings: Settings, delivered_calls: list[Call]) -> None:
    passed = events_for_transformer(events(), settings.pipeline_config(), received_at=RECEIVED_AT)
    batches = route([(index, event, settings) for index, event in passed.events])
    routed = request_calls([request for batch in batches for request in batch.requests], settings)
    assert delivered_calls == routed  # no call is resent here: a bulk call's bad item is refused by no mock
    assert [url.split("/api/", 1)[1] for _, url, _, _ in routed] == [
        "users/bulkUpdate", "users/registerDeviceToken", "events/trackBulk", "users/updateEmail",
        "commerce/trackPurchase", "commerce/updateCart"]


def test_the_command_lines_send_delivers_what_send_does(settings: Settings, delivered_calls: list[Call]) -> None:
    mock = MockIterable()
    mock.accept_keys_of(settings)
    with mock.serve() as url:
        cli(["send", str(EVENTS), "--settings", str(EXPORT), "--to", url, "--no-progress", "--format", "jsonl"])
    received = [(entry.method, "https://api.iterable.com/api/" + entry.url.split("/api/", 1)[1],
                 json.loads(entry.request_body), which_key(settings, entry.api_key, absent=entry.api_key is None))
                for entry in mock.journal]
    assert received == delivered_calls


def cassette_calls(path: Path, settings: Settings) -> list[Call]:
    interactions = CassetteSerializer().deserialize(path.read_text("utf-8"))["interactions"]
    return [(i["request"]["method"], i["request"]["uri"], json.loads(i["request"]["body"]),
             header(i["request"]["headers"], settings)) for i in interactions]


def test_record_and_the_pytest_plugin_record_what_send_delivers(pytester: pytest.Pytester, settings: Settings,
                                                                delivered_calls: list[Call]) -> None:
    cassettes = cassette_text(pytester, EXPORT.read_text("utf-8"))
    keys = (settings.api_key, settings.register_device_or_browser_api_key)
    assert all(key and key not in cassettes for key in keys)  # the export's keys were sent, and scrubbed
    recorded = cassette_calls(pytester.path / "recorded.yaml", settings)
    from_pytest = cassette_calls(pytester.path / "cassettes" / "test_agree" / "test_send.yaml", settings)
    assert recorded == from_pytest == delivered_calls
    code, out = cli(["cassettes", "diff", str(pytester.path / "recorded.yaml"), str(pytester.path / "cassettes")])
    assert (code, out) == (0, "no drift: the current mapping sends exactly what the 2 cassette(s) recorded\n")


PYTEST_TEST = '''
import pytest

@pytest.mark.vcr
def test_send(iterable_send):
    report = iterable_send(received_at="2026-01-05T10:00:30.000Z")
    assert report.summary()["filtered"] == 3 and report.summary()["sent"] == 12
'''


def cassette_text(pytester: pytest.Pytester, export: str) -> str:
    """Record with `iterable-sim record` and with the pytest plugin, both reading the same two files."""
    (pytester.path / "events.jsonl").write_text(EVENTS.read_text("utf-8"), "utf-8")
    (pytester.path / "workspaceConfig.json").write_text(export, "utf-8")
    code, _ = cli(["record", "--events", str(pytester.path / "events.jsonl"), "--settings",
                   str(pytester.path / "workspaceConfig.json"), "--no-personal-data", str(pytester.path / "recorded.yaml")])
    assert code == 0
    pytester.makeini("[pytest]\niterable_sim_events = events.jsonl\niterable_sim_settings = workspaceConfig.json\n"
                     "iterable_sim_personal_data = keep\n")
    pytester.makepyfile(test_agree=PYTEST_TEST)
    result = pytester.runpytest("-p", "no:nbval", "-p", "no:hypothesispytest", "-p", "no:anyio", "--record-mode=once")
    result.assert_outcomes(passed=1)
    return "".join(p.read_text("utf-8") for p in pytester.path.rglob("*.yaml"))
