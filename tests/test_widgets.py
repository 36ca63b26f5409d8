"""The notebook widgets, headless: set their controls' values, read their tables."""
import json

import pytest

from iterable_sim import Settings
from iterable_sim.samples import sample_events
from iterable_sim.widgets import SettingsExplorer
from iterable_sim.widgets.explorer import FLAG_LABELS

TS = "2024-06-01T10:00:00.000Z"
NAMED = {"type": "page", "name": "Pricing", "userId": "u1", "originalTimestamp": TS}
UNNAMED = {"type": "page", "userId": "u1", "originalTimestamp": TS}
DEVICE = {"type": "identify", "userId": "u1", "traits": {"email": "jo@example.com"},
          "context": {"device": {"token": "tok-1", "type": "ios"}}}
BAD_EMAIL = {"type": "track", "event": "Signed Up", "userId": "u1", "properties": {"email": "nope"}}
EVENTS = [NAMED, UNNAMED, DEVICE, BAD_EMAIL]


def shown(grid):
    """The rows a grid sends to the browser, as text."""
    return json.dumps(json.loads(grid.table._dt_args["data_json"]))


# ---- SettingsExplorer


@pytest.fixture
def explorer():
    return SettingsExplorer(EVENTS, Settings(api_key="secret-key-123"))


def test_explorer_has_a_control_for_every_setting(explorer):
    assert set(explorer.controls) == set(FLAG_LABELS) | {"data_center", "register_device_or_browser_api_key"}
    descriptions = {c.description for c in explorer.controls.values()}
    assert {"Track All Pages", "Track Categorized Pages", "Track Named Pages", "Map All Pages to Single Event Name",
            "preferUserId", "mergeNestedObjects"} <= descriptions


def test_explorer_starts_from_the_given_settings(explorer):
    assert explorer.settings == Settings(api_key="secret-key-123")
    assert explorer.requests_frame()["endpoint"].tolist() == ["events/track", "events/track", "users/update",
                                                              "events/track"]
    assert explorer.requests_frame()["preflight"].tolist() == ["ok", "warning", "ok", "rejected"]
    assert explorer.changes_frame().empty


def test_controls_from_rudder_settings_read_as_rudderstack_reads_them():
    settings = Settings.from_rudder({"trackAllPages": "false", "mapToSingleEvent": "true", "preferUserId": False})
    explorer = SettingsExplorer([NAMED], settings)
    assert explorer.controls["track_all_pages"].value is True  # "false" is truthy in JavaScript
    assert explorer.controls["map_to_single_event"].value is False  # only the boolean true counts
    assert explorer.controls["prefer_user_id"].value is False


def test_switching_to_named_pages_drops_the_unnamed_page(explorer):
    explorer.controls["track_all_pages"].value = False
    explorer.controls["track_named_pages"].value = True
    assert explorer.settings.track_named_pages and not explorer.settings.track_all_pages
    assert explorer.errors_frame()["event"].tolist() == [1]
    changes = explorer.changes_frame()
    assert changes["event"].tolist() == [1] and changes["change"].tolist() == ["dropped"]
    assert changes["current"][0] == "refused: Invalid page call"
    assert "Invalid page call" in shown(explorer._errors) and "dropped" in shown(explorer._changes)


def test_single_event_name_renames_and_data_center_moves(explorer):
    explorer.controls["map_to_single_event"].value = True
    assert explorer.requests_frame()["eventName"].tolist()[:2] == ["Loaded a Page", "Loaded a Page"]
    explorer.set_baseline()
    assert explorer.changes_frame().empty
    explorer.controls["data_center"].value = "EUDC"
    changes = explorer.changes_frame()
    assert set(changes["change"]) == {"moved"} and len(changes) == 4


def test_device_key_box_adds_the_registration_without_asking_for_a_key(explorer):
    explorer.controls["register_device_or_browser_api_key"].value = True
    frame = explorer.requests_frame()
    assert frame[frame["event"] == 2]["endpoint"].tolist() == ["users/update", "users/registerDeviceToken"]
    assert explorer.changes_frame()["change"].tolist() == ["request added"]


def test_a_given_device_key_is_kept():
    explorer = SettingsExplorer([DEVICE], Settings(register_device_or_browser_api_key="real-device-key"))
    assert explorer.controls["register_device_or_browser_api_key"].value is True
    assert explorer.settings.register_device_or_browser_api_key == "real-device-key"


