import io
import json

from iterable_sim.cli.commands import main


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
    assert "Message type group not supported" in text
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
    assert "userId or email is mandatory" in out.getvalue()  # line 1, mapped and refused by RudderStack
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
    code, text = run(["send", events, "--format", "jsonl", "--no-progress", "--failed-out", str(failed)])
    assert code == 1  # not everything was delivered
    rows = [json.loads(line) for line in text.splitlines()]
    assert [(r["event"], r["fate"]) for r in rows] == [(0, "delivered"), (1, "rejected"), (2, "failed")]
    assert [json.loads(line)["userId"] for line in failed.read_text().splitlines()] == ["u2", "u3"]


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
    # the key in the environment is never read for the mock
    code, text = run(["send", events, "--no-progress"])
    assert code == 0 and "live-key-123456789" not in text


def test_send_to_a_running_server(tmp_path):
    from iterable_sim import MockIterable

    mock = MockIterable()
    mock.add_api_key("server-key-123")
    events = write_jsonl(tmp_path / "events.jsonl", [{"type": "track", "event": "Clicked", "userId": "u1"}])
    with mock.serve() as url:
        code, text = run(["send", events, "--to", url, "--api-key", "server-key-123", "--no-progress"])
    assert code == 0 and "1 delivered" in text
    assert mock.events_frame()["eventName"].tolist() == ["Clicked"]
