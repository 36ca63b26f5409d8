"""RudderStack's configs in (read_settings, Settings.for_destination, the CLI's --settings and --destination),
every key of Iterable's destination definition known, and the tools that used to read a config their own way."""
from __future__ import annotations

import copy
import dataclasses
import importlib
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from iterable_sim import MockIterable, Settings, crosscheck, map_events, read_settings, send
from iterable_sim.cassettes import cassette_sends, record_cassette
from iterable_sim.cassettes.record import RecordingError
from iterable_sim.cli import main
from iterable_sim.pipeline import RudderConfigError, read_rudder_config
from iterable_sim.pipeline.definition import DEFINITION_KEYS, KNOWN_KEYS
from iterable_sim.redact import mask

DATA = Path(__file__).parent / "data"
WORKSPACE = DATA / "workspaceConfig.json"
EXPORT = DATA / "destination_export.json"
RECEIVED_AT = "2026-01-05T10:00:07.123Z"
IDENTIFY_WITH_TOKEN = {"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}, "messageId": "m-1",
                       "timestamp": "2026-01-05T10:00:00.000Z", "context": {"device": {"token": "tok", "type": "ios"}}}


def load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    out = io.StringIO()
    code = main(argv, out)
    return code, out.getvalue(), capsys.readouterr().err


def two_destinations(tmp_path: Path) -> Path:
    config = load(WORKSPACE)
    second = copy.deepcopy(config["sources"][0]["destinations"][0])
    second.update(id="dst-eu", name="Iterable EU")
    second["config"]["dataCenter"] = "EUDC"
    config["sources"][0]["destinations"].append(second)
    path = tmp_path / "workspaceConfig.json"
    path.write_text(json.dumps(config), "utf-8")
    return path


# ---------------------------------------------------------------- every key of the definition known


def test_every_key_of_iterables_definition_is_accepted_quietly() -> None:
    settings = Settings.from_rudder({**{key: None for key in KNOWN_KEYS}, "apiKey": "k", "trackAllPages": True})
    assert not [w for w in settings.warnings if "unknown key" in w]
    assert DEFINITION_KEYS >= {"eventFilteringOption", "whitelistedEvents", "blacklistedEvents",
                               "oneTrustCookieCategories", "consentManagement", "connectionMode", "ketchConsentPurposes"}


def test_a_truly_unknown_key_still_warns_with_the_known_key_it_resembles() -> None:
    settings = Settings.from_rudder({"trackAllPages": True, "oneTrustCookieCategory": [], "colour": "red"})
    assert settings.warnings == (
        "unknown key 'oneTrustCookieCategory' is ignored (did you mean 'oneTrustCookieCategories'?)",
        "unknown key 'colour' is ignored")