def test_all_page_settings_off_warns(explorer):
    explorer.controls["track_all_pages"].value = False
    assert "every page and screen event is rejected" in explorer._status.value
    assert explorer.errors_frame()["event"].tolist() == [0, 1]


def test_explorer_display_has_a_short_text_repr_and_a_one_line_static_view(explorer):
    bundle, metadata = explorer._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"}
    assert bundle["text/plain"] == ("<SettingsExplorer: 4 events → 4 requests; 0 refused by RudderStack, 1 rejected "
                                    "by Iterable (preflight); 0 settings changed from the baseline>")
    # without a kernel: the headline, and how to get the controls (no ghost tables or controls)
    assert "4 events → 4 requests" in bundle["text/html"] and "run this cell to get the live controls" in bundle["text/html"]
    assert "<table" not in bundle["text/html"] and "<input" not in bundle["text/html"]
    assert metadata == {"iterable_sim": {"static_view": "text/html"}}


def test_explorer_requests_show_the_host_the_data_center_picks(explorer):
    assert set(explorer.requests_frame()["host"]) == {"api.iterable.com"}
    assert explorer.requests_frame().columns.tolist()[3:5] == ["host", "endpoint"]
    explorer.controls["data_center"].value = "EUDC"
    assert set(explorer.requests_frame()["host"]) == {"api.eu.iterable.com"}
    assert "api.eu.iterable.com" in shown(explorer._requests) and "api.iterable.com" not in shown(explorer._requests)


def test_grid_shows_10000_rows_sortable_and_filterable():
    from iterable_sim.widgets._view import Grid
    import pandas as pd

    grid = Grid()
    grid.show(pd.DataFrame({"n": range(10_000), "text": [f"row {i}" for i in range(10_000)]}))
    args = grid.table._dt_args
    assert len(json.loads(args["data_json"])) == 10_000 and "downsampling_warning" not in args
    assert args["layout"]["topEnd"] == "search" and args["column_filters"] == "header"
    assert args.get("ordering", True) is not False


def test_grid_cells_read_as_values_not_reprs():
    from iterable_sim.widgets._view import display_frame
    import pandas as pd

    frame = pd.DataFrame({"error": [None, "boom"], "waited": [3.056975, float("nan")], "status": [200, 503],
                          "items": [[1, 2], {"a": 1}]})
    assert display_frame(frame).to_dict("list") == {"error": ["", "boom"], "waited": ["3.057", ""],
                                                    "status": [200, 503], "items": ["[1, 2]", "{'a': 1}"]}


def test_explorer_never_shows_the_api_key(explorer):
    explorer.controls["track_all_pages"].value = False
    text = (repr(explorer) + explorer.snapshot_html() + explorer.requests_frame().to_string()
            + shown(explorer._requests) + shown(explorer._changes))
    assert "secret-key" not in text and "secr" not in text


def test_default_events_are_the_samples():
    assert SettingsExplorer().events == sample_events()


# ---- Simulator and FaultPanel


SIM_SETTINGS = Settings(api_key="secret-key-123")


def sim(**kwargs):
    from iterable_sim.widgets import Simulator

    return Simulator(EVENTS, SIM_SETTINGS, **kwargs)


def test_simulator_sends_on_creation_and_accounts_for_every_event():
    simulator = sim()
    summary = simulator.report.summary()
    assert summary["sent"] == len(EVENTS) == summary["delivered"] + summary["rejected"] + summary["failed"]
    outcomes = simulator.outcomes_frame()
    assert outcomes.set_index("event").loc[3, "fate"] == "rejected"  # the invalid email
    assert "jo@example.com" in simulator.mock.users_frame()["email"].tolist()
    assert set(simulator.journal_frame().columns) == {"seq", "time", "data_center", "method", "endpoint", "status",
                                                      "code", "msg", "fault", "latency"}


def test_simulator_keeps_the_release_of_settings_without_a_key(monkeypatch):
    from iterable_sim.widgets import Simulator, simulator

    sent_with = []
    real_send = simulator.send
    monkeypatch.setattr(simulator, "send", lambda events, settings, **kw: (sent_with.append(settings),
                                                                           real_send(events, settings, **kw))[1])
    keyless = Simulator(EVENTS, Settings(rudderstack="v1.106.1", rudder_server=False))  # given a stand-in key
    keyless.controls["pace"].value = False
    keyless.run()
    assert [(s.release.tag, s.rudder_server, bool(s.api_key)) for s in sent_with] == [("v1.106.1", False, True)] * 2


