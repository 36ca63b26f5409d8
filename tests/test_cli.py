"""The `iterable-sim` command line: its commands, exit codes, and bad input said in one line."""
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import iterable_sim as its
from iterable_sim.cli import main
from iterable_sim.samples import sample_descriptions, sample_events


def run(argv, stdin=None, monkeypatch=None):
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv, out)
    return code, out.getvalue()


def test_demo_maps_the_samples_without_a_key():
    code, text = run(["demo"])
    assert code == 0
    assert "users/registerDeviceToken" in text and "commerce/trackPurchase" in text
    assert "Message type not supported" in text  # the group call: rudder-server filters it (298)
    assert "demo-api-key" not in text  # keys are masked


def test_map_jsonl_from_stdin_with_flags(monkeypatch, capsys):
    events = "\n".join(json.dumps(e) for e in [
        {"type": "page", "name": "Home", "userId": "u1"},
        {"type": "page", "userId": "u2"},
    ])
    code, text = run(["map", "--format", "jsonl", "--no-track-all-pages", "--track-named-pages",
                      "--data-center", "EUDC"], events, monkeypatch)
    assert code == 1  # the second page is refused
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["url"] == "https://api.eu.iterable.com/api/events/track"
    assert lines[0]["json"]["eventName"] == "Home page"
    assert lines[1] == {"event": 1, "error": "Invalid page call", "status": 400}


def test_map_table_from_a_settings_file(tmp_path, capsys):
    (tmp_path / "settings.json").write_text(json.dumps({"Config": {"apiKey": "k", "trackAllPages": True,
                                                                   "dataCenter": "eudc"}}))
    (tmp_path / "events.json").write_text(json.dumps({"type": "track", "event": "Clicked", "userId": "u"}))
    code, text = run(["map", str(tmp_path / "events.json"), "--settings", str(tmp_path / "settings.json")])
    assert code == 0 and "events/track" in text and "Clicked" in text
    assert "silently sends to the US host" in capsys.readouterr().err


def test_map_reports_bad_input_in_one_line(tmp_path, capsys):
    (tmp_path / "bad.jsonl").write_text('{"type": "track"}\n{oops\n')
    out = io.StringIO()
    assert main(["map", str(tmp_path / "bad.jsonl")], out) == 1  # the bad line is reported, the rest mapped
    assert "bad.jsonl, line 2: not JSON" in capsys.readouterr().err
    assert "request neither has anonymousId nor userId" in out.getvalue()  # line 1: refused by the gateway
    assert main(["map", str(tmp_path / "missing.json")], io.StringIO()) == 2
    assert "no such events file" in capsys.readouterr().err


def test_serve_runs_a_real_mock_server():
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "iterable_sim.cli", "serve", "--port", str(port),
                               "--api-key", "cli-key", "--log-level", "warning"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}/api/events/track"
        for _ in range(100):
            try:
                response = httpx.post(url, headers={"Api-Key": "cli-key"}, json={"email": "a@b.co", "eventName": "x"})
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["code"] == "Success"
        assert httpx.post(url, headers={"Api-Key": "wrong"}, json={}).status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "cli-key" not in output and "accepting API keys cli-…" in output


def test_demo_sends_the_samples_to_the_embedded_mock_and_shows_profiles_and_answers():
    code, text = run(["demo"])
    assert code == 0
    assert "The same events sent to the embedded mock Iterable" in text
    assert "BadJsonBody: Invalid JSON body (obj.events[2].eventName: Missing required field)" in text
    assert "alex.keener@example.com" in text  # the alias moved alex@example.com's profile
    assert "Profiles in the mock Iterable afterwards" in text


def write_jsonl(path, events):
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return str(path)


def test_send_to_the_mock_reports_each_event_and_writes_what_was_not_delivered(tmp_path):
    events = write_jsonl(tmp_path / "events.jsonl", [
        {"type": "track", "event": "Clicked", "userId": "u1", "messageId": "m1"},
        {"type": "identify", "userId": "u2", "traits": {"email": "not-an-email"}},
        {"type": "group", "userId": "u3"},
    ])
    failed = tmp_path / "failed.jsonl"
    code, text = run(["send", events, "--format", "jsonl", "--no-progress", "--failed-out", str(failed),
                      "--api-key", "test-key-1234"])
    assert code == 1  # not everything was delivered
    rows = [json.loads(line) for line in text.splitlines()]
    assert [(r["event"], r["fate"]) for r in rows] == [(0, "delivered"), (1, "rejected"), (2, "filtered")]
    assert rows[2]["stage"] == "event_filter" and rows[2]["status"] == 298
    assert [json.loads(line)["userId"] for line in failed.read_text().splitlines()] == ["u2"]  # not the filtered


