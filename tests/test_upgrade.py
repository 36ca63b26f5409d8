"""upgrade_diff and `iterable-sim upgrade`: what moving rudder-transformer between releases changes, per event
and field, each change matched to the rule behind it."""
import csv
import gc
import io
import json
from pathlib import Path

import pytest

import iterable_sim as its
from iterable_sim.checks import upgrade
from iterable_sim.checks.upgrade import EXPLAINS, KINDS, UpgradeDiffError, upgrade_diff
from iterable_sim.cli import main
from iterable_sim.mapping.releases import RULES, UnknownReleaseError

AT = "2026-01-05T10:00:00Z"
DATA = Path(__file__).parent / "data"
CONFIG = {"apiKey": "key-123", "registerDeviceOrBrowserApiKey": "dev-key", "trackAllPages": True}
TRACK = {"type": "track", "event": "Clicked", "userId": "u1"}
DEVICE = {"type": "identify", "userId": "u2", "traits": {"email": "a@example.com"},
          "context": {"device": {"token": "tok", "type": "ios"}}}
NUMBER_TOKEN = {"type": "identify", "userId": "u3", "traits": {"email": "b@example.com"},
                "context": {"device": {"token": 12345, "type": "ios"}}}
BAD_EXTERNAL_ID = {"type": "identify", "userId": "u4", "context": {"mappedToDestination": True, "externalId": {"a": 1}}}
EVENTS = [TRACK, DEVICE, NUMBER_TOKEN, BAD_EXTERNAL_ID]


def diff(events=EVENTS, config=CONFIG, **options):
    return upgrade_diff(events, its.Settings.from_rudder(config), progress=False, received_at=AT, **options)


def test_every_rule_says_which_changes_it_explains():
    assert set(EXPLAINS) == {rule.name for rule in RULES}
    assert {rule.kind for rule in RULES} <= set(KINDS)


def test_the_token_request_comes_back_after_v1_88_2():
    found = diff(from_="v1.88.2", to="v1.106.1")
    frame = found.frame()
    added = frame[frame["kind"] == "request"]
    assert added["event"].tolist() == [1] and added["change"].tolist() == ["users/registerDeviceToken request added"]
    assert added["rule"].tolist() == ["token_registration"] and added["commit"].tolist() == ["a986138d4"]
    assert '"api_key":"dev-…"' in added["after"].iloc[0] and "dev-key" not in frame.to_string()  # keys masked
    assert found.events == 4 and found.unexplained == 0


def test_every_request_gains_endpoint_path_from_v1_108_0():
    frame = diff(from_="v1.106.1", to="latest").frame().query("kind == 'request'")
    assert frame["event"].tolist() == [0, 1, 1] and set(frame["change"]) == {".endpointPath added"}
    assert frame["field"].tolist() == [".endpointPath"] * 3 and set(frame["before"]) == {"(absent)"}
    assert frame["after"].tolist() == ['"events/track"', '"users/update"', '"users/registerDeviceToken"']
    assert set(frame["commit"]) == {"840ba5cf0"}


def test_endpoint_path_is_told_apart_from_what_reaches_iterable():
    found = diff(from_="v1.106.1", to="latest")
    assert (found.events, found.changed, found.changed_for_iterable, found.only_own_output) == (4, 3, 1, 2)
    assert found.events_with("request") == 0 and found.events_with(upgrade.OWN_OUTPUT) == 2
    frame = found.frame()
    assert frame.groupby("reaches_iterable")["change"].agg(set).to_dict() == {
        False: {".endpointPath added"}, True: {"refused differently (status 500 → 400)"}}
    groups = found.groups_frame()
    assert groups[["kind", "reaches_iterable", "change", "events"]].values.tolist() == [
        ["error", True, "refused differently (status 500 → 400)", 1], ["request", False, ".endpointPath added", 2]]
    assert found.headline() == ("v1.106.1 → latest: 4 events, 1 change what reaches Iterable, 2 only RudderStack's "
                                "own output, 1 unchanged; 0 unexplained")
    text = found.summary()
    assert "4 events: 1 would change what reaches Iterable, 2 only RudderStack's own output (endpointPath), " \
           "1 not at all (each event mapped on its own)" in text
    assert "request changes: none" in text and "error changes: 1 event" in text
    assert "\nRudderStack's own output (never sent to Iterable): 2 events\n" \
           "       2 events  .endpointPath added  (first: event 0)\n" \
           "                 v1.108.0 (840ba5cf0): every request carries endpointPath" in text
    assert "RudderStack's own output (never sent to Iterable): none" in diff(from_="v1.88.2", to="v1.106.1").summary()