def test_simulator_runs_are_deterministic_retries_included():
    a, b = sim(), sim()
    for simulator in (a, b):
        simulator.faults.add(kind="5xx", times=2)
        simulator.run()
    assert a.report.summary()["retried"] > 0 and a.duration == b.duration
    assert a.requests_frame().equals(b.requests_frame())
    assert a.outcomes_frame().equals(b.outcomes_frame())
    assert a.journal_frame().equals(b.journal_frame())
    assert a.mock.events_frame().equals(b.mock.events_frame())
    assert repr(a) == repr(b)


def test_project_type_control_changes_the_outcome():
    anonymous = {"type": "track", "event": "Viewed", "anonymousId": "anon-1", "properties": {}}
    from iterable_sim.widgets import Simulator

    simulator = Simulator([anonymous], SIM_SETTINGS)
    assert simulator.outcomes_frame()["fate"].tolist() == ["delivered"]
    simulator.controls["project_type"].value = "email"
    simulator.run()
    assert simulator.outcomes_frame()["fate"].tolist() == ["rejected"]


def test_headline_names_the_project_type_sent_to_and_says_when_send_is_needed():
    simulator = sim()
    assert "4 events to the mock Iterable (hybrid project)" in simulator._summary.value
    simulator.controls["project_type"].value = "email"
    assert "(hybrid project)" in simulator._summary.value and "press <i>Send to the mock</i>" in simulator._summary.value
    simulator._send_button.click()
    assert "(email project)" in simulator._summary.value and "press" not in simulator._summary.value
    simulator.controls["pace"].value = False
    simulator.controls["pace"].value = True
    assert "press" not in simulator._summary.value  # back to what was sent


def test_fault_panel_shows_the_status_only_for_5xx_and_seconds_only_for_latency():
    from iterable_sim.widgets import FaultPanel

    panel = FaultPanel()
    def visible() -> set[str]:
        return {name for name in ("status", "seconds") if panel.controls[name].layout.display != "none"}
    assert visible() == {"status"}
    panel.controls["kind"].value = "latency"
    assert visible() == {"seconds"}
    panel.controls["kind"].value = "drop"
    assert visible() == set()


def test_simulator_requests_grid_shows_blank_errors_and_rounded_waits():
    simulator = sim()
    simulator.faults.add(kind="5xx", times=2)
    simulator.run()
    rows = json.loads(simulator._grids["Requests"].table._dt_args["data_json"])
    assert "None" not in json.dumps(rows) and "nan" not in json.dumps(rows).lower()
    waited = simulator.requests_frame().columns.get_loc("waited")
    assert all(row[waited] == "" or len(str(row[waited]).split(".")[-1]) <= 3 for row in rows)


def test_pacing_takes_simulated_time():
    from iterable_sim.widgets import Simulator

    many = [{"type": "track", "event": "Viewed", "userId": f"u{i}", "properties": {}} for i in range(3000)]
    simulator = Simulator(many, SIM_SETTINGS)
    assert simulator.requests_frame()["endpoint"].tolist() == ["events/trackBulk"] * 3
    assert simulator.duration == pytest.approx(0.2)  # trackBulk: 10 calls a second
    simulator.controls["pace"].value = False
    simulator.run()
    assert simulator.duration == 0 and simulator.report.summary()["delivered"] == 3000


def test_catalogs_the_events_write_to_exist_in_the_simulated_project():
    from iterable_sim.widgets import Simulator

    item = {"type": "identify", "userId": "p-1", "traits": {"name": "Shoe"},
            "context": {"mappedToDestination": "true",
                        "externalId": [{"id": "p-1", "identifierType": "itemId", "type": "ITERABLE-products"}]}}
    simulator = Simulator([item], SIM_SETTINGS)
    assert simulator.outcomes_frame()["fate"].tolist() == ["delivered"]
    assert simulator.mock.catalog_items_frame()["itemId"].tolist() == ["p-1"]


