"""Cassettes: key scrubbing, readable YAML, field-level diffs, matching, recording and drift."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import httpx
import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request as VcrRequest

from iterable_sim.cassettes import (RECORDING_KEYS, CassetteSerializer, Scrubber, cassette_sends, diff_bodies,
                                    drift_frame, make_vcr, read_events, record_cassette)
from iterable_sim.cassettes.bodydiff import describe
from iterable_sim.cassettes.cassette import scrubbed_call
from iterable_sim.cassettes.matchers import iterable_body, iterable_data_center, iterable_who
from iterable_sim.cli import main
from iterable_sim.mock import ManualClock, MockIterable
from iterable_sim.samples import sample_events

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
KEY = "live-key-0123456789abcdef"


def vcr_request(uri: str, body: object = None, headers: dict | None = None) -> VcrRequest:
    raw = json.dumps(body).encode() if body is not None else None
    return VcrRequest("POST", uri, raw, {"Content-Type": "application/json", **(headers or {})})


# ---------------------------------------------------------------- scrubbing


@pytest.mark.parametrize("header", ["Api-Key", "Api_Key", "api_key", "API-KEY", "apikey", "Api_key"])
def test_every_spelling_of_the_key_header_is_replaced(header):
    scrubbed = Scrubber().request({"method": "POST", "uri": "https://api.iterable.com/api/events/track",
                                   "body": b"{}", "headers": {header: [KEY], "User-Agent": ["x"]}})
    assert scrubbed["headers"] == {header: ["<API_KEY>"]}


def test_query_parameters_body_fields_and_echoes_are_replaced():
    scrubber = Scrubber({"<DEVICE_API_KEY>": "device-key-fedcba9876"})
    request = scrubber.request({
        "method": "POST", "uri": f"https://api.iterable.com/api/users/update?api_key={KEY}&page=2",
        "body": json.dumps({"email": "a@example.com", "settings": {"apiKey": "device-key-fedcba9876"},
                            "note": f"sent with {KEY}"}).encode(),
        "headers": {"Authorization": [f"Bearer {KEY}"]}})
    response = scrubber.response({"status": {"code": 401, "message": "Unauthorized"},
                                  "headers": {"date": ["Mon"], "x-echo": [KEY], "content-type": ["application/json"]},
                                  "body": {"string": json.dumps({"msg": f"Invalid API key {KEY}"}).encode()}})
    text = json.dumps([request, response], default=lambda b: b.decode())
    assert KEY not in text and "device-key-fedcba9876" not in text
    assert "api_key=<API_KEY>&page=2" in request["uri"]
    assert json.loads(request["body"])["settings"] == {"apiKey": "<DEVICE_API_KEY>"}
    assert response["headers"] == {"x-echo": ["<API_KEY>"], "content-type": ["application/json"]}
    assert "date" not in response["headers"]


def test_a_short_key_is_replaced_where_it_is_sent_but_not_searched_for_elsewhere():
    scrubber = Scrubber()
    request = scrubber.request({"method": "POST", "uri": "https://api.iterable.com/api/events/track",
                                "body": b'{"eventName": "KEYnote"}', "headers": {"Api-Key": ["KEY"]}})
    assert request["headers"]["Api-Key"] == ["<API_KEY>"]
    assert request["body"] == b'{"eventName": "KEYnote"}'


def test_the_iterable_host_named_in_the_host_header_replaces_a_local_server_address():
    scrubbed = Scrubber().request({"method": "POST", "uri": "http://127.0.0.1:53211/api/events/track", "body": None,
                                   "headers": {"host": ["api.eu.iterable.com"]}})
    assert scrubbed["uri"] == "https://api.eu.iterable.com/api/events/track"


def test_the_serializer_scrubs_even_when_the_recording_hooks_were_replaced():
    cassette = {"version": 1, "interactions": [{
        "request": {"method": "POST", "uri": "https://api.iterable.com/api/events/track",
                    "body": json.dumps({"email": "a@example.com", "eventName": "x"}),
                    "headers": {"api_key": [KEY], "Content-Type": ["application/json"]}},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {"content-type": ["application/json"]},
                     "body": {"string": json.dumps({"msg": KEY, "code": "Success"})}}}]}
    text = CassetteSerializer().serialize(cassette)
    assert KEY not in text
    assert '  "eventName": "x"' in text  # one field a line: readable in a diff
    loaded = CassetteSerializer().deserialize(text)["interactions"][0]
    assert json.loads(loaded["request"]["body"]) == {"email": "a@example.com", "eventName": "x"}


def test_cassettes_load_with_the_safe_loader():
    text = "!!python/object/apply:os.system ['echo unsafe']\n"
    with pytest.raises(yaml.YAMLError):
        CassetteSerializer().deserialize(text)


# ---------------------------------------------------------------- diffs and matchers


def test_a_dropped_bulk_event_is_one_removed_item_not_a_shifted_list():
    first = {"userId": "u1", "eventName": "A", "createdAt": 1}
    page = {"userId": "u2", "eventName": "Pricing page", "createdAt": 2}
    last = {"userId": "u3", "eventName": "C", "createdAt": 3, "dataFields": {"n": 1}}
    changes = diff_bodies({"events": [first, page, last]},
                          {"events": [first, {**last, "dataFields": {"n": True}}]})
    assert [(c.item, c.path, c.kind) for c in changes] == [
        ("events[1]", "", "removed"), ("events[2] (now events[1])", "dataFields.n", "changed")]
    text = describe(changes)
    assert 'events[1] — userId "u2", eventName "Pricing page":\n    recorded, not sent now' in text
    assert "dataFields.n: recorded 1, now true" in text


def test_the_body_matcher_ignores_key_order_and_compares_types():
    recorded = vcr_request("https://api.iterable.com/api/users/update", {"email": "a@x.io", "dataFields": {"n": 1}})
    iterable_body(vcr_request("http://127.0.0.1:9/api/users/update", {"dataFields": {"n": 1}, "email": "a@x.io"}),
                  recorded)
    with pytest.raises(AssertionError, match=r'email "a@x.io":\n    dataFields.n: recorded 1, now 1.0'):
        iterable_body(vcr_request("https://api.iterable.com/api/users/update",
                                  {"email": "a@x.io", "dataFields": {"n": 1.0}}), recorded)


def test_the_data_center_matters_but_a_local_server_address_does_not():
    eu = vcr_request("https://api.eu.iterable.com/api/events/track", {})
    iterable_data_center(vcr_request("http://127.0.0.1:8000/api/events/track", {}), eu)
    with pytest.raises(AssertionError, match="recorded for api.eu.iterable.com, this request goes to api.iterable.com"):
        iterable_data_center(vcr_request("https://api.iterable.com/api/events/track", {}), eu)


def test_the_who_matcher_names_the_people_of_both_calls():
    with pytest.raises(AssertionError, match="recorded for userId 'u1'.*this request is for userId 'u2'"):
        iterable_who(vcr_request("https://api.iterable.com/api/events/track", {"userId": "u2"}),
                     vcr_request("https://api.iterable.com/api/events/track", {"userId": "u1"}))


def test_an_in_process_mock_is_recorded_and_replayed_without_it(tmp_path):
    """The cassette captures the HTTP call whatever answers it: here httpx.MockTransport."""
    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(KEY)
    body = {"email": "a@example.com", "eventName": "Signed Up"}
    path = str(tmp_path / "c.yaml")
    with make_vcr(record_mode="all").use_cassette(path), httpx.Client(transport=mock.transport()) as client:
        recorded = client.post("https://api.iterable.com/api/events/track", json=body, headers={"Api-Key": KEY})
    mock.journal.clear()
    with make_vcr(record_mode="none").use_cassette(path), httpx.Client(transport=mock.transport()) as client:
        replayed = client.post("https://api.iterable.com/api/events/track", json=body, headers={"Api-Key": KEY})
    assert replayed.json() == recorded.json() and replayed.status_code == 200
    assert len(mock.journal) == 0  # the mock was not asked again
    assert KEY not in Path(path).read_text()


# ---------------------------------------------------------------- recording, replay and drift


def send_quietly(events, settings, to):
    from iterable_sim.send.client import RetryPolicy
    from iterable_sim.send import send

    return send(events, settings, to, progress=False, pace=False, retry=RetryPolicy(attempts=1))


def test_a_recording_against_the_mock_server_replays_after_the_server_has_stopped(tmp_path):
    events = sample_events()[:16]
    path = record_cassette(tmp_path, "flow", {**RECORDING_KEYS, "trackAllPages": True, "preferUserId": False}, events)
    entry, = cassette_sends(path)  # the server is gone: record_cassette stopped it
    assert entry.settings["apiKey"] == "<API_KEY>" and entry.load_events() == events
    with make_vcr(record_mode="none").use_cassette(str(path)) as cassette:
        report = send_quietly(events, entry.load_settings(), "http://127.0.0.1:9")  # nothing listens there
    assert cassette.all_played and len(cassette) == len(report.deliveries) > 0
    assert [d.status for d in report.deliveries] == [r["status"]["code"] for r in cassette.responses]


def test_keys_a_recording_used_are_in_no_file_it_wrote(tmp_path):
    mock = MockIterable(rate_limits=False)
    mock.add_api_key(KEY)
    mock.add_api_key("device-key-fedcba9876")
    with mock.serve() as url:
        record_cassette(tmp_path, "own", {"apiKey": KEY, "registerDeviceOrBrowserApiKey": "device-key-fedcba9876",
                                          "trackAllPages": True}, sample_events()[:5], to=url)
    texts = {p.name: p.read_text() for p in tmp_path.iterdir()}
    assert set(texts) == {"own.yaml", "own.events.json"}
    assert "<DEVICE_API_KEY>" in texts["own.yaml"] and "<API_KEY>" in texts["own.yaml"]
    assert not [name for name, text in texts.items() if KEY in text or "device-key-fedcba9876" in text]


def test_no_key_in_the_committed_cassettes():
    from iterable_sim.pytest_plugin import TEST_KEYS

    keys = [*RECORDING_KEYS.values(), *TEST_KEYS.values()]
    files = [p for p in CASSETTES.rglob("*") if p.is_file()]
    assert files and not [(p.name, k) for p in files for k in keys if k in p.read_text("utf-8")]
    for path in CASSETTES.glob("*.yaml"):
        for interaction in CassetteSerializer().deserialize(path.read_text("utf-8"))["interactions"]:
            secrets = {k: v for k, v in interaction["request"]["headers"].items() if re.search("(?i)api.?key", k)}
            assert secrets and all(re.fullmatch("<[A-Z_]+>", v[0]) for v in secrets.values()), path.name


def test_re_recording_a_seed_cassette_gives_the_same_file(tmp_path):
    from iterable_sim.samples import SEED_PAGE_SETTINGS

    name = "eu_data_center"
    record_cassette(tmp_path, name, {**RECORDING_KEYS, **SEED_PAGE_SETTINGS[name]})
    assert (tmp_path / f"{name}.yaml").read_text() == (CASSETTES / f"{name}.yaml").read_text()


def test_flipping_one_setting_fails_the_replay_naming_event_and_field():
    path = CASSETTES / "track_all_pages.yaml"
    entry, = cassette_sends(path)
    flipped = entry.load_settings({"mapToSingleEvent": True})
    with pytest.raises(CannotOverwriteExistingCassetteException) as caught:
        with make_vcr(record_mode="none").use_cassette(str(path)):
            send_quietly(entry.load_events(), flipped, MockIterable())
    message = str(caught.value)
    assert "no recorded interaction matches it" in message
    assert 'userId "user-1", email "alex@example.com", eventName "Application Home page"' in message
    assert 'eventName: recorded "Application Home page", now "Loaded a Page"' in message


def test_the_drift_frame_is_empty_for_the_current_mapping_and_names_what_a_setting_would_change():
    assert drift_frame(CASSETTES).empty
    frame = drift_frame(CASSETTES, settings={"mapToSingleEvent": True}, cassettes=["track_all_pages"])
    home = frame[(frame["userId"] == "user-1") & (frame["field"] == "eventName")]
    # in both trackBulk calls: the one Iterable refused for another event's missing eventName, and the re-sent rest
    assert home[["recorded", "now"]].values.tolist() == [['"Application Home page"', '"Loaded a Page"']] * 2
    assert set(frame["cassette"]) == {"cassettes/track_all_pages.yaml"}
    moved = drift_frame(CASSETTES, settings={"dataCenter": "USDC"}, cassettes=["eu_data_center"])
    assert set(moved["field"]) == {"host"} and set(moved["now"]) == {'"api.iterable.com"'}


def test_cassettes_diff_command(capsys):
    assert main(["cassettes", "diff", str(CASSETTES)]) == 0
    assert "no drift" in capsys.readouterr().out
    assert main(["cassettes", "diff", str(CASSETTES), "--cassette", "track_all_pages", "--map-to-single-event"]) == 1
    out = capsys.readouterr().out
    assert 'eventName: recorded "Application Home page", now "Loaded a Page"' in out
    assert main(["cassettes", "diff", str(CASSETTES), "--cassette", "nope"]) == 2
    assert "no cassette named nope" in capsys.readouterr().err


def test_record_and_diff_read_your_events_file_from_where_it_is(tmp_path, capsys):
    """No frozen copy: after the events file is edited, the diff sees the edit; recording the
    cassette again from the events and settings it notes accepts it."""
    events = tmp_path / "data" / "events.jsonl"
    events.parent.mkdir()
    chosen = sample_events()[6:8]
    events.write_text("\n".join(json.dumps(e) for e in chosen))
    cassette = tmp_path / "cassettes" / "mine.yaml"
    assert main(["record", str(cassette), "--events", str(events), "--track-named-pages"]) == 0
    assert f"recorded {cassette}" in capsys.readouterr().out
    entry, = cassette_sends(cassette)
    assert entry.events == "../data/events.jsonl"
    assert entry.settings["trackNamedPages"] is True and entry.settings["apiKey"] == "<API_KEY>"
    assert not list((tmp_path / "cassettes").glob("*.json"))  # no copy of the events
    assert main(["cassettes", "diff", str(tmp_path / "cassettes")]) == 0
    capsys.readouterr()
    chosen[0]["event"] = "Email Clicked"
    events.write_text("\n".join(json.dumps(e) for e in chosen))
    assert main(["cassettes", "diff", str(tmp_path / "cassettes")]) == 1
    assert 'eventName: recorded "Email Opened", now "Email Clicked"' in capsys.readouterr().out
    assert main(["record", str(cassette)]) == 0  # accept: record again from the file as it is now
    assert main(["cassettes", "diff", str(tmp_path / "cassettes")]) == 0
    assert main(["record"]) == 2
    assert "--samples" in capsys.readouterr().err


def test_record_and_diff_say_what_is_wrong_with_the_events_in_one_line(tmp_path, capsys, monkeypatch):
    cassette = tmp_path / "cassettes" / "mine.yaml"
    assert main(["record", str(cassette), "--events", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == f"iterable-sim record: no such events file: {tmp_path / 'missing.jsonl'}"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(sample_events()[6]) + "\n{oops\n")
    assert main(["record", str(cassette), "--events", str(bad)]) == 2
    assert "bad.jsonl, line 2: not JSON (" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(sample_events()[6]) + "\n"))
    assert main(["record", str(cassette), "--events", "-", "--track-named-pages"]) == 0
    entry, = cassette_sends(cassette)
    assert entry.events == "mine.events.json"  # standard input has no file to name: a copy beside the cassette
    (tmp_path / "cassettes" / "mine.events.json").unlink()
    capsys.readouterr()
    assert main(["cassettes", "diff", str(tmp_path / "cassettes")]) == 2
    assert "no such events file" in capsys.readouterr().err


def test_read_events_remembers_the_file(tmp_path):
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"type": "track", "event": "A", "userId": "u"}))
    events = read_events(path)
    assert events == [{"type": "track", "event": "A", "userId": "u"}] and events.source == str(path.resolve())


def test_a_replay_looks_calls_up_and_builds_a_diff_only_for_a_call_that_differs(tmp_path, monkeypatch):
    """Replay cost stays linear: a matching call is one index look-up, no comparison with the
    other recordings; the field diff is built for the differing call alone."""
    import iterable_sim.cassettes.cassette as module
    from iterable_sim.cassettes.cassette import CassetteMismatch

    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(KEY)
    bodies = [{"email": f"p{i}@example.com", "eventName": "Viewed", "dataFields": {"n": i}} for i in range(60)]
    path = str(tmp_path / "many.yaml")

    def post_all(bodies):
        with httpx.Client(transport=mock.transport()) as client:
            for body in bodies:
                client.post("https://api.iterable.com/api/events/track", json=body, headers={"Api-Key": KEY})

    with make_vcr(record_mode="all").use_cassette(path):
        post_all(bodies)
    diffs = []
    monkeypatch.setattr(module, "diff_bodies", lambda a, b: diffs.append((a, b)) or [])
    with make_vcr(record_mode="none").use_cassette(path) as cassette:
        post_all(bodies)
    assert cassette.all_played and diffs == []
    changed = [*bodies[:59], {**bodies[59], "dataFields": {"n": "59"}}]
    with pytest.raises(CassetteMismatch), make_vcr(record_mode="none").use_cassette(path):
        post_all(changed)
    assert len(diffs) == 1 and diffs[0][0]["dataFields"] == {"n": 59}


def test_keys_are_scrubbed_where_the_cassette_is_written_whatever_the_serializer_and_hooks(tmp_path):
    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(KEY)
    vcr = make_vcr(record_mode="all", serializer="json", before_record_request=lambda request: request,
                   before_record_response=lambda response: response)
    with vcr.use_cassette(str(tmp_path / "c.json")), httpx.Client(transport=mock.transport()) as client:
        client.post(f"https://api.iterable.com/api/users/update?api_key={KEY}", headers={"Api-Key": KEY},
                    json={"email": "a@example.com", "dataFields": {"note": f"key {KEY}"}})
    text = (tmp_path / "c.json").read_text()
    assert KEY not in text and "<API_KEY>" in text


def test_a_profile_call_recorded_pseudonymised_matches_when_the_repository_keeps_personal_data():
    """Matching pseudonymises both sides the same way: a person's `name` in users/update included."""
    body = json.dumps({"email": "ada@gmail.com", "dataFields": {"name": "Ada Lovelace"}}).encode()
    request = VcrRequest("POST", "https://api.iterable.com/api/users/update", body, {"Api-Key": KEY})
    recorded = scrubbed_call(Scrubber(personal_data=True), request)
    replayed = scrubbed_call(Scrubber(personal_data=False), request)
    assert recorded.exact == replayed.exact


