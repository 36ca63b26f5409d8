"""What a newcomer tries in their first hour (issue 12): documented paths work as written, bad input
gets one clear line, nothing reaches Iterable unasked."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Literal

import httpx
import pytest

import iterable_sim as its
from iterable_sim.send import api as send_module  # not `import iterable_sim.send.api`: its.send is the function
from iterable_sim.cli.commands import main
from iterable_sim.checks.preflight import preflight
from iterable_sim.samples import sample_descriptions, sample_events

SETTINGS = its.Settings.from_rudder({"apiKey": "first-hour-key", "trackAllPages": True})


def counts_add_up(report: its.SendReport) -> None:
    s = report.summary()
    assert s["delivered"] + s["rejected"] + s["failed"] == s["sent"] == len(report.events)


# ---------------------------------------------------------------- 1. any key: accounted for, or refused first


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


# ---------------------------------------------------------------- 2. ManualClock


def test_manual_clock_is_exported_and_drives_a_mock():
    clock = its.ManualClock()
    mock = its.MockIterable("hybrid", clock=clock)
    clock.advance(60)
    assert mock.clock.now() == clock.now()


# ---------------------------------------------------------------- 7. progress bar


def test_a_short_send_shows_no_progress_bar(capsys):
    its.send(sample_events(), SETTINGS)
    assert capsys.readouterr().err == ""


def test_a_send_still_running_after_the_delay_shows_its_bar(capsys, monkeypatch):
    monkeypatch.setattr(send_module, "PROGRESS_DELAY", 0)
    its.send(sample_events(), SETTINGS)
    assert "sending to the in-process mock Iterable" in capsys.readouterr().err


# ---------------------------------------------------------------- 8, 9. installing and starting Jupyter

ROOT = Path(__file__).resolve().parent.parent


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["license"] == "MIT"  # the table form is deprecated: pip install warned
    assert "setuptools>=77" in pyproject["build-system"]["requires"]  # 77 is the first to read the string form


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_jupyter_lets_root_start_jupyterlab():
    dry_run = subprocess.run(["make", "-n", "jupyter"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    command = next(line for line in dry_run.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) == (os.geteuid() == 0)


# ---------------------------------------------------------------- the command line


def cli(argv, capsys, stdin=None, monkeypatch=None):
    """Run iterable-sim in-process: (exit code, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    code = main(argv, out)
    return code, out.getvalue(), capsys.readouterr().err


SAMPLES = str(Path(its.__file__).parent / "samples" / "events.json")
PAGES = [{"type": "page", "name": "Home", "userId": "u1"}, {"type": "screen", "name": "Main", "userId": "u1"}]


# 4. one default for the page settings: RudderStack's (a key absent is off)


def test_the_cli_reads_page_settings_as_from_rudder_does(tmp_path, capsys):
    events = tmp_path / "pages.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in PAGES))
    code, out, err = cli(["map", str(events), "--format", "jsonl"], capsys)
    python = its.map_events(PAGES, its.Settings.from_rudder({"apiKey": "k"}))
    cli_errors = [json.loads(line)["error"] for line in out.splitlines()]
    assert cli_errors == [str(r.error) for r in python] == ["Invalid page call", "Invalid screen call"]
    assert code == 1 and "--track-all-pages" in err  # said where it happens
    code, out, _ = cli(["map", str(events), "--format", "jsonl", "--track-all-pages"], capsys)
    assert code == 0 and [json.loads(line)["json"]["eventName"] for line in out.splitlines()] == ["Home page",
                                                                                                  "Main screen"]


def test_the_demo_says_it_turns_track_all_pages_on(capsys):
    _, out, _ = cli(["demo"], capsys)
    assert "track_all_pages=True" in out and "A RudderStack Config without trackAllPages leaves it off" in out


# 6. the sample events file is an events file


def test_the_sample_events_file_maps_like_any_events_file(capsys):
    code, out, _ = cli(["map", SAMPLES, "--format", "jsonl", "--track-all-pages"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert not any(line.get("error") == "Event type is required" for line in lines)
    assert {line["event"] for line in lines} == set(range(len(sample_events())))
    assert len(sample_descriptions()) == len(sample_events())  # every sample says what it shows


# 11. exit codes


def test_map_exits_1_when_an_event_is_refused_and_0_when_all_map(tmp_path, capsys):
    refused = tmp_path / "refused.json"
    refused.write_text(json.dumps([{"type": "group", "userId": "u"}]))
    assert cli(["map", str(refused)], capsys)[0] == 1
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps([{"type": "track", "event": "Clicked", "userId": "u"}]))
    assert cli(["map", str(fine)], capsys)[0] == 0


def test_send_exits_1_when_an_event_is_not_delivered_and_0_when_all_are(tmp_path, capsys):
    assert cli(["send", SAMPLES, "--no-progress"], capsys)[0] == 1  # samples include refused events
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps([{"type": "track", "event": "Clicked", "userId": "u"}]))
    assert cli(["send", str(fine), "--no-progress"], capsys)[0] == 0


def run_into_a_closed_pipe(*argv: str) -> subprocess.CompletedProcess:
    """The command's stdout is a pipe its reader closed before reading (as `| head -0` does)."""
    process = subprocess.Popen([sys.executable, "-m", "iterable_sim.cli", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    return subprocess.CompletedProcess(argv, process.wait(timeout=120), None, err)


@pytest.mark.parametrize("command", ["send", "map"])
def test_a_closed_pipe_does_not_hide_events_not_delivered(command):
    done = run_into_a_closed_pipe(command, SAMPLES, "--no-progress" if command == "send" else "--track-all-pages")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr


def test_a_closed_pipe_after_everything_was_delivered_exits_0(tmp_path):
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps([{"type": "track", "event": "Clicked", "userId": f"u{i}"} for i in range(50)]))
    done = run_into_a_closed_pipe("send", str(fine), "--no-progress", "--track-all-pages")
    assert done.returncode == 0 and done.stderr == ""


def test_send_writes_failed_out_even_when_the_pipe_is_closed(tmp_path):
    failed = tmp_path / "failed.jsonl"
    assert run_into_a_closed_pipe("send", SAMPLES, "--no-progress", "--failed-out", str(failed)).returncode == 1
    assert len(failed.read_text().splitlines()) > 0


def test_exit_codes_are_documented_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["send", "--help"])
    assert "a closed pipe" in capsys.readouterr().out.lower()


# 12, 13. bad input: one line, exit 2


def one_line_error(code, out, err, expected):
    assert code == 2 and out == ""
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_directory_or_a_binary_file_as_events(tmp_path, capsys):
    one_line_error(*cli(["map", str(tmp_path)], capsys), "is a directory")
    binary = tmp_path / "events.png"  # a gzipped file is read: JSON lines archives are gzipped
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    one_line_error(*cli(["map", str(binary)], capsys), "is not UTF-8 text")
    one_line_error(*cli(["send", str(binary)], capsys), "is not UTF-8 text")


@pytest.mark.parametrize("content, expected", [
    ({"Config": [1]}, '"Config" is a JSON list'),
    ({"Config": "x"}, '"Config" is a JSON str'),
    ([1], "a RudderStack destination Config is a JSON object"),
])
def test_a_settings_file_whose_config_is_not_an_object(tmp_path, capsys, content, expected):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(content))
    one_line_error(*cli(["map", SAMPLES, "--settings", str(settings)], capsys), expected)