def test_fault_panel_controls_inject_5xx_into_the_next_run():
    simulator = sim()
    panel = simulator.faults
    panel.controls["kind"].value = "5xx"
    panel.controls["status"].value = 503
    panel.controls["rate"].value = 1.0
    panel._add_button.click()
    assert panel.faults == [{"kind": "5xx", "endpoint": None, "rate": 1.0, "status": 503, "seconds": 1.0,
                             "times": None}]
    assert "503 answers to 100% of requests to every endpoint" in panel._list.value
    report = simulator.run()
    assert report.summary()["delivered"] == 0 and set(report.frame()["status"]) == {503}
    assert set(simulator.journal_frame()["fault"]) == {"5xx"}
    panel._clear_button.click()
    assert simulator.run().summary()["failed"] == 0


def test_latency_fault_adds_simulated_time_to_one_endpoint():
    simulator = sim()
    before = simulator.duration
    endpoint = simulator.requests_frame()["endpoint"][0]
    simulator.faults.add(kind="latency", endpoint=endpoint, seconds=2.5, times=1)
    simulator.run()
    assert simulator.duration == pytest.approx(before + 2.5)


def test_fault_panel_refuses_what_the_mock_would():
    from iterable_sim.widgets import FaultPanel

    with pytest.raises(ValueError, match="rate is a fraction"):
        FaultPanel().add(rate=1.5)


def test_chart_counts_requests_per_endpoint_by_outcome():
    simulator = sim()
    chart = simulator.chart()
    frame = simulator.requests_frame()
    assert {e: sum(c.values()) for e, c in chart.counts.items()} == frame["endpoint"].value_counts().to_dict()
    svg = chart._repr_svg_()
    assert svg.startswith("<svg") and "events/track" in svg and "rejected" in svg


def test_simulator_never_shows_the_api_key():
    simulator = sim()
    text = repr(simulator) + simulator.snapshot_html() + "".join(map(shown, simulator._grids.values()))
    assert "secret-key" not in text


# ---- LiveSender


@pytest.fixture
def no_env_key(monkeypatch):
    monkeypatch.delenv("ITERABLE_API_KEY", raising=False)


def live_mock(key):
    from iterable_sim import MockIterable
    from iterable_sim.clock import ManualClock

    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(key)
    return mock


def test_live_sender_without_a_key_says_so_and_goes_no_further(no_env_key):
    from iterable_sim.widgets import LiveSender, NoApiKey

    sender = LiveSender(EVENTS, Settings())
    assert not sender.has_key and "No API key" in sender._key_status.value
    assert sender._confirm_button.disabled
    preview = sender.preview()  # the dry run needs no key
    assert preview["preflight"].tolist() == ["ok", "warning", "ok", "rejected"]
    assert sender._confirm_button.disabled and "Nothing has been sent" in sender._message.value
    with pytest.raises(NoApiKey):
        sender.confirm()
    assert repr(sender) == "<LiveSender: 4 events to live Iterable (USDC); no API key; nothing sent>"


def test_key_from_the_environment_is_never_shown(monkeypatch):
    from iterable_sim.widgets import LiveSender

    monkeypatch.setenv("ITERABLE_API_KEY", "env-secret-123")
    mock = live_mock("env-secret-123")
    sender = LiveSender(EVENTS, Settings(), to=mock, progress=False)
    assert sender.has_key and "from $ITERABLE_API_KEY" in sender._key_status.value
    sender.preview()
    report = sender.confirm()
    assert report.summary()["delivered"] == 3
    text = (repr(sender) + sender.snapshot_html() + shown(sender._outcome_view) + sender._message.value
            + mock.journal_frame().to_string())
    assert "env-secret" not in text and "secret-123" not in text


def test_typed_key_is_taken_and_the_field_emptied(no_env_key):
    from iterable_sim.widgets import LiveSender

    sender = LiveSender(EVENTS, Settings(), to=live_mock("typed-secret-456"), progress=False)
    sender.password.value = "typed-secret-456"
    sender._use_key.click()
    assert sender.has_key and sender.password.value == ""
    assert "typed-secret" not in sender._key_status.value + repr(sender)


