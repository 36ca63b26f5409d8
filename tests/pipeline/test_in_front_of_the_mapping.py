"""rudder-server's steps in front of the mapping, as every tool applies them (Settings.rudder_server)."""
import random

import pytest

import iterable_sim as its
from iterable_sim.mapping.events import map_event
from iterable_sim.pipeline import PipelineConfig, run_pipeline

CONFIG = {"apiKey": "k", "trackAllPages": True, "oneTrustCookieCategories": [{"oneTrustCookieCategory": "C0004"}]}
SETTINGS = its.Settings.from_rudder(CONFIG)
RECEIVED = "2026-01-05T10:00:07.123Z"
SDK_TRACK = {"type": "track", "event": "Order Shipped", "userId": "u-1", "anonymousId": "a-1",
             "originalTimestamp": "2026-01-05T10:00:00.000Z", "sentAt": "2026-01-05T10:00:05.000Z"}


def outcome(result):
    return (result.step, result.status) if not result.ok else "mapped"


def test_the_steps_decide_before_the_transformer_and_say_which_step_with_rudder_servers_status():
    events = [{"type": "group", "userId": "u"},
              {**SDK_TRACK, "integrations": {"Iterable": False}},
              {**SDK_TRACK, "integrations": {"All": False}},
              {**SDK_TRACK, "context": {"consentManagement": {"deniedConsentIds": ["C0004"]}}},
              {"type": "", "userId": "u"},
              {"type": "track", "event": "x"},  # no userId nor anonymousId
              SDK_TRACK]
    results = its.map_events(events, SETTINGS, received_at=RECEIVED)
    assert [outcome(r) for r in results] == [
        ("event_filter", 298), ("destination_filter", 298), ("destination_filter", 298),
        ("destination_filter", 298), ("event_filter", 400), ("gateway", 400), "mapped"]
    assert results[0].message == "Message type not supported" and results[0].filtered and not results[0].failed
    assert results[4].message == "Invalid message type. Type assertion failed" and results[4].failed
    assert results.summary() == {"events": 7, "mapped": 1, "filtered": 4, "failed": 2, "requests": 1}
    assert results.filtered_frame()["event"].tolist() == [0, 1, 2, 3]
    assert results.errors_frame()[["event", "step"]].values.tolist() == [[4, "event_filter"], [5, "gateway"]]


def test_createdAt_follows_the_timestamp_rudder_server_computes_from_receivedAt_sentAt_and_originalTimestamp():
    request, = its.map_events([SDK_TRACK], SETTINGS, received_at=RECEIVED).requests
    # timestamp = receivedAt - (sentAt - originalTimestamp) = 10:00:02.123 (processor/processor.go:1044-1049)
    assert request.json["createdAt"] == 1767607202123
    as_transformer_input, = map_event(SDK_TRACK, SETTINGS)
    assert as_transformer_input.json["createdAt"] == 1767607200000  # the transformer alone: originalTimestamp


def test_an_archived_event_keeps_the_receivedAt_its_gateway_gave_it():
    archived = {**SDK_TRACK, "receivedAt": "2026-01-05T11:00:07.123Z", "request_ip": "203.0.113.7",
                "rudderId": "r-1", "messageId": "m-1"}
    late, = its.map_events([archived], SETTINGS, received_at=RECEIVED, through_gateway=True).requests
    assert late.json["createdAt"] == 1767607202123 + 3600_000
    again, = its.map_events([archived], SETTINGS, received_at=RECEIVED).requests  # a gateway receives it anew
    assert again.json["createdAt"] == 1767607202123


def test_turned_off_the_events_are_the_transformers_own_input():
    off = its.Settings.from_rudder(CONFIG, rudder_server=False)
    group, track = its.map_events([{"type": "group", "userId": "u"}, SDK_TRACK], off)
    assert group.step == "transformer" and str(group.error) == "Message type group not supported"
    assert track.requests == map_event(SDK_TRACK, off)
    assert not its.Settings(rudder_server=False).rudder_server and "rudder_server=False" in repr(off)
    with pytest.raises(its.SettingsError, match="rudder_server must be True or False"):
        its.Settings.from_rudder(CONFIG, rudder_server="no")