def test_a_directory_as_the_settings_file(tmp_path, capsys):
    one_line_error(*cli(["map", SAMPLES, "--settings", str(tmp_path)], capsys), "is a directory")


def test_a_key_no_header_can_carry_is_one_line_from_the_cli(capsys):
    one_line_error(*cli(["send", SAMPLES, "--api-key", "…", "--track-all-pages"], capsys), "an HTTP header cannot carry")


@pytest.mark.parametrize("config", ["x", ["apiKey", "k"], 5])
def test_from_rudder_with_something_not_a_config(config):
    with pytest.raises(its.SettingsError, match="takes a RudderStack destination Config"):
        its.Settings.from_rudder(config)


def test_a_whole_destination_given_to_from_rudder_says_so():
    settings = its.Settings.from_rudder({"Config": {"apiKey": "k"}})
    assert "a whole destination was given: pass its 'Config'" in settings.warnings[0]


@pytest.mark.parametrize("center, url", [(["EUDC"], "https://api.eu.iterable.com/api/"),
                                         (["EU"], "https://api.iterable.com/api/"),
                                         ({"EU": 1}, "https://api.iterable.com/api/")])
def test_a_data_center_that_is_not_a_string_is_read_as_javascript_reads_it(center, url):
    # RudderStack looks BASE_URL[dataCenter] up by the value's string form: ["EUDC"] is "EUDC"
    # (checked against RudderStack's code: ../shared/rudderstack, `process` with these configs)
    settings = its.Settings.from_rudder({"apiKey": "k", "dataCenter": center, "trackAllPages": True})
    assert settings.base_url == url
    assert any("not a string: JavaScript reads it as" in w for w in settings.warnings)


