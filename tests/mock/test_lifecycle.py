"""The mock's lifecycle: reset, snapshot and restore, caps for long runs, and the control routes
that do the same from outside the process (through both adapters)."""
from __future__ import annotations

import io

import pytest

from iterable_sim.cli import commands, parser
from iterable_sim.mock import ManualClock, MockIterable

from .conftest import Api

A = "a@example.com"


def test_reset_empties_the_state_and_keeps_the_keys(mock: MockIterable, api: Api) -> None:
    api.post("events/track", {"email": A, "eventName": "e", "dataFields": {"n": 1}})
    mock.create_catalog("shoes")
    mock.disallow_event("Spam")
    mock.faults.add("5xx", "users/update")
    mock.reset()
    assert mock.users_frame().empty and mock.events_frame().empty and len(mock.journal) == 0
    assert mock.state() == MockIterable().state()
    assert len(mock.faults) == 0
    # the key still works, field types start over, the event name is allowed again
    assert api.post("events/track", {"email": A, "eventName": "e", "dataFields": {"n": "one"}}).status_code == 200
    assert api.post("events/track", {"email": A, "eventName": "Spam"}).json()["params"] is not None


def test_restore_goes_back_to_a_snapshot_as_often_as_asked(mock: MockIterable, api: Api) -> None:
    mock.create_user(email=A, data_fields={"tier": "gold"})
    snapshot = mock.snapshot()
    ids = []
    for _ in range(2):
        ids.append(api.post("events/track", {"email": A, "eventName": "e"}).json()["params"]["id"])
        api.post("users/update", {"email": "b@example.com"})
        assert len(mock.users_frame()) == 2
        mock.restore(snapshot)
        assert list(mock.users_frame()["email"]) == [A] and mock.events_frame().empty
    assert ids[0] == ids[1]  # generated ids start over from the snapshot too


def test_rolled_back_undoes_what_happens_inside(mock: MockIterable, api: Api) -> None:
    before = mock.state()
    with mock.rolled_back():
        api.post("users/update", {"email": A, "dataFields": {"n": 1}})
        assert mock.get_user(email=A) is not None
    assert mock.state() == before and len(mock.journal) == 0


def test_event_limit_keeps_the_newest_events_and_purchases(clock: ManualClock) -> None:
    mock = MockIterable(clock=clock, event_limit=3)
    for n in range(5):
        mock.track_event("e", email=A, id=f"ev{n}")
        mock.track_purchase([{"id": "p", "name": "P", "price": 1.0, "quantity": 1}], 1.0, email=A, id=f"o{n}")
    assert list(mock.events_frame()["id"]) == ["ev2", "ev3", "ev4"]
    assert list(mock.purchases_frame()["id"]) == ["o2", "o3", "o4"]


def test_serve_caps_the_journal_and_events_by_default_and_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[MockIterable] = []
    monkeypatch.setattr("iterable_sim.mock.server.run", lambda mock, *a, **kw: served.append(mock))
    for argv in (["serve"], ["serve", "--journal-limit", "5", "--event-limit", "0"]):
        args = parser.build_parser().parse_args(argv)
        assert getattr(commands, parser.COMMANDS["serve"][1])(args, io.StringIO()) == 0
    default, chosen = served
    assert (default.journal.limit, default.event_limit) == (10_000, 100_000)
    assert (chosen.journal.limit, chosen.event_limit) == (5, None)
    with pytest.raises(SystemExit):
        parser.build_parser().parse_args(["serve", "--journal-limit", "many"])


# ---- control routes ----------------------------------------------------------------------------

def test_control_routes_seed_read_and_reset(mock: MockIterable, api: Api) -> None:
    seeded = api.control("POST", "users", {"users": [{"email": A, "dataFields": {"tier": "gold"}},
                                                     {"userId": "u2", "email": "u2@example.com"}]})
    assert seeded.status_code == 200 and [u["email"] for u in seeded.json()["users"]] == [A, "u2@example.com"]
    assert api.user(A)["user"]["dataFields"]["tier"] == "gold"
    api.post("events/track", {"email": A, "eventName": "e"})
    state = api.control("GET", "state").json()
    assert state == mock.state() and [e["eventName"] for e in state["US"]["events"]] == ["e"]
    assert api.control("GET", "state", dataCenter="EU").json() == {"EU": mock.state("EU")["EU"]}
    journal = api.control("GET", "journal", limit="1").json()["journal"]
    assert [(e["endpoint"], e["status"], e["apiKey"]) for e in journal] == [("events/track", 200, "test…")]
    assert api.control("POST", "reset").json() == {"reset": True}
    assert api.control("GET", "state").json()["US"]["users"] == [] and len(mock.journal) == 0
    assert api.post("users/update", {"email": A}).status_code == 200  # keys stay


def test_seeding_refuses_what_users_update_refuses_and_seeds_nothing_then(mock: MockIterable, api: Api) -> None:
    api.post("users/update", {"email": A, "dataFields": {"age": 3}})
    refused = api.control("POST", "users", {"users": [{"email": "b@example.com"}, {"email": A, "dataFields": {"age": "x"}}]})
    over_api = api.post("users/update", {"email": A, "dataFields": {"age": "x"}})
    assert (refused.status_code, refused.json()) == (over_api.status_code, over_api.json())
    assert refused.json()["code"] == "RequestFieldsTypesMismatched"
    assert mock.get_user(email="b@example.com") is None


def test_control_snapshots_keys_and_unknown_routes(mock: MockIterable, api: Api) -> None:
    number = api.control("POST", "snapshot").json()["snapshot"]
    api.post("users/update", {"email": A})
    assert api.control("POST", "restore", {"snapshot": number}).json() == {"restored": number}
    assert api.user(A) == {}
    assert api.control("POST", "restore", {"snapshot": 99}).status_code == 400
    assert api.control("POST", "keys", {"key": "another-key-123"}).json() == {"key": "anot…"}
    assert api.post("users/update", {"email": A}, key="another-key-123").status_code == 200
    unknown = api.control("GET", "nothing")
    assert unknown.status_code == 404 and "POST reset" in unknown.json()["params"]["routes"]
    assert api.control("POST", "users", {"users": "a@example.com"}).json()["code"] == "BadParams"
    assert api.control("GET", "state", dataCenter="MARS").json()["msg"] == "unknown data center 'MARS'; use 'US' or 'EU'"
    assert all(entry.endpoint is not None for entry in mock.journal)  # control calls are not journaled