@pytest.mark.parametrize("path", [WORKSPACE, EXPORT])
def test_a_real_shaped_export_gives_no_warning(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert read_settings(path).warnings == ()
    events = DATA / "one_track.json"
    code, out, err = cli(["map", str(events), "--settings", str(path), "--format", "jsonl"], capsys)
    assert code == 0 and err == "" and json.loads(out)["url"] == "https://api.iterable.com/api/events/track"


# ---------------------------------------------------------------- Settings of a destination


def test_for_destination_reads_its_config_and_keeps_its_context() -> None:
    destination = read_rudder_config(load(WORKSPACE)).choose()
    settings = Settings.for_destination(destination)
    assert settings.destination is destination and dict(settings.rudder_config or {}) == dict(destination.config)
    assert settings == Settings.from_rudder(dict(destination.config))
    pipeline = settings.pipeline_config()
    assert pipeline is not None
    assert (pipeline.destination_id, pipeline.source_id, pipeline.source_definition_type) == (
        "2Xq7Iterab1eProdDest0001", "2Xq7WebSource00000000001", "web")
    assert Settings.for_destination(destination, rudder_server=False).pipeline_config() is None
    assert dataclasses.replace(settings, track_all_pages=True).destination is None  # no longer that destination's
    with pytest.raises(TypeError, match="for a Config, use from_rudder"):
        Settings.for_destination({"apiKey": "k"})  # type: ignore[arg-type]


def test_a_user_transformation_iterable_sim_cannot_run_is_a_warning() -> None:
    config = load(WORKSPACE)
    config["sources"][0]["destinations"][0]["transformations"] = [{"id": "tr-1", "versionId": "v-1"}]
    assert read_settings(config).warnings == (
        "'Iterable prod' (2Xq7Iterab1eProdDest0001) of source 'Web shop' (2Xq7WebSource00000000001) has a user "
        "transformation (tr-1): iterable_sim does not run its JavaScript, so the events reach the transformer as "
        "they are (give a Python user_transformation)",)
    settings = read_settings(config, user_transformation=lambda event, metadata: None)
    assert settings.warnings == ()
    assert map_events([IDENTIFY_WITH_TOKEN], settings, received_at=RECEIVED_AT).requests == []  # dropped by it


def test_read_settings_takes_a_path_a_parsed_config_or_nothing(tmp_path: Path) -> None:
    assert read_settings(WORKSPACE) == read_settings(load(WORKSPACE)) == read_settings(str(WORKSPACE))
    assert read_settings(WORKSPACE).destination.path == str(WORKSPACE)  # type: ignore[union-attr]
    assert read_settings(load(WORKSPACE)).destination.path is None  # type: ignore[union-attr]
    assert read_settings(None) == Settings.from_rudder({})
    changed = read_settings(EXPORT, overrides={"trackAllPages": True})
    assert changed.track_all_pages and dict(changed.destination.overrides) == {"trackAllPages": True}  # type: ignore[union-attr]
    assert read_settings(two_destinations(tmp_path), destination="dst-eu").data_center == "EUDC"
    with pytest.raises(RudderConfigError, match="has 2 Iterable destinations"):
        read_settings(two_destinations(tmp_path))


def test_rudder_servers_steps_read_the_destinations_consent_and_message_types() -> None:
    config = load(WORKSPACE)
    config["sources"][0]["destinations"][0]["destinationDefinition"]["config"]["supportedMessageTypes"] = ["track"]
    settings = read_settings(config)
    denied = {**IDENTIFY_WITH_TOKEN, "type": "track", "event": "Clicked",
              "context": {"consentManagement": {"deniedConsentIds": ["C0004"]}}}
    results = map_events([IDENTIFY_WITH_TOKEN, denied, {**denied, "context": {}}], settings, received_at=RECEIVED_AT)
    assert [(r.stopped.step, r.stopped.status) if r.stopped else None for r in results] == [
        ("event_filter", 298), ("destination_filter", 298), None]  # identify is not in this definition's types


# ---------------------------------------------------------------- the command line


def test_the_cli_reads_every_kind_of_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = str(DATA / "one_track.json")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(load(EXPORT)["config"]), "utf-8")
    namespace = tmp_path / "namespace.json"
    namespace.write_text(json.dumps({"2Xq7WorkspaceExample0001": load(WORKSPACE)}), "utf-8")
    lines = set()
    for path in (WORKSPACE, EXPORT, config, namespace):
        code, out, err = cli(["map", events, "--settings", str(path), "--format", "jsonl"], capsys)
        assert code == 0 and err == "", path
        lines.add(out)
    assert len(lines) == 1