def test_a_data_center_list_in_a_settings_file_is_a_warning_not_a_traceback(tmp_path, capsys):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"Config": {"apiKey": "k", "dataCenter": ["EU"], "trackAllPages": True}}))
    code, out, err = cli(["map", SAMPLES, "--settings", str(settings), "--format", "jsonl"], capsys)
    assert code == 1 and "JavaScript reads it as 'EU'" in err and "silently sends to the US host" in err
    assert "api.iterable.com" in out


def test_settings_built_directly_refuse_a_data_center_list():
    with pytest.raises(its.SettingsError, match="data_center must be 'USDC' or 'EUDC'"):
        its.Settings(data_center=["EU"])


def test_a_mistyped_data_center_flag_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["map", SAMPLES, "--data-center", "MARS"])
    assert exit_.value.code == 2 and "invalid choice: 'MARS'" in capsys.readouterr().err


def test_the_data_center_flag_takes_either_case(capsys):
    code, out, _ = cli(["map", SAMPLES, "--data-center", "eudc", "--format", "jsonl"], capsys)
    assert all("api.eu.iterable.com" in json.loads(line).get("url", "api.eu.iterable.com") for line in out.splitlines())


# 14. Iterable's size limits, before sending


BIG_TRACK = {"type": "track", "event": "Big", "userId": "u1", "properties": {"blob": "x" * 5_000_000}}
BIG_CATALOG_ITEM = {"type": "identify", "userId": "p1", "traits": {"blob": "x" * 40_000}, "context": {
    "mappedToDestination": True, "externalId": [{"type": "ITERABLE-products", "id": "p1", "identifierType": "id"}]}}