def test_send_to_live_iterable_needs_a_key_and_a_confirmation(tmp_path, monkeypatch, capsys):
    import httpx

    def no_network(*args, **kwargs):
        raise AssertionError("nothing may be sent")
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", no_network)  # the real network
    monkeypatch.delenv("ITERABLE_API_KEY", raising=False)
    events = write_jsonl(tmp_path / "events.jsonl", [{"type": "track", "event": "Clicked", "userId": "u1"}])
    assert main(["send", events, "--to", "live"], io.StringIO()) == 2
    assert "--to live needs your API key" in capsys.readouterr().err
    monkeypatch.setenv("ITERABLE_API_KEY", "live-key-123456789")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: no one to ask
    assert main(["send", events, "--to", "live"], io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "pass --yes" in err and "live-key-123456789" not in err
    # the key in the environment is never read for the mock: without a key, the mock answers 401
    code, text = run(["send", events, "--no-progress"])
    assert code == 1 and "live-key-123456789" not in text and "BadApiKey" in text


def test_send_to_a_running_server(tmp_path):
    from iterable_sim import MockIterable

    mock = MockIterable()
    mock.add_api_key("server-key-123")
    events = write_jsonl(tmp_path / "events.jsonl", [{"type": "track", "event": "Clicked", "userId": "u1"}])
    with mock.serve() as url:
        code, text = run(["send", events, "--to", url, "--api-key", "server-key-123", "--no-progress"])
    assert code == 0 and "1 delivered" in text
    assert mock.events_frame()["eventName"].tolist() == ["Clicked"]


# ---------------------------------------------------------------- documented paths, exit codes, bad input in one line

def cli(argv, capsys, stdin=None, monkeypatch=None):
    """Run iterable-sim in-process: (exit code, stdout, stderr)."""
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    code = main(argv, out)
    return code, out.getvalue(), capsys.readouterr().err


SAMPLES = str(Path(its.__file__).parent / "samples" / "events.json")
PAGES = [{"type": "page", "name": "Home", "userId": "u1"}, {"type": "screen", "name": "Main", "userId": "u1"}]


def one_line_error(code, out, err, expected):
    assert code == 2 and out == ""
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def run_into_a_closed_pipe(*argv: str) -> subprocess.CompletedProcess:
    """The command's stdout is a pipe its reader closed before reading (as `| head -0` does)."""
    process = subprocess.Popen([sys.executable, "-m", "iterable_sim.cli", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    err = process.stderr.read()
    return subprocess.CompletedProcess(argv, process.wait(timeout=120), None, err)


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


def test_the_sample_events_file_maps_like_any_events_file(capsys):
    code, out, _ = cli(["map", SAMPLES, "--format", "jsonl", "--track-all-pages"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert not any(line.get("error") == "Event type is required" for line in lines)
    assert {line["event"] for line in lines} == set(range(len(sample_events())))
    assert len(sample_descriptions()) == len(sample_events())  # every sample says what it shows


def test_map_exits_1_when_an_event_is_refused_and_0_when_all_map(tmp_path, capsys):
    refused = tmp_path / "refused.json"
    refused.write_text(json.dumps([{"type": "alias", "userId": "u"}]))  # no previousId
    assert cli(["map", str(refused)], capsys)[0] == 1
    filtered = tmp_path / "filtered.json"
    filtered.write_text(json.dumps([{"type": "group", "userId": "u"}]))
    code, out, _ = cli(["map", str(filtered)], capsys)
    assert code == 0 and "Events rudder-server drops" in out and "Message type not supported" in out
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps([{"type": "track", "event": "Clicked", "userId": "u"}]))
    assert cli(["map", str(fine)], capsys)[0] == 0


def test_send_exits_1_when_an_event_is_not_delivered_and_0_when_all_are(tmp_path, capsys):
    assert cli(["send", SAMPLES, "--no-progress", "--api-key", "k-123456"], capsys)[0] == 1  # samples: refused events
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps([{"type": "track", "event": "Clicked", "userId": "u"}]))
    assert cli(["send", str(fine), "--no-progress", "--api-key", "k-123456"], capsys)[0] == 0


@pytest.mark.parametrize("command", ["send", "map"])
def test_a_closed_pipe_does_not_hide_events_not_delivered(command):
    done = run_into_a_closed_pipe(command, SAMPLES, "--no-progress" if command == "send" else "--track-all-pages")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr


def test_a_closed_pipe_after_everything_was_delivered_exits_0(tmp_path):
    fine = tmp_path / "fine.json"
    fine.write_text(json.dumps([{"type": "track", "event": "Clicked", "userId": f"u{i}"} for i in range(50)]))
    done = run_into_a_closed_pipe("send", str(fine), "--no-progress", "--track-all-pages", "--api-key", "k-123456")
    assert done.returncode == 0 and done.stderr == ""


def test_send_writes_failed_out_even_when_the_pipe_is_closed(tmp_path):
    failed = tmp_path / "failed.jsonl"
    assert run_into_a_closed_pipe("send", SAMPLES, "--no-progress", "--failed-out", str(failed)).returncode == 1
    assert len(failed.read_text().splitlines()) > 0


def test_exit_codes_are_documented_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["send", "--help"])
    assert "a closed pipe" in capsys.readouterr().out.lower()


def test_a_directory_or_a_binary_file_as_events(tmp_path, capsys):
    one_line_error(*cli(["map", str(tmp_path)], capsys), "is a directory")
    binary = tmp_path / "events.png"  # a gzipped file is read: JSON lines archives are gzipped
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    one_line_error(*cli(["map", str(binary)], capsys), "is not UTF-8 text")
    one_line_error(*cli(["send", str(binary)], capsys), "is not UTF-8 text")


@pytest.mark.parametrize("content, expected", [
    ({"Config": [1]}, "Config is a JSON array where rudder-server reads an object"),
    ({"config": "x"}, "config is a JSON string where rudder-server reads an object"),
    ([1], "a RudderStack config is a JSON object (a workspace config, a destination, or a destination's Config), "
          "not a JSON array"),
])
def test_a_settings_file_whose_config_is_not_an_object(tmp_path, capsys, content, expected):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(content))
    one_line_error(*cli(["map", SAMPLES, "--settings", str(settings)], capsys), expected)


def test_a_directory_as_the_settings_file(tmp_path, capsys):
    one_line_error(*cli(["map", SAMPLES, "--settings", str(tmp_path)], capsys), "is a directory")


def test_a_key_no_header_can_carry_is_one_line_from_the_cli(capsys):
    one_line_error(*cli(["send", SAMPLES, "--api-key", "…", "--track-all-pages"], capsys), "an HTTP header cannot carry")


def test_the_cli_refuses_an_unsendable_live_key_before_asking(capsys, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail(f"asked: {prompt}"))
    one_line_error(*cli(["send", SAMPLES, "--to", "live", "--api-key", "…", "--track-all-pages"], capsys),
                   "an HTTP header cannot carry")


def test_a_data_center_list_in_a_settings_file_is_a_warning_not_a_traceback(tmp_path, capsys):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"Config": {"apiKey": "k", "dataCenter": ["EU"], "trackAllPages": True}}))
    code, out, err = cli(["map", SAMPLES, "--settings", str(settings), "--format", "jsonl"], capsys)
    assert code == 1 and "JavaScript reads it as 'EU'" in err and "silently sends to the US host" in err
    assert "api.iterable.com" in out


def test_a_mistyped_data_center_flag_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["map", SAMPLES, "--data-center", "MARS"])
    assert exit_.value.code == 2 and "invalid choice: 'MARS'" in capsys.readouterr().err


def test_the_data_center_flag_takes_either_case(capsys):
    code, out, _ = cli(["map", SAMPLES, "--data-center", "eudc", "--format", "jsonl"], capsys)
    assert all("api.eu.iterable.com" in json.loads(line).get("url", "api.eu.iterable.com") for line in out.splitlines())


BIG_TRACK = {"type": "track", "event": "Big", "userId": "u1", "properties": {"blob": "x" * 4_050_000}}  # under the gateway's 4,096,000 bytes, over Iterable's 4,000,000


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