def test_live_sender_sends_as_the_release_of_its_settings(no_env_key, monkeypatch):
    from iterable_sim.widgets import LiveSender, live

    sent_with = []
    real_send = live.send
    monkeypatch.setattr(live, "send", lambda events, settings, **kw: (sent_with.append(settings),
                                                                      real_send(events, settings, **kw))[1])
    sender = LiveSender(EVENTS, Settings(rudderstack="v1.106.1", rudder_server=False), to=live_mock("k"),
                        progress=False)
    sender.password.value = "k"
    sender.use_key_from_field()
    sender.preview()
    sender.confirm()
    assert [(s.release.tag, s.rudder_server, s.api_key) for s in sent_with] == [("v1.106.1", False, "k")]


def test_confirm_needs_the_dry_run_first(no_env_key):
    from iterable_sim.widgets import LiveSender

    sender = LiveSender(EVENTS, Settings(), to=live_mock("k"), progress=False)
    sender.password.value = "k"
    sender.use_key_from_field()
    assert sender._confirm_button.disabled
    with pytest.raises(RuntimeError, match="dry run"):
        sender.confirm()
    sender._preview_button.click()
    assert not sender._confirm_button.disabled
    sender._confirm_button.click()
    assert sender.report is not None and "delivered" in shown(sender._outcome_view)


def test_resend_sends_the_failures_again(no_env_key):
    from iterable_sim.widgets import LiveSender

    mock = live_mock("k")
    sender = LiveSender(EVENTS, Settings(), to=mock, progress=False)
    sender.password.value = "k"
    sender.use_key_from_field()
    sender.preview()
    mock.faults.add("5xx", status=503)
    first = sender.confirm()
    assert first.summary()["failed"] == len(EVENTS) and not sender._resend_button.disabled
    mock.faults.clear()
    sender._resend_button.click()
    assert sender.report.summary() == {**sender.report.summary(), "sent": 4, "delivered": 3, "rejected": 1}
    assert sender._resend_button.disabled


def test_record_a_cassette_of_the_send_without_the_key(no_env_key, tmp_path):
    from iterable_sim.widgets import LiveSender

    sender = LiveSender(EVENTS, Settings(), to=live_mock("typed-secret-456"), progress=False)
    sender.password.value = "typed-secret-456"
    sender.use_key_from_field()
    sender.preview()
    sender.record.value = True
    sender.cassette_path.value = str(tmp_path / "live.yaml")
    sender.confirm()
    text = (tmp_path / "live.yaml").read_text()
    assert "events/track" in text and "<API_KEY>" in text and "typed-secret" not in text
    assert "Recorded into" in sender._message.value


# ---- UpgradePicker


def test_upgrade_picker_offers_the_known_releases_and_follows_them():
    from iterable_sim.mapping.releases import KNOWN_RELEASES
    from iterable_sim.widgets import UpgradePicker

    settings = Settings.from_rudder({"apiKey": "secret-key-123", "registerDeviceOrBrowserApiKey": "dev-key"})
    picker = UpgradePicker([DEVICE, BAD_EMAIL], settings, from_="v1.88.2", to="v1.106.1", received_at=TS)
    assert [value for _, value in picker.controls["from"].options] == [r.tag for r in KNOWN_RELEASES]
    assert picker.frame()["change"].tolist() == ["users/registerDeviceToken request added"]
    assert picker.groups_frame()[["kind", "events", "commit"]].values.tolist() == [["request", 1, "a986138d4"]]
    assert "token_registration" in shown(picker._groups) and "secret-key-123" not in shown(picker._rows)
    assert repr(picker).startswith("<UpgradePicker: v1.88.2 → v1.106.1: 2 events, 1 change")
    picker.controls["to"].value = "latest"
    assert set(picker.frame()["change"]) == {"users/registerDeviceToken request added", ".endpointPath added"}
    assert "1 change what reaches Iterable, 1 only RudderStack&#x27;s own output" in picker._status.value
    assert picker.groups_frame()["reaches_iterable"].tolist() == [True, False]
    picker.controls["from"].value = "v1.132.1"
    assert picker.frame().empty and "touch none of these events" in picker._status.value
    picker.controls["router"].value = 2
    assert picker.diff.router == 2 and "router calls of 2 events" in picker._status.value


def test_the_explorer_says_which_release_it_maps_as():
    explorer = SettingsExplorer(EVENTS, Settings(rudderstack="v1.106.1"))
    assert "mapped as v1.106.1 (rudder-transformer a0d43259" in explorer._status.value
    assert "mapped as latest" in SettingsExplorer(EVENTS, Settings())._status.value