def test_a_user_transformation_drops_changes_or_fans_out_events():
    def transform(event, metadata):
        if event.get("event") == "drop me":
            return None
        if event.get("event") == "twice":
            return [{**event, "event": "first"}, {**event, "event": "second"}]
        return {**event, "properties": {"seen_by": metadata(event)["destinationType"]}}

    settings = its.Settings.from_rudder(CONFIG, pipeline=PipelineConfig(user_transformation=transform))
    events = [{**SDK_TRACK, "event": name} for name in ("drop me", "twice", "kept")]
    dropped, fanned, kept = its.map_events(events, settings, received_at=RECEIVED)
    assert (dropped.step, dropped.status, dropped.filtered) == ("user_transformer", 298, True)
    assert [r.json["eventName"] for r in fanned.requests] == ["first", "second"]
    assert kept.requests[0].json["dataFields"] == {"seen_by": "ITERABLE"}
    report = its.send(events, settings, progress=False, received_at=RECEIVED)
    assert [o.fate for o in report.outcomes] == ["filtered", "delivered", "delivered"]
    assert report.mock.events_frame()["eventName"].tolist() == ["first", "second", "kept"]


def test_map_and_send_give_every_event_the_same_fate_and_send_never_sends_a_filtered_one():
    events = [SDK_TRACK, {"type": "group", "userId": "u"}, {**SDK_TRACK, "integrations": {"Iterable": False}},
              {"type": "alias", "userId": "u"}]
    mapped = its.map_events(events, SETTINGS, received_at=RECEIVED)
    report = its.send(events, SETTINGS, progress=False, received_at=RECEIVED)
    assert [o.fate for o in report.outcomes] == ["delivered", "filtered", "filtered", "failed"]
    assert [o.stage for o in report.outcomes] == [None, "event_filter", "destination_filter", "mapping"]
    assert [o.status for o in report.outcomes][1:] == [r.status for r in mapped][1:]
    assert [d.request.json["events"] for d in report.deliveries] == [[r.json for r in mapped.requests]]
    assert "1 delivered, 2 filtered, 0 rejected, 1 failed" in repr(report)
    assert report.resend(include_unmappable=True).events == [events[3]]  # filtered events are not re-sent


def test_on_generated_events_the_stage_is_run_pipeline_then_map_event():
    rng = random.Random(20)
    types = ["track", "identify", "page", "screen", "alias", "group", "Track", " page ", 7, None]
    events = []
    for n in range(400):
        event = {"type": rng.choice(types), "userId": rng.choice([f"u{n}", "", None]),
                 "anonymousId": rng.choice([f"a{n}", None]), "event": rng.choice(["Clicked", "Order Completed"]),
                 "name": rng.choice(["Home", None]), "previousId": "p",
                 "originalTimestamp": rng.choice(["2026-01-05T10:00:00Z", "2026-01-05T10:00:00.5+02:00", None]),
                 "sentAt": rng.choice(["2026-01-05T10:00:01.250Z", "yesterday", None]),
                 "integrations": rng.choice([{}, {"Iterable": False}, {"All": False, "Iterable": True}, "x"]),
                 "properties": {"total": rng.choice([1, 2.5, None]), "email": rng.choice(["a@b.co", None])}}
        events.append({k: v for k, v in event.items() if v is not None})
    results = its.map_events(events, SETTINGS, received_at=RECEIVED)
    for event, result in zip(events, results, strict=True):
        fate, = run_pipeline([event], SETTINGS.pipeline_config(), received_at=RECEIVED)
        if not fate.passed:
            assert (result.step, result.status) == (fate.step, fate.status)
            continue
        try:
            expected = [r for output in fate.events for r in map_event(output, SETTINGS)]
        except its.MappingError as err:
            assert str(result.error) == str(err)
        else:
            assert result.requests == expected
    assert {r.step for r in results} >= {None, "transformer", "gateway", "destination_filter", "event_filter"}


def test_the_command_line_takes_the_gateways_clock_and_can_turn_the_steps_off(tmp_path, capsys):
    import json

    from iterable_sim.cli import main

    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in [SDK_TRACK, {"type": "group", "userId": "u"}]) + "\n")
    base = ["map", str(events), "--format", "jsonl", "--api-key", "k"]
    assert main([*base, "--received-at", RECEIVED]) == 0  # a filtered event is not an error
    mapped, filtered = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert mapped["json"]["createdAt"] == 1767607202123
    assert filtered == {"event": 1, "filtered": "Message type not supported", "status": 298, "stage": "event_filter"}
    assert main([*base, "--no-rudder-server"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["json"]["createdAt"] == 1767607200000 and lines[1]["error"] == "Message type group not supported"
    assert main([*base, "--received-at", "soon"]) == 2
    assert "--received-at 'soon' is not an RFC 3339 time" in capsys.readouterr().err
    assert main(["send", str(events), "--format", "jsonl", "--received-at", RECEIVED, "--no-progress",
                 "--api-key", "k"]) == 0
    assert [json.loads(line)["fate"] for line in capsys.readouterr().out.splitlines()] == ["delivered", "filtered"]