def test_a_refusal_that_appears_or_changes_names_the_crash_behind_it():
    frame = diff(from_="v1.88.2", to="latest").frame().query("kind == 'error'").set_index("event")
    assert frame.loc[2, "change"] == "sent → refused (status 500)" and frame.loc[2, "rule"] == "token_md5_log"
    assert frame.loc[2, "before"] == "users/update" and frame.loc[2, "field"] == "device.token"
    assert frame.loc[3, "change"] == "refused differently (status 500 → 400)"
    assert frame.loc[3, "rule"] == "external_id_guard" and frame.loc[3, "status"] == 500
    assert frame.loc[3, "before"] == "500: externalIdArray.forEach is not a function"


def test_eudc_moves_every_request_of_v1_84_0_to_the_eu_host():
    found = diff(config={**CONFIG, "dataCenter": "EUDC"}, from_="v1.84.0", to="v1.106.1")
    hosts = found.frame().query("kind == 'host'")
    assert hosts["event"].tolist() == [0, 1, 1]  # the identify's users/update and its token registration
    assert set(hosts["change"]) == {"host api.iterable.com → api.eu.iterable.com"}
    assert set(hosts["rule"]) == {"eu_data_center"} and found.events_with("host") == 2
    groups = found.groups_frame()
    assert groups.iloc[0][["kind", "events", "first_event", "since"]].tolist() == ["host", 2, 0, "v1.85.0"]


def test_the_eu_data_center_commit_also_stopped_the_token_requests():
    found = diff(events=[DEVICE], config={**CONFIG, "dataCenter": "EUDC"}, from_="v1.84.0", to="v1.88.2")
    removed = found.frame().query("kind == 'request'")
    assert removed["change"].tolist() == ["users/registerDeviceToken request removed"]
    assert removed["rule"].tolist() == ["eu_data_center"]
    assert "the same commit stopped the token registrations until v1.88.3 (a986138d4)" in found.summary()


def test_the_same_release_changes_nothing_and_going_back_mirrors_the_change():
    same = diff(from_="latest", to="latest")
    assert same.changed == 0 and same.frame().empty and "no rule changed between them" in same.summary()
    back = diff(events=[DEVICE], from_="v1.106.1", to="v1.88.2")
    assert back.frame()["change"].tolist() == ["users/registerDeviceToken request removed"]
    assert back.frame()["rule"].tolist() == ["token_registration"] and back.going_back
    assert "v1.88.3 (a986138d4) undone, as before it: identify with a device or browser token sends no " \
           "users/registerDeviceToken" in back.summary()


def test_a_change_no_rule_explains_is_reported_as_unexplained(monkeypatch):
    monkeypatch.setitem(EXPLAINS, "eu_data_center", lambda change, in_range: False)
    found = diff(events=[TRACK], config={**CONFIG, "dataCenter": "EUDC"}, from_="v1.84.0", to="v1.88.2")
    assert found.unexplained == 1 and found.frame()["rule"].tolist() == ["unexplained"]
    assert "UNEXPLAINED: no rule between the two releases makes this change" in found.summary()
    assert "a bug of iterable_sim's" in found.summary()


