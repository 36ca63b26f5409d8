"""`--rudderstack RELEASE` on the command line: one option for map, send, record, crosscheck and explore, reaching
every way the settings are read (flags, --settings files of any kind); `--version` lists the known releases."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from iterable_sim.cli import main
from iterable_sim.cli.arguments import settings_from_args
from iterable_sim.cli.parser import build_parser
from iterable_sim.mapping.releases import KNOWN_RELEASES, known_list
from iterable_sim.widgets import page

DATA = Path(__file__).resolve().parent / "data"
TRACK = {"type": "track", "event": "Clicked", "userId": "u1", "messageId": "m1",
         "timestamp": "2024-05-01T10:00:00.000Z"}
COMMANDS = {"map": [], "send": [], "crosscheck": ["events.json", "--transformer", "http://127.0.0.1:9"],
            "record": [], "explore": []}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_that_maps_takes_rudderstack_and_lists_the_known_releases(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--rudderstack RELEASE" in capsys.readouterr().out
    args = build_parser().parse_args([command, *COMMANDS[command], "--rudderstack", "v1.106.1"])
    assert settings_from_args(args).release.tag == "v1.106.1"
    args = build_parser().parse_args([command, *COMMANDS[command]])
    assert settings_from_args(args).release.is_latest


def test_the_help_names_every_known_release(capsys):
    with pytest.raises(SystemExit):
        main(["map", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    assert known_list() in help_text and "(default: latest, the newest)" in help_text


@pytest.mark.parametrize("name", ["v1.106.1", "1.106.1", "a0d43259"])
def test_a_release_is_named_by_its_tag_or_its_commit(name):
    args = build_parser().parse_args(["map", "--rudderstack", name])
    assert settings_from_args(args).release.tag == "v1.106.1"


@pytest.mark.parametrize("path", [DATA / "workspaceConfig.json", DATA / "destination_export.json"])
def test_the_release_reaches_settings_read_from_a_workspace_config_and_a_destination_export(path):
    args = build_parser().parse_args(["send", "--settings", str(path), "--rudderstack", "v1.132.1",
                                      "--data-center", "EUDC"])
    settings = settings_from_args(args)
    assert (settings.release.tag, settings.data_center) == ("v1.132.1", "EUDC")
    assert settings.destination is not None and settings.destination.path == str(path)


@pytest.mark.parametrize("name, problem", [
    ("v1.50.0", "--rudderstack: rudder-transformer v1.50.0 is older than every release iterable_sim knows "
                "(v1.84.0 is the oldest); known: "),
    ("newest", "--rudderstack: 'newest' is not a rudder-transformer release (such as 'v1.106.1' or 'latest'); known: "),
])
@pytest.mark.parametrize("command", ["map", "send", "record", "explore"])
def test_a_release_iterable_sim_cannot_map_as_is_one_line_and_exit_2(command, name, problem, tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(page, "require_voila", lambda: None)
    monkeypatch.setattr(page, "serve", lambda *args, **kwargs: pytest.fail("the page must not start"))
    events = tmp_path / "events.json"
    events.write_text(json.dumps([TRACK]))
    given = {"map": [str(events)], "send": [str(events)], "record": ["--events", str(events), str(tmp_path / "c.yaml")],
             "explore": [str(events)]}[command]
    assert main([command, *given, "--rudderstack", name]) == 2
    err = capsys.readouterr().err
    assert err == f"iterable-sim {command}: {problem}{known_list()}\n"
    assert not (tmp_path / "c.yaml").exists()


def test_crosscheck_refuses_an_unknown_release_before_reaching_the_transformer(tmp_path, capsys):
    events = tmp_path / "events.json"
    events.write_text(json.dumps([TRACK]))
    assert main(["crosscheck", str(events), "--transformer", "http://127.0.0.1:9", "--rudderstack", "v0.1.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "v0.1.0 is older than every release iterable_sim knows" in err


def test_a_release_between_two_known_ones_maps_as_the_one_before_and_says_so(tmp_path, capsys):
    events = tmp_path / "events.json"
    events.write_text(json.dumps([TRACK]))
    assert main(["map", str(events), "--rudderstack", "v1.107.0", "--format", "jsonl"]) == 0
    assert "warning: rudder-transformer v1.107.0 is not a known release: mapping as v1.106.1, the newest known " \
           "before it\n" in capsys.readouterr().err  # no rule changed in between: nothing left unreproduced
    assert main(["map", str(events), "--rudderstack", "v1.110.0", "--format", "jsonl"]) == 0
    assert "not reproduced: v1.108.0 (840ba5cf0): every request carries endpointPath" in capsys.readouterr().err


def test_explore_hands_the_release_to_the_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(page, "require_voila", lambda: None)
    served = {}

    def serve(path, settings_path, *, on_listening, **kwargs):
        served.update(kwargs)
        return 0

    monkeypatch.setattr(page, "serve", serve)
    assert main(["explore", "--rudderstack", "v1.96.0", "--no-browser"]) == 0
    assert served["rudderstack"] == "v1.96.0"
    monkeypatch.setenv(page.RUDDERSTACK_ENV, "v1.96.0")
    monkeypatch.delenv(page.SETTINGS_ENV, raising=False)
    explorer = page.explorer_from_environment()
    assert explorer.settings.release.tag == "v1.96.0"
    explorer.controls["map_to_single_event"].value = True  # a changed control keeps the release
    assert explorer.settings.release.tag == "v1.96.0"


def test_the_page_is_given_the_release_in_its_environment(monkeypatch):
    commands = []

    class Voila:
        def __init__(self, command, env):
            commands.append(env)

        def poll(self):
            return 0

        def wait(self):
            return 0

    monkeypatch.setattr(page.subprocess, "Popen", Voila)
    monkeypatch.setenv(page.RUDDERSTACK_ENV, "left over")
    page.serve(None, None, port=8998, open_browser=False, rudderstack="v1.88.2")
    page.serve(None, None, port=8998, open_browser=False)
    assert commands[0][page.RUDDERSTACK_ENV] == "v1.88.2" and page.RUDDERSTACK_ENV not in commands[1]


def test_version_lists_the_known_releases_and_the_default(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    listed = lines[lines.index("maps as any of these releases (--rudderstack RELEASE):") + 1:]
    assert [line.split()[0] for line in listed] == [release.tag for release in KNOWN_RELEASES]
    assert all(release.commit in line for release, line in zip(KNOWN_RELEASES, listed, strict=True))
    assert listed[-1].endswith("(the default)") and not any("default" in line for line in listed[:-1])


def test_map_maps_as_the_release_asked_for(tmp_path, capsys):
    """v1.84.0 had no EU data center: the same events go to the US host, and the settings say so."""
    events = tmp_path / "events.json"
    events.write_text(json.dumps([TRACK]))
    argv = ["map", str(events), "--format", "jsonl", "--data-center", "EUDC", "--api-key", "k"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["url"] == "https://api.eu.iterable.com/api/events/track"
    assert main([*argv, "--rudderstack", "v1.84.0"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["url"] == "https://api.iterable.com/api/events/track"
    assert "warning: dataCenter is 'EUDC', but rudder-transformer v1.84.0 has no EU data center" in err
