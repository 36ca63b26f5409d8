"""A cassette notes the rudder-transformer release it was recorded under; compared or replayed under another,
it names the rules that changed between the two; recording it again (accepting) notes the new release. A
cassette noting none was recorded under latest."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml  # noqa: F401  (kept imported across the inner pytest sessions: see test_pytest_plugin.py)

from iterable_sim.cassettes import RECORDING_KEYS, cassette_sends, drift_frame, make_vcr, record_cassette
from iterable_sim.cassettes.sources import SourceError, release_change
from iterable_sim.cli import main
from iterable_sim.mapping.config_file import read_settings
from iterable_sim.mapping.releases import NEWEST, resolve_release
from iterable_sim.samples import sample_events

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
UPGRADE = ("cassette recorded under v1.106.1, compared under latest: v1.108.0 (840ba5cf0): every request carries "
           "endpointPath; v1.133.0 (fdd1f2de0): the router batches all events of a group per endpoint (fewer, larger "
           "batches); v1.133.3 (475d5d473): a malformed context.externalId is ignored")


def recorded(directory: Path, rudderstack: str, name: str = "c") -> Path:
    settings = read_settings({**RECORDING_KEYS, "trackAllPages": True}, rudderstack=rudderstack)
    return record_cassette(directory, name, settings)


def noted_release(path: Path) -> str | None:
    return yaml.safe_load(path.read_text("utf-8"))["metadata"]["iterable_sim"].get("rudderstack")


def test_a_cassette_notes_the_release_it_was_recorded_under_and_is_compared_under_it(tmp_path):
    path = recorded(tmp_path, "v1.106.1")
    assert noted_release(path) == "v1.106.1"
    assert [send.rudderstack for send in cassette_sends(path)] == ["v1.106.1"]
    assert drift_frame(tmp_path).empty  # read again under v1.106.1: nothing drifted


def test_compared_under_another_release_the_drift_names_the_rules_that_changed(tmp_path):
    recorded(tmp_path, "v1.106.1")
    frame = drift_frame(tmp_path, rudderstack="latest")
    release = frame[frame["change"] == "release"]
    assert release[["recorded", "now"]].values.tolist() == [["v1.106.1", UPGRADE]]
    # the calls differ too: v1.106.1's router splits the events into message-type runs first
    assert len(frame) > 1
    assert drift_frame(tmp_path, rudderstack="v1.107.0").empty  # a release v1.106.1 stands in for: the same


def test_an_older_release_names_the_behaviour_before_each_rule():
    latest, older = NEWEST, resolve_release("v1.132.1")[0]
    assert release_change("latest", older, "replayed") == (
        "cassette recorded under latest, replayed under v1.132.1: before v1.133.0 (fdd1f2de0): the router first "
        "splits events into message-type runs, then batches each run per endpoint; before v1.133.3 (475d5d473): a "
        "malformed context.externalId (not an array) crashes the transformer (TypeError, a 500)")
    assert release_change("v1.132.1", latest, "replayed").startswith("cassette recorded under v1.132.1, replayed "
                                                                      "under latest: v1.133.0 (fdd1f2de0): ")
    assert release_change(latest.short, latest, "replayed") is None


def test_cassettes_diff_and_record_again_under_another_release(tmp_path, capsys):
    path = recorded(tmp_path, "v1.106.1")
    assert main(["cassettes", "diff", str(tmp_path)]) == 0
    assert "no drift" in capsys.readouterr().out
    assert main(["cassettes", "diff", str(tmp_path), "--rudderstack", "latest"]) == 1
    out = capsys.readouterr().out
    assert f"\nc.yaml: {UPGRADE}\n" in out  # named from the directory given
    assert main(["record", str(path), "--rudderstack", "latest"]) == 0  # accepting: recorded again under latest
    capsys.readouterr()
    assert noted_release(path) == "latest"
    assert main(["cassettes", "diff", str(tmp_path)]) == 0
    assert main(["cassettes", "diff", str(tmp_path), "--rudderstack", "v1.132.1"]) == 1
    assert "cassette recorded under latest, compared under v1.132.1: before v1.133.0" in capsys.readouterr().out


def test_recording_again_without_rudderstack_keeps_the_release_recorded(tmp_path, capsys):
    path = recorded(tmp_path, "v1.96.0")
    assert main(["record", str(path)]) == 0
    assert noted_release(path) == "v1.96.0"


def test_a_cassette_noting_no_release_was_recorded_under_latest(tmp_path):
    old = tmp_path / "track_all_pages.yaml"
    text = (CASSETTES / "track_all_pages.yaml").read_text("utf-8")
    old.write_text(text.replace("    rudderstack: latest\n", ""), "utf-8")
    assert noted_release(old) is None
    assert [send.rudderstack for send in cassette_sends(old)] == ["latest"]
    assert drift_frame(tmp_path).empty and drift_frame(tmp_path, rudderstack="latest").empty
    with make_vcr(record_mode="none", release=NEWEST).use_cassette(str(old)) as cassette:
        assert cassette.recorded_release == "latest" and cassette.release_change() is None


def test_a_cassette_noting_a_release_iterable_sim_does_not_know_is_one_line(tmp_path, capsys):
    path = recorded(tmp_path, "latest")
    path.write_text(path.read_text("utf-8").replace("rudderstack: latest", "rudderstack: v0.1.0"), "utf-8")
    with pytest.raises(SourceError, match=r"c\.yaml: rudder-transformer v0\.1\.0 is older than every release"):
        cassette_sends(path)[0].load_settings()
    assert main(["cassettes", "diff", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_cassette_is_recorded_under_one_release(tmp_path):
    from iterable_sim.cassettes.record import RecordingError, record

    events = sample_events()[:3]
    sends = [(events, read_settings({**RECORDING_KEYS, "trackAllPages": True}, rudderstack=release))
             for release in ("v1.106.1", "latest")]
    with pytest.raises(RecordingError, match="its sends map as v1.106.1 and latest: a cassette is recorded under one"):
        record(tmp_path / "mixed.yaml", sends)


# ---------------------------------------------------------------- the pytest plugin

FLOW = '''
import pytest


@pytest.mark.vcr
def test_send(iterable_send):
    assert iterable_send(to="server").summary()["requests"] > 0


def test_release(iterable_settings, pytestconfig):
    assert iterable_settings.release.tag == pytestconfig.getoption("expected")
'''

CONFTEST = '''
def pytest_addoption(parser):
    parser.addoption("--expected", default="latest")
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:nbval", "-p", "no:hypothesispytest", "-p", "no:anyio", "-ra", *args)


def plugin_flow(pytester: pytest.Pytester, rudderstack: str | None) -> Path:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_flow=FLOW)
    if rudderstack is not None:
        pytester.makeini(f"[pytest]\niterable_sim_rudderstack = {rudderstack}\n")
    return pytester.path / "cassettes" / "test_flow" / "test_send.yaml"


def test_the_plugins_settings_map_as_the_ini_option_and_the_command_line_option(pytester):
    plugin_flow(pytester, "v1.106.1")
    run(pytester, "-k", "test_release", "--expected=v1.106.1").assert_outcomes(passed=1)
    run(pytester, "-k", "test_release", "--expected=v1.132.1", "--iterable-rudderstack", "v1.132.1") \
        .assert_outcomes(passed=1)


def test_without_the_ini_option_the_plugin_maps_as_latest(pytester):
    plugin_flow(pytester, None)
    run(pytester, "-k", "test_release", "--expected=latest").assert_outcomes(passed=1)


def test_a_stand_in_release_is_a_pytest_warning(pytester):
    plugin_flow(pytester, "v1.107.0")
    result = run(pytester, "-k", "test_release", "--expected=v1.106.1")
    result.assert_outcomes(passed=1)  # pytest 7.0 adds a warning of its own (PytestAssertRewriteWarning)
    result.stdout.fnmatch_lines(["*IterableSettingsWarning: iterable_config: rudder-transformer v1.107.0 is not a "
                                 "known release: mapping as v1.106.1, the newest known before it*"])
    assert result.stdout.str().count("IterableSettingsWarning") == 1


def test_a_release_the_plugin_cannot_map_as_stops_the_session_in_one_line(pytester):
    plugin_flow(pytester, "v1.2.3")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: iterable_sim_rudderstack: rudder-transformer v1.2.3 is older than every "
                                 "release iterable_sim knows (v1.84.0 is the oldest); known: *"])


def test_a_replay_under_another_release_fails_naming_the_rules_and_accepting_records_the_new_one(pytester):
    path = plugin_flow(pytester, "v1.106.1")
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    assert noted_release(path) == "v1.106.1"
    run(pytester, "-k", "test_send").assert_outcomes(passed=1)  # replayed under the release it was recorded under
    result = run(pytester, "-k", "test_send", "--iterable-rudderstack", "latest")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "cassette recorded under v1.106.1, replayed under latest; Iterable calls differ from the cassette: * "
        "(cassettes/test_flow/test_send.yaml).",
        "",
        UPGRADE.replace("compared", "replayed"),
        "If the change is intended, accept it (records this test's Iterable calls again under latest; no stale call "
        "is kept):",
        "  pytest --iterable-accept 'test_flow.py::test_send'"])
    run(pytester, "-k", "test_send", "--iterable-accept", "--iterable-rudderstack", "latest").assert_outcomes(passed=1)
    assert noted_release(path) == "latest"
    run(pytester, "-k", "test_send", "--iterable-rudderstack", "latest").assert_outcomes(passed=1)


def test_a_replay_whose_calls_match_still_fails_under_another_release(pytester):
    path = plugin_flow(pytester, "v1.106.1")
    run(pytester, "--record-mode=once", "-k", "test_send").assert_outcomes(passed=1)
    # v1.96.0 sends these events as v1.106.1 does: a cassette noting it shows the release check alone
    path.write_text(path.read_text("utf-8").replace("rudderstack: v1.106.1", "rudderstack: v1.96.0"), "utf-8")
    result = run(pytester, "-k", "test_send")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["cassette recorded under v1.96.0, replayed under v1.106.1 (the calls are the same) "
                                 "(cassettes/test_flow/test_send.yaml).", "",
                                 "cassette recorded under v1.96.0, replayed under v1.106.1: v1.97.0 (bc7035849): *"])


def test_cassettes_diff_and_record_say_which_release_stands_in(tmp_path, capsys):
    path = recorded(tmp_path, "v1.106.1")
    assert main(["cassettes", "diff", str(tmp_path), "--rudderstack", "v1.107.0"]) == 0
    warning = ("warning: rudder-transformer v1.107.0 is not a known release: mapping as v1.106.1, the newest known "
               "before it\n")
    assert capsys.readouterr().err == warning
    assert main(["record", str(path), "--rudderstack", "v1.107.0"]) == 0
    assert capsys.readouterr().err == warning and noted_release(path) == "v1.106.1"