def test_router_calls_count_the_requests_and_tell_regrouped_batches(monkeypatch):
    real_route = upgrade.route

    def route_one_by_one_before_v1_133(jobs):  # stands in for a release whose router cuts smaller batches
        jobs = list(jobs)
        if jobs and jobs[0][2].release.has("no_type_grouping"):
            return real_route(jobs)
        return [batch for job in jobs for batch in real_route([job])]

    monkeypatch.setattr(upgrade, "route", route_one_by_one_before_v1_133)
    tracks = [{**TRACK, "userId": f"u{i}"} for i in range(3)]
    found = diff(events=tracks, from_="v1.132.1", to="latest", router=2)
    assert (found.requests_before, found.requests_after) == (3, 2)  # calls of 2 and 1 events
    batches = found.frame()
    assert batches["event"].tolist() == [0, 1] and set(batches["kind"]) == {"batch"}
    assert batches["change"].tolist() == ["events/trackBulk batch regrouped"] * 2
    assert batches["before"].tolist() == ["a batch of 1 event"] * 2
    assert batches["after"].tolist() == ["a batch of 2 events"] * 2
    assert set(batches["rule"]) == {"no_type_grouping"}
    assert "router calls of 2 events: 3 requests to Iterable → 2" in found.summary()


def test_rudder_servers_steps_run_first_and_once():
    found = diff(events=[{"type": "group", "userId": "u1"}, TRACK], config={**CONFIG, "dataCenter": "EUDC"},
                 from_="v1.84.0", to="v1.88.2")
    assert found.frame()["event"].tolist() == [1]  # the group call is filtered by rudder-server under both


def test_counts_only_and_each_change_as_it_is_found():
    seen = []
    found = diff(from_="v1.88.2", to="v1.106.1", keep_rows=False, on_change=seen.append)
    assert [change.event for change in seen] == [1, 2]
    with pytest.raises(UpgradeDiffError, match="keep_rows=True"):
        found.frame()
    assert found.groups_frame()["events"].sum() == 2


def test_refused_events_leave_no_reference_cycles_behind():
    """Memory stays flat on any input: nothing waits for the collector (whose full passes are rare once the
    router's bulk work has moved everything to its oldest generation)."""
    refused = [{"type": "page", "name": "Home", "userId": f"u{i}"} for i in range(30)]  # no page setting
    gc.collect()
    gc.disable()
    try:
        found = diff(events=refused, config={"apiKey": "k"}, from_="v1.84.0", to="latest", router=10)
        assert found.changed == 0 and gc.collect() == 0
    finally:
        gc.enable()


def test_bad_arguments_are_said_clearly():
    with pytest.raises(UnknownReleaseError, match="older than every release"):
        diff(from_="v1.2.0", to="latest")
    with pytest.raises(UpgradeDiffError, match="at least 1 event"):
        diff(from_="v1.84.0", to="latest", router=0)
    with pytest.raises(TypeError, match="collection of events"):
        upgrade_diff(TRACK, its.Settings(), from_="v1.84.0", to="latest")


def test_repr_and_html_for_notebooks():
    found = diff(from_="v1.88.2", to="v1.106.1")
    assert repr(found) == ("<UpgradeDiff v1.88.2 → v1.106.1: 4 events, 2 change what reaches Iterable, 0 only "
                           "RudderStack's own output, 2 unchanged; 0 unexplained (events with changes: request 1, "
                           "error 1)>")
    page = found._repr_html_()
    assert "<table" in page and "token_registration" in page and "What reaches Iterable:" in page
    assert "never sent to Iterable" not in page
    own = diff(events=[TRACK], from_="v1.106.1", to="latest")._repr_html_()
    assert "What reaches Iterable:</p><p><i>no change</i></p>" in own
    assert "RudderStack&#x27;s own output (never sent to Iterable):</p><table" in own and "endpoint_path" in own
    assert "not compared (route the events: router=N):</p><ul><li>v1.97.0 (bc7035849)" in page


def test_settings_built_directly_keep_everything_but_the_release():
    settings = its.Settings(api_key="k", data_center="EUDC", track_all_pages=False, track_named_pages=True)
    old = upgrade.settings_as(settings, its.Settings(rudderstack="v1.84.0").release)
    assert old.release.tag == "v1.84.0" and old.track_named_pages and not old.track_all_pages
    assert old.base_url == "https://api.iterable.com/api/"