def test_several_destinations_need_destination(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events, settings = str(DATA / "one_track.json"), str(two_destinations(tmp_path))
    code, out, err = cli(["map", events, "--settings", settings], capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "has 2 Iterable destinations: 'Iterable prod' (2Xq7Iterab1eProdDest0001) of source 'Web shop'" in err
    assert "Choose one with --destination ID_OR_NAME" in err
    code, out, _ = cli(["map", events, "--settings", settings, "--destination", "Iterable EU", "--format", "jsonl"],
                       capsys)
    assert code == 0 and json.loads(out)["url"].startswith("https://api.eu.iterable.com/")
    code, _, err = cli(["map", events, "--settings", settings, "--destination", "nope"], capsys)
    assert code == 2 and "--destination 'nope' names no Iterable destination" in err and "'Iterable EU' (dst-eu)" in err
    code, _, err = cli(["map", events, "--destination", "dst-eu"], capsys)
    assert code == 2 and "picks a destination of --settings FILE" in err


def test_a_config_without_an_iterable_destination_lists_what_it_has(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config = load(WORKSPACE)
    del config["sources"][0]["destinations"][0]
    (tmp_path / "ws.json").write_text(json.dumps(config), "utf-8")
    code, out, err = cli(["send", str(DATA / "one_track.json"), "--settings", str(tmp_path / "ws.json")], capsys)
    assert code == 2 and out == ""
    assert err.strip().endswith("has no Iterable destination rudder-server would send to; its other destinations: "
                                "WEBHOOK 'Audit webhook' (2Xq7WebhookDest000000001)")


# ---------------------------------------------------------------- the tools that disagreed


def test_cli_send_to_the_mock_invents_no_device_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It used to fill in a device key, so it sent token registrations that map and send() do not."""
    events = tmp_path / "events.json"
    events.write_text(json.dumps([IDENTIFY_WITH_TOKEN]), "utf-8")
    settings = Settings.from_rudder({"apiKey": "k-0123456789", "trackAllPages": True})
    python = send([IDENTIFY_WITH_TOKEN], settings, progress=False)
    mock = MockIterable(rate_limits=False)
    mock.accept_keys_of(settings)
    with mock.serve() as url:
        code, _, _ = cli(["send", str(events), "--to", url, "--api-key", "k-0123456789", "--track-all-pages",
                          "--no-progress"], capsys)
    assert code == 0
    assert [entry.url.split("/api/", 1)[1] for entry in mock.journal] == \
        [d.request.url.split("/api/", 1)[1] for d in python.deliveries] == ["users/bulkUpdate"]
    assert cli(["send", str(events), "--api-key", "k-0123456789", "--format", "jsonl", "--no-progress"],
               capsys)[0] == 0  # the fresh mock accepts the Config's key
    code, out, err = cli(["send", str(events), "--format", "jsonl", "--no-progress"], capsys)
    assert code == 1 and json.loads(out)["fate"] == "rejected" and "the Config has no apiKey" in err


def test_record_keeps_the_configs_keys_and_page_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """It used to put its own keys in and Track All Pages on whatever the config said."""
    mocks: list[MockIterable] = []
    recording = importlib.import_module("iterable_sim.cassettes.record")
    real = recording._mock_for

    def kept_mock(*args: Any) -> MockIterable:
        mocks.append(real(*args))
        return mocks[-1]
    monkeypatch.setattr(recording, "_mock_for", kept_mock)
    events = tmp_path / "events.json"
    events.write_text(json.dumps([IDENTIFY_WITH_TOKEN, {"type": "page", "userId": "u1", "messageId": "m-2",
                                                        "timestamp": "2026-01-05T10:00:00.000Z"}]), "utf-8")
    code, _, _ = cli(["record", "--events", str(events), "--settings", str(EXPORT), str(tmp_path / "c.yaml")], capsys)
    assert code == 0
    config = load(EXPORT)["config"]
    # the journal masks keys: the export's keys show as "4f0c…" and "71b3…", the recording keys as "sim-…"
    assert {entry.api_key for entry in mocks[0].journal} == {mask(config["apiKey"]),
                                                            mask(config["registerDeviceOrBrowserApiKey"])}
    assert 401 not in {entry.status for entry in mocks[0].journal}
    (entry,) = cassette_sends(tmp_path / "c.yaml") or []
    assert entry.settings["trackAllPages"] is False and entry.settings["apiKey"] == "<API_KEY>"
    assert entry.destination == "2Xq7Iterab1eProdDest0001" and entry.settings_file is not None
    assert (tmp_path / entry.settings_file).resolve() == EXPORT.resolve()
    text = (tmp_path / "c.yaml").read_text("utf-8")
    assert config["apiKey"] not in text and config["registerDeviceOrBrowserApiKey"] not in text
    # the page event: no page setting of this export tracks an unnamed page (Track All Pages is off)
    assert "Invalid page call" not in text and text.count("- request:") == 2  # users/bulkUpdate, registerDeviceToken
    with pytest.raises(RecordingError, match="the settings have no apiKey"):
        record_cassette(tmp_path, "nokey", {"trackAllPages": True}, [IDENTIFY_WITH_TOKEN])


def test_crosscheck_sends_the_destinations_config_not_the_whole_export() -> None:
    """It used to send the whole export as the transformer's Config."""
    seen: list[Any] = []

    def transformer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        seen.extend(item["destination"]["Config"] for item in body)
        return httpx.Response(200, json=[{"metadata": item["metadata"], "statusCode": 400, "error": "x"}
                                         for item in body])

    export = load(EXPORT)
    crosscheck([IDENTIFY_WITH_TOKEN], export, "http://transformer", progress=False,
               transport=httpx.MockTransport(transformer))
    crosscheck([IDENTIFY_WITH_TOKEN], read_settings(EXPORT), "http://transformer", progress=False,
               transport=httpx.MockTransport(transformer))
    assert seen == [export["config"], export["config"]]


CASSETTE_TEST = '''
import pytest

@pytest.mark.vcr
def test_send(iterable_send):
    iterable_send()
'''


def test_cassettes_diff_reads_the_settings_file_as_pytest_does(pytester: pytest.Pytester,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """It used to compare with the Config copy in the cassette, and so said "no drift" where pytest, given the
    changed settings file, reported changed calls."""
    (pytester.path / "events.json").write_text((DATA / "one_track.json").read_text("utf-8"), "utf-8")
    (pytester.path / "export.json").write_text(EXPORT.read_text("utf-8"), "utf-8")
    pytester.makeini("[pytest]\niterable_sim_events = events.json\niterable_sim_settings = export.json\n")
    pytester.makepyfile(test_flow=CASSETTE_TEST)
    args = ("-p", "no:nbval", "-p", "no:hypothesispytest", "-p", "no:anyio")
    pytester.runpytest(*args, "--record-mode=once").assert_outcomes(passed=1)
    places = [str(pytester.path / "cassettes")]
    assert cli(["cassettes", "diff", *places], capsys)[0] == 0
    export = load(EXPORT)
    export["config"]["dataCenter"] = "EUDC"
    (pytester.path / "export.json").write_text(json.dumps(export), "utf-8")
    code, out, _ = cli(["cassettes", "diff", *places], capsys)
    assert code == 1 and 'host: recorded "api.iterable.com", now "api.eu.iterable.com"' in out
    pytester.runpytest(*args).assert_outcomes(failed=1)  # pytest, replaying, sees the change too


def test_cassettes_diff_runs_the_gateway_on_the_recording_clock(tmp_path: Path) -> None:
    """createdAt of an event without a timestamp comes from the gateway's clock: record, the pytest plugin and
    cassettes diff all read it from the simulated clock, so such a cassette shows no drift."""
    from iterable_sim.cassettes import drift_frame

    untimed = [{"type": "track", "event": "Clicked", "userId": "u1", "messageId": "m-1",
                "originalTimestamp": "2026-01-05T10:00:00.000Z", "sentAt": "2026-01-05T10:00:05.000Z"}]
    path = record_cassette(tmp_path, "untimed", {"apiKey": "k-0123456789", "trackAllPages": True}, untimed)
    assert "createdAt" in path.read_text("utf-8")
    assert drift_frame(tmp_path).empty