class _ReplayedCassette:
    """What failure_message reads of an IterableCassette after a replay."""

    def __init__(self, misses, calls, unplayed):
        self.misses, self.calls, self._unplayed = misses, calls, unplayed
        self.rewound, self.path = True, "tests/cassettes/t.yaml"
        self.scrubber = Scrubber()

    def __len__(self):
        return len(self.calls)

    def unplayed(self):
        return self._unplayed

    def release_change(self):
        return None  # replayed under the release it was recorded under


def test_a_failed_replays_message_says_every_part_once():
    from types import SimpleNamespace

    from iterable_sim.cassettes.report import MAX_CALLS_SHOWN, failure_message

    misses = [SimpleNamespace(recorded=i, describe=lambda i=i: f"call {i + 1} differs") for i in range(MAX_CALLS_SHOWN + 2)]
    people = [{"email": f"p{i}@example.com", "eventName": "Viewed"} for i in range(7)]
    calls = {0: SimpleNamespace(method="POST", endpoint="events/trackBulk", body={"events": people})}
    events = [{"type": "track", "event": "Viewed", "traits": {"email": "p1@example.com"}}, {"type": "identify", "userId": "u9"}]
    outcomes = [SimpleNamespace(fate="failed", stage="mapping", index=0, reason="a reason"),
                SimpleNamespace(fate="failed", stage="interrupted", index=1, reason="interrupted")]
    message = failure_message(_ReplayedCassette(misses, calls, [0]), strict=True, nodeid="tests/test_x.py::test_y",
                              reports=[SimpleNamespace(outcomes=outcomes, events=events)], warnings=["w1", "w1", "w2"],
                              test_error="AssertionError: boom")
    lines = message.splitlines()
    assert lines[0] == ("Iterable calls differ from the cassette: 102 call(s) differ, 1 recorded call(s) not made "
                        "(tests/cassettes/t.yaml).")
    assert f"call {MAX_CALLS_SHOWN} differs" in lines and f"call {MAX_CALLS_SHOWN + 1} differs" not in lines
    assert "… and 2 more differing call(s): `iterable-sim cassettes diff tests/cassettes/t.yaml` lists them all" in lines
    start = lines.index("Recorded, not made now:")
    assert lines[start + 1].startswith('  call 1: POST events/trackBulk: email "p0@example.com"')
    assert lines[start + 1].endswith("; … 2 more")
    assert lines[start + 2:start + 5] == [
        '    why: event 0 (track, "Viewed") failed in mapping: a reason',
        "  Events the send report says were not sent:",
        '    event 1 (identify, userId "u9") failed in an interrupted send: interrupted']
    assert lines[lines.index("Settings warnings:") + 1:][:2] == ["  w1", "  w2"]
    assert "The test also failed: AssertionError: boom" in lines
    assert lines[-2:] == ["  pytest --iterable-accept 'tests/test_x.py::test_y'",
                          "then review the cassette's diff: git diff -- tests/cassettes/t.yaml"]