def test_settings_read_from_a_workspace_config_keep_their_config_and_rudder_servers_context():
    settings = its.read_settings(DATA / "workspaceConfig.json", destination="Iterable prod")
    old = upgrade.settings_as(settings, its.Settings(rudderstack="v1.96.0").release)
    assert old.release.tag == "v1.96.0" and old.rudder_config == settings.rudder_config
    assert old.pipeline is settings.pipeline and old.group_key == settings.group_key


# ---- the command line


def run(argv):
    out = io.StringIO()
    return main(argv, out), out.getvalue()


@pytest.fixture
def files(tmp_path):
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(event) + "\n" for event in EVENTS))
    (tmp_path / "settings.json").write_text(json.dumps(CONFIG))
    return tmp_path


def test_cli_groups_the_changes_by_kind_with_counts_and_commits(files):
    code, text = run(["upgrade", str(files / "events.jsonl"), "--settings", str(files / "settings.json"),
                      "--from", "v1.88.2", "--to", "v1.106.1", "--received-at", AT, "--no-progress"])
    assert code == 0
    assert "4 events: 2 would change what reaches Iterable, 0 only RudderStack's own output (endpointPath), " \
           "2 not at all" in text
    assert "request changes: 1 event\n        1 event  users/registerDeviceToken request added  (first: event 1)\n" \
           "                 v1.88.3 (a986138d4): identify with a device or browser token" in text
    assert "host changes: none" in text and "unexplained: none" in text
    assert "batch changes: not compared (the events were not routed in router calls)" in text
    assert "changes of the router's batches, not compared (route the events: --router N, or router=N):\n" \
           "  v1.97.0 (bc7035849)" in text


def test_cli_writes_the_rows_as_csv_and_routes(files):
    out = files / "changes.csv"
    code, text = run(["upgrade", str(files / "events.jsonl"), "--settings", str(files / "settings.json"),
                      "--from", "v1.88.2", "--to", "v1.106.1", "--router", "2", "--out", str(out), "--no-progress"])
    assert code == 0 and "router calls of 2 events" in text and f"written to {out}" in text
    rows = list(csv.DictReader(out.open()))
    assert [row["event"] for row in rows] == ["1", "2"] and rows[0]["commit"] == "a986138d4"


def test_cli_exits_0_when_only_rudderstacks_own_output_changes(files):
    out = files / "changes.csv"
    code, text = run(["upgrade", str(files / "events.jsonl"), "--settings", str(files / "settings.json"),
                      "--from", "v1.106.1", "--to", "v1.132.1", "--received-at", AT, "--no-progress", "--out", str(out)])
    assert code == 0 and "4 events: 0 would change what reaches Iterable, 2 only RudderStack's own output" in text
    assert {row["reaches_iterable"] for row in csv.DictReader(out.open())} == {"False"}


def test_cli_bad_input_is_one_line_and_exit_2(files, capsys):
    events = str(files / "events.jsonl")
    assert run(["upgrade", events, "--from", "v9", "--to", "latest"])[0] == 2
    assert "--from: 'v9' is not a rudder-transformer release" in capsys.readouterr().err
    assert run(["upgrade", events, "--from", "v1.84.0", "--to", "latest", "--router", "0"])[0] == 2
    assert "--router: a router call needs at least 1 event, not 0" in capsys.readouterr().err
    assert run(["upgrade", str(files / "missing.jsonl"), "--from", "v1.84.0", "--to", "latest"])[0] == 2
    assert "no such events file" in capsys.readouterr().err
    (files / "bad.jsonl").write_text('{"type": "track", "event": "A", "userId": "u"}\nnot json\n')
    code, _ = run(["upgrade", str(files / "bad.jsonl"), "--from", "v1.84.0", "--to", "latest", "--no-progress"])
    assert code == 1 and "bad.jsonl, line 2: not JSON" in capsys.readouterr().err
