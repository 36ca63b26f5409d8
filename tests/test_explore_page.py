"""`iterable-sim explore`: what it checks before starting Voilà, and what the page's kernel builds.
(The page itself, in a browser, is tested by browser_tests/test_explore.py.)"""
import json

import pytest

from iterable_sim import Settings
from iterable_sim.cli.commands import main
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


def test_explore_hands_the_events_and_settings_to_the_page(tmp_path, monkeypatch, capsys):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "track", "event": "Clicked", "userId": "u1"}) + "\n")
    settings = tmp_path / "destination.json"
    settings.write_text(json.dumps({"Config": {"dataCenter": "EUDC", "trackNamedPages": True}}))
    served = {}
    monkeypatch.setattr(page, "serve", lambda path, config, **kwargs: served.update(path=path, config=config,
                                                                                    **kwargs) or 0)
    assert main(["explore", str(events), "--settings", str(settings), "--port", "9123", "--no-browser"]) == 0
    assert served == {"path": str(events), "config": {"dataCenter": "EUDC", "trackNamedPages": True},
                      "port": 9123, "open_browser": False}
    assert "http://127.0.0.1:9123/" in capsys.readouterr().out


def test_the_page_shows_the_users_events_under_their_settings(tmp_path, monkeypatch):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "page", "name": "Home", "userId": "u1"}) + "\n")
    monkeypatch.setenv(page.EVENTS_ENV, str(events))
    monkeypatch.setenv(page.CONFIG_ENV, json.dumps({"trackNamedPages": True, "dataCenter": "EUDC"}))
    explorer = page.explorer_from_environment()
    assert explorer.events == [{"type": "page", "name": "Home", "userId": "u1"}]
    assert explorer.settings == Settings.from_rudder({"trackNamedPages": True, "dataCenter": "EUDC"})
    assert explorer.requests_frame()["host"].tolist() == ["api.eu.iterable.com"]


def test_without_events_the_page_shows_the_samples_with_track_all_pages(monkeypatch):
    monkeypatch.delenv(page.EVENTS_ENV, raising=False)
    monkeypatch.delenv(page.CONFIG_ENV, raising=False)
    explorer = page.explorer_from_environment()
    assert explorer.events == sample_events() and explorer.settings.track_all_pages is True


def test_the_page_serves_on_loopback_only(monkeypatch):
    commands = []

    class Voila:
        def __init__(self, command, env):
            commands.append((command, env))

        def wait(self):
            return 0

    monkeypatch.setattr(page.subprocess, "Popen", Voila)
    assert page.serve(None, {"trackAllPages": True}, port=8999, open_browser=False) == 0
    command, env = commands[0]
    assert "--Voila.ip=127.0.0.1" in command and "--port=8999" in command and "--no-browser" in command
    assert json.loads(env[page.CONFIG_ENV]) == {"trackAllPages": True} and page.EVENTS_ENV not in env


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
    assert "voila is missing" in captured.err and "pip install 'iterable_sim[jupyter]'" in captured.err
    assert "http://" not in captured.out
