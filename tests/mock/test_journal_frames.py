"""The journal and the state frames; keys never stored in full."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from iterable_sim.mock import MockIterable

from .conftest import KEY, Api


def test_journal_records_every_interaction_with_masked_keys(mock: MockIterable, api: Api) -> None:
    api.post("events/track", {"email": "a@example.com", "eventName": "e"})
    api.post("events/track", {"email": "a@example.com", "eventName": "e"}, key="wrong-key-123")
    api.get("users/getFields", key=None, params={"api_key": KEY})
    api.get("nowhere")
    journal = mock.journal_frame()
    assert list(journal["status"]) == [200, 401, 200, 404]
    assert list(journal["endpoint"][:3]) == ["events/track", "events/track", "users/getFields"]
    assert pd.isna(journal["endpoint"][3])  # an unknown path has no endpoint
    assert list(journal["code"][:2]) == ["Success", "BadApiKey"] and pd.isna(journal["code"][2])
    assert journal["request"][0] == {"email": "a@example.com", "eventName": "e"}
    assert isinstance(journal["time"].dtype, pd.DatetimeTZDtype)
    text = journal.to_string() + repr(list(mock.journal))
    assert KEY not in text and "wrong-key-123" not in text
    assert journal["api_key"][0] == KEY[:4] + "…"
    assert "api_key=" + KEY[:4] + "…" in journal["url"][2]


def test_journal_limit_and_clear(make_mock) -> None:  # type: ignore[no-untyped-def]
    mock = make_mock(journal_limit=3)
    for _ in range(5):
        mock.handle("GET", "https://api.iterable.com/api/users/getFields", {"api_key": KEY})
    assert list(mock.journal_frame()["seq"]) == [3, 4, 5]
    mock.journal.clear()
    assert mock.journal_frame().empty


def test_frames_have_columns_even_when_empty(mock: MockIterable) -> None:
    for frame in (mock.users_frame(), mock.events_frame(), mock.purchases_frame(), mock.carts_frame(),
                  mock.devices_frame(), mock.catalog_items_frame(), mock.journal_frame()):
        assert frame.empty and len(frame.columns) > 3


def test_users_frame(mock: MockIterable, api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "userId": "u1", "dataFields": {"x": 1}})
    api.post("users/update", {"email": "b@example.com", "userId": "u2"}, dc="EU")
    users = mock.users_frame()
    assert list(users["email"]) == ["a@example.com", "b@example.com"]
    assert list(users["data_center"]) == ["US", "EU"]
    assert users["dataFields"][0] == {"x": 1}
    assert list(mock.users_frame("EU")["userId"]) == ["u2"]


def test_handle_directly(mock: MockIterable) -> None:
    answer = mock.handle("post", "https://api.eu.iterable.com/api/events/track", {"Api-Key": KEY},
                         b'{"email": "a@example.com", "eventName": "e"}')
    assert answer.status == 200 and answer.json()["code"] == "Success"
    assert list(mock.events_frame()["data_center"]) == ["EU"]


def test_docs_mock_md_lists_each_frames_columns(mock: MockIterable) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "mock.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `mock\.(\w+)\(\)` \| [^|]* \| ([^|]*) \|$", text, re.M))
    frames = [name for name in dir(mock) if name.endswith("_frame")]
    assert sorted(rows) == sorted(frames), "docs/mock.md's table of frames"
    for name in frames:
        assert rows[name].strip().split(", ") == list(getattr(mock, name)().columns), f"docs/mock.md: {name}"
