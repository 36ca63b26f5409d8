"""compare_settings(): what changing the settings does to each event."""
import pytest

from iterable_sim import Settings
from iterable_sim.checks.compare import changed_settings, compare_settings

TS = "2024-06-01T10:00:00.000Z"
NAMED = {"type": "page", "name": "Pricing", "userId": "u1", "originalTimestamp": TS}
UNNAMED = {"type": "page", "userId": "u1", "originalTimestamp": TS}
IDENTIFY = {"type": "identify", "userId": "u1", "traits": {"email": "jo@example.com"},
            "context": {"device": {"token": "tok-1", "type": "ios"}}}
TRACK = {"type": "track", "event": "Signed Up", "userId": "u1", "originalTimestamp": TS}
ALL = Settings(api_key="k")


def row(frame, event):
    return frame.set_index("event").loc[event]


def test_track_named_pages_drops_unnamed_pages():
    frame = compare_settings([NAMED, UNNAMED], ALL, Settings(api_key="k", track_all_pages=False, track_named_pages=True))
    assert frame["change"].tolist() == ["unchanged", "dropped"]
    assert row(frame, 1)["a"] == "events/track 'undefined page'" and row(frame, 1)["b"] == "refused: Invalid page call"


def test_turning_a_page_setting_on_sends_pages_again():
    none_on = Settings(api_key="k", track_all_pages=False)
    frame = compare_settings([NAMED], none_on, ALL)
    assert frame["change"][0] == "now sent" and frame["detail"][0] == "was refused: Invalid page call"


def test_map_to_single_event_renames():
    frame = compare_settings([NAMED, TRACK], ALL, Settings(api_key="k", map_to_single_event=True))
    assert frame["change"].tolist() == ["renamed", "unchanged"]
    assert frame["detail"][0] == "eventName: 'Pricing page' → 'Loaded a Page'"


def test_data_center_moves_every_request_to_the_eu_host():
    frame = compare_settings([TRACK], ALL, Settings(api_key="k", data_center="EUDC"))
    assert frame["change"][0] == "moved" and frame["b"][0] == "events/track 'Signed Up' (EU)"
    assert frame["detail"][0] == "host: api.iterable.com → api.eu.iterable.com"


def test_device_key_adds_the_registration_request():
    frame = compare_settings([IDENTIFY], ALL, Settings(api_key="k", register_device_or_browser_api_key="dk"))
    assert frame["change"][0] == "request added"
    assert frame["b"][0] == "users/update + users/registerDeviceToken"


def test_prefer_user_id_changes_the_body_at_its_path():
    order = {"type": "track", "event": "Product Added", "userId": "u1", "properties": {
        "email": "jo@example.com", "product_id": "p1", "name": "Card", "price": 5, "quantity": 1}}
    frame = compare_settings([IDENTIFY, order], ALL, Settings(api_key="k", prefer_user_id=False))
    assert frame["change"].tolist() == ["body changed", "body changed"]
    assert frame["detail"].tolist() == ["preferUserId: True → False", "user.preferUserId: True → False"]


def test_events_refused_either_way():
    group = {"type": "group", "userId": "u1"}
    frame = compare_settings([group, UNNAMED], Settings(api_key="k", track_all_pages=False),
                             Settings(api_key="k", track_all_pages=False, track_named_pages=True))
    assert frame["change"].tolist() == ["unchanged", "unchanged"]


def test_labels_name_the_columns_and_changes_only_filters():
    frame = compare_settings([NAMED, UNNAMED, TRACK], ALL,
                             Settings(api_key="k", track_all_pages=False, track_named_pages=True),
                             labels=("before", "after"), changes_only=True)
    assert list(frame.columns) == ["event", "type", "name", "change", "before", "after", "detail"]
    assert frame["event"].tolist() == [1]
    assert frame.attrs["settings"] == {"trackAllPages": (True, False), "trackNamedPages": (False, True)}
    with pytest.raises(ValueError, match="two different labels"):
        compare_settings([NAMED], ALL, ALL, labels=("x", "x"))


def test_changed_settings_never_shows_keys():
    changed = changed_settings(Settings(api_key="old-secret"), Settings(api_key="new-secret",
                                                                        register_device_or_browser_api_key="dk"))
    assert changed == {"registerDeviceOrBrowserApiKey": ("not set", "set")}
    assert changed_settings(Settings(), Settings(api_key="k")) == {"apiKey": ("not set", "set")}


def _result(*endpoints, error=None, host="api.iterable.com", **body):
    """One event's mapping: requests to `endpoints` (stand-ins, each with `body`), or an error."""
    from types import SimpleNamespace

    from iterable_sim.mapping.results import EventResult

    requests = [SimpleNamespace(endpoint=e, url=f"https://{host}/api/{e}", json=dict(body)) for e in endpoints]
    return EventResult(0, None, requests, error)


def test_each_kind_of_change_between_two_mappings_of_an_event():
    from iterable_sim.checks.compare import _change

    track, update = "events/track", "users/update"
    assert _change(_result(error="A"), _result(error="B")) == ("refused differently", "A → B")
    assert _change(_result(error="A"), _result(error="A")) == ("unchanged", "")
    assert _change(_result(track, update), _result(track)) == ("request removed", f"- {update}")
    assert _change(_result(track), _result(track, update)) == ("request added", f"+ {update}")
    assert _change(_result(track), _result(update)) == ("moved", f"endpoint: {track} → {update}")
    assert _change(_result(track, eventName="a", n=1), _result(track, eventName="b", n=2)) == (
        "renamed, body changed", "eventName: 'a' → 'b'; n: 1 → 2")
    assert _change(_result(track, n=1), _result(update, n=2, host="api.eu.iterable.com")) == (
        "moved, moved", f"host: api.iterable.com → api.eu.iterable.com; endpoint: {track} → {update}")
