"""`iterable-sim explore`: what it checks before starting Voilà, and what the page's kernel builds.
(The page itself, in a browser, is tested by browser_tests/test_explore.py.)"""
import json
from pathlib import Path

import pytest

from iterable_sim.cli import main
from iterable_sim.extras import install_command
from iterable_sim.samples import sample_events
from iterable_sim.widgets import page

REQUIRE_VOILA = page.require_voila


@pytest.fixture(autouse=True)
def voila_installed(monkeypatch):
    """The test extra has no Voilà (the jupyter extra does): these tests never start it."""
    monkeypatch.setattr(page, "require_voila", lambda: None)


def test_explore_says_what_is_wrong_with_the_events_before_starting(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(page, "serve", _must_not_serve)
    assert main(["explore", str(tmp_path / "missing.jsonl"), "--no-browser"]) == 2
    assert "no such events file" in capsys.readouterr().err
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"type": "track"}\nnot json\n')
    assert main(["explore", str(broken), "--no-browser"]) == 2
    assert "line 2" in capsys.readouterr().err
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["explore", str(tmp_path / "empty.jsonl"), "--no-browser"]) == 2
    assert "empty.jsonl holds no events" in capsys.readouterr().err


def test_explore_hands_the_events_and_settings_files_to_the_page(tmp_path, monkeypatch, capsys):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "track", "event": "Clicked", "userId": "u1"}) + "\n")
    settings = tmp_path / "destination.json"
    settings.write_text(json.dumps({"Config": {"dataCenter": "EUDC", "trackNamedPages": True}}))
    served = {}

    def serve(path, settings_path, *, on_listening, **kwargs):
        assert "http://" not in capsys.readouterr().out  # not before the page listens
        served.update(path=path, settings=settings_path, **kwargs)
        on_listening()
        return 0

    monkeypatch.setattr(page, "serve", serve)
    assert main(["explore", str(events), "--settings", str(settings), "--port", "9123", "--no-browser"]) == 0
    assert served == {"path": str(events), "settings": str(settings), "destination": None, "rudderstack": None,
                      "port": 9123, "open_browser": False}
    assert "http://127.0.0.1:9123/" in capsys.readouterr().out


def test_explore_says_what_is_wrong_with_the_settings_before_starting(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(page, "serve", _must_not_serve)
    settings = tmp_path / "workspaceConfig.json"
    settings.write_text(json.dumps({"workspaceId": "ws", "sources": []}))
    assert main(["explore", "--settings", str(settings), "--no-browser"]) == 2
    assert "has no Iterable destination rudder-server would send to (it has no destination at all)" in \
        capsys.readouterr().err
    assert main(["explore", "--destination", "x", "--no-browser"]) == 2
    assert "picks a destination of --settings FILE" in capsys.readouterr().err


def test_the_page_reads_the_settings_file_as_every_tool_does(tmp_path, monkeypatch):
    from iterable_sim import read_settings

    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "page", "name": "Home", "userId": "u1"}) + "\n")
    settings = tmp_path / "export.json"
    settings.write_text(json.dumps({"id": "dst-1", "name": "It", "config": {"trackNamedPages": True,
                                                                             "dataCenter": "EUDC",
                                                                             "consentManagement": []}}))
    monkeypatch.setenv(page.EVENTS_ENV, str(events))
    monkeypatch.setenv(page.SETTINGS_ENV, str(settings))
    monkeypatch.setenv(page.DESTINATION_ENV, "It")
    explorer = page.explorer_from_environment()
    assert explorer.events == [{"type": "page", "name": "Home", "userId": "u1"}]
    assert explorer.settings == read_settings(settings) and explorer.settings.warnings == ()
    assert explorer.settings.pipeline_config().destination_id == "dst-1"
    assert explorer.requests_frame()["host"].tolist() == ["api.eu.iterable.com"]


def test_without_events_the_page_shows_the_samples_with_track_all_pages(monkeypatch):
    monkeypatch.delenv(page.EVENTS_ENV, raising=False)
    monkeypatch.delenv(page.SETTINGS_ENV, raising=False)
    explorer = page.explorer_from_environment()
    assert explorer.events == sample_events() and explorer.settings.track_all_pages is True


def test_the_page_serves_on_loopback_only(monkeypatch, tmp_path):
    commands = []

    class Voila:
        def __init__(self, command, env):
            commands.append((command, env))

        def poll(self):  # ended before listening: no URL to give
            return 0

        def wait(self):
            return 0

    monkeypatch.setattr(page.subprocess, "Popen", Voila)
    monkeypatch.setenv(page.DESTINATION_ENV, "left over")
    assert page.serve(None, None, port=8999, open_browser=False) == 0
    command, env = commands[0]
    assert "--Voila.ip=127.0.0.1" in command and "--port=8999" in command and "--no-browser" in command
    assert "--Voila.port_retries=0" in command  # never another port than the one the URL names
    assert not {page.EVENTS_ENV, page.SETTINGS_ENV, page.DESTINATION_ENV} & set(env)
    assert page.serve(None, "s.json", port=8999, open_browser=False, destination="d") == 0
    _, env = commands[1]
    assert env[page.SETTINGS_ENV] == str(Path("s.json").resolve()) and env[page.DESTINATION_ENV] == "d"


def _must_not_serve(*args, **kwargs):
    raise AssertionError("Voilà must not start on bad input")


def test_explore_without_voila_says_what_to_install_before_anything_else(monkeypatch, capsys):
    monkeypatch.setattr(page, "require_voila", REQUIRE_VOILA)
    real_find_spec = page.importlib.util.find_spec
    monkeypatch.setattr(page.importlib.util, "find_spec",
                        lambda name, *a: None if name == "voila" else real_find_spec(name, *a))
    monkeypatch.setattr(page, "serve", _must_not_serve)
    assert main(["explore", "--no-browser"]) == 2
    captured = capsys.readouterr()
    assert "voila is missing" in captured.err and install_command("jupyter") in captured.err
    assert "http://" not in captured.out


def test_a_port_in_use_is_one_line_and_exit_2_before_voila_starts(monkeypatch, capsys):
    import socket

    monkeypatch.setattr(page.subprocess, "Popen", _must_not_serve)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["explore", "--no-browser", "--port", str(port)]) == 2
    captured = capsys.readouterr()
    assert f"port {port} is in use on 127.0.0.1: choose another with --port" in captured.err
    assert "http://" not in captured.out and "Traceback" not in captured.err


def test_the_url_is_given_once_the_page_answers(monkeypatch):
    import socket
    import threading

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        told = []

        class Voila:
            def __init__(self, command, env):
                threading.Timer(0.5, server.listen).start()  # Voilà takes a moment to listen

            def poll(self):
                return None

            def wait(self):
                return 0

        monkeypatch.setattr(page, "_check_port_free", lambda port: None)
        monkeypatch.setattr(page.subprocess, "Popen", Voila)

        def on_listening():  # the page can be opened when the URL is given
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            told.append(port)

        assert page.serve(None, None, port=port, open_browser=False, on_listening=on_listening) == 0
        assert told == [port]