def test_map_says_an_event_too_large_for_iterable_cannot_be_sent(tmp_path, capsys):
    events = tmp_path / "big.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in [BIG_TRACK, {"type": "track", "event": "Ok", "userId": "u"}]))
    code, out, _ = cli(["map", str(events), "--format", "jsonl"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert {"event": 0, "status": 413} | {"error": lines[1]["error"]} == lines[1]
    assert "too large for Iterable" in lines[1]["error"] and "4,000,000 bytes" in lines[1]["error"]
    code, out, _ = cli(["map", str(events)], capsys)
    assert code == 1 and "too large for Iterable" in out


def test_preflight_and_send_agree_on_what_is_too_large():
    settings = its.Settings.from_rudder({"apiKey": "k", "trackAllPages": True})
    results = its.map_events([BIG_TRACK, BIG_CATALOG_ITEM], settings)
    verdicts = preflight(results)
    assert verdicts["preflight"].tolist() == ["rejected", "rejected"] and verdicts["status"].tolist() == [413, 413]
    assert "30,720 bytes (30 KB) per item" in verdicts["reason"][1]
    report = its.send([BIG_TRACK], settings, progress=False)
    assert report.outcomes[0].status == 413 and report.summary()["requests"] == 0


# 15. a table a person can read


def test_the_map_table_has_fixed_columns_and_bounded_width(tmp_path, capsys):
    wide = {"type": "track", "event": "Wide", "userId": "u",
            "properties": {f"field_{i}": "v" * 200 for i in range(40)}}
    events = tmp_path / "wide.json"
    events.write_text(json.dumps([wide, *sample_events()]))
    _, out, _ = cli(["map", str(events), "--track-all-pages"], capsys)
    header = out.splitlines()[1].split()
    assert header == ["event", "type", "name", "endpoint", "email", "userId", "eventName", "dataFields"]
    assert max(len(line) for line in out.splitlines()) <= 200
    assert '{"field_0":"vvv' in out and "…" in out


# ---------------------------------------------------------------- 5. resend: only what can succeed unchanged


def test_resend_leaves_out_what_would_fail_again_and_says_so():
    mock = its.MockIterable(clock=its.ManualClock())
    mock.add_api_key("first-hour-key")
    mock.faults.add("drop", "users/bulkUpdate")  # the identify events get no answer
    first = its.send(sample_events(), SETTINGS, to=mock, progress=False)
    by_stage = first.frame().groupby(["fate", "stage"], dropna=False)["event"].apply(list).to_dict()
    undelivered = by_stage[("failed", "delivery")]
    unmappable = by_stage[("failed", "mapping")]
    assert undelivered and unmappable
    mock.faults.clear()
    again = first.resend()
    assert again.events == [first.events[i] for i in undelivered]
    assert again.summary()["delivered"] == len(undelivered) == again.summary()["sent"]
    assert f"re-sent events {', '.join(map(str, undelivered))}" in repr(again)
    assert f"{len(unmappable)} that cannot succeed unchanged" in again.resent and "include_unmappable=True" in again.resent
    everything = first.resend(include_unmappable=True, include_rejected=True)
    assert everything.summary()["sent"] == first.summary()["sent"] - first.summary()["delivered"]


# ---------------------------------------------------------------- 10. deletion follows send's rule


def mock_with_user(user_id: str, data_center: Literal["USDC", "EUDC"] = "USDC") -> its.MockIterable:
    mock = its.MockIterable(clock=its.ManualClock())
    mock.add_api_key("k")
    its.send([{"type": "identify", "userId": user_id, "traits": {"email": f"{user_id}@example.com"}}],
             its.Settings(api_key="k", data_center=data_center), to=mock, progress=False)
    assert len(mock.users_frame()) == 1
    return mock


def test_delete_users_goes_to_a_fresh_mock_unless_told_otherwise():
    result = its.delete_users([{"userId": "u1"}], {"apiKey": "k"})
    assert result.target == "the in-process mock Iterable"
    assert result.mock.journal_frame()[["method", "endpoint"]].values.tolist() == [["DELETE", "users/byUserId/{userId}"]]


def test_delete_users_deletes_from_the_mock_it_is_given():
    mock = mock_with_user("u1")
    assert its.delete_users([{"userId": "u1"}], {"apiKey": "k"}, to=mock).ok
    assert mock.users_frame().empty


@pytest.mark.server
def test_delete_users_deletes_through_a_server_in_the_configs_data_center():
    mock = mock_with_user("u2", "EUDC")
    with mock.serve() as url:
        result = its.delete_users([{"userId": "u2"}], {"apiKey": "k", "dataCenter": "EUDC"}, to=url)
    assert result.ok and result.target == url and mock.users_frame().empty


def test_delete_users_reaches_iterable_only_when_live_is_named():
    calls = []
    transport = httpx.MockTransport(lambda request: calls.append(str(request.url)) or httpx.Response(200, json={}))
    result = its.delete_users([{"userId": "u1"}], {"apiKey": "k", "dataCenter": "EUDC"}, transport, to=its.LIVE)
    assert result.ok and result.target == "live Iterable"
    assert calls == ["https://api.eu.iterable.com/api/users/byUserId/u1"]


def test_delete_users_refuses_a_key_no_header_can_carry_before_deleting_anything():
    mock = mock_with_user("u1")
    with pytest.raises(its.SettingsError, match="apiKey has a character"):
        its.delete_users([{"userId": "u1"}], {"apiKey": "…"}, to=mock)
    assert len(mock.users_frame()) == 1


def test_delete_users_refuses_a_destination_it_does_not_know():
    with pytest.raises(ValueError, match="give a URL"):
        its.delete_users([{"userId": "u1"}], {"apiKey": "k"}, to="production")


# ---------------------------------------------------------------- beyond the list: ordinary mistakes in Python

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


@pytest.mark.parametrize("call", [lambda: its.map_events(EVENT, SETTINGS), lambda: its.send(EVENT, SETTINGS)],
                         ids=["map_events", "send"])
def test_one_event_given_where_a_list_belongs_is_not_read_as_its_keys(call):
    with pytest.raises(TypeError, match=r"for one event, pass \[event\]"):
        call()


def test_live_spelt_in_capitals_is_told_what_live_is():
    with pytest.raises(ValueError, match=r"its.LIVE \(the string 'live'\)"):
        its.send([EVENT], SETTINGS, to="LIVE")


def test_the_cli_refuses_an_unsendable_live_key_before_asking(capsys, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail(f"asked: {prompt}"))
    one_line_error(*cli(["send", SAMPLES, "--to", "live", "--api-key", "…", "--track-all-pages"], capsys),
                   "an HTTP header cannot carry")
