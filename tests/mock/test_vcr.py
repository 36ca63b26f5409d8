"""vcrpy records and replays in-process interactions with the mock (its transport is an
httpx.MockTransport, which vcrpy patches)."""
from __future__ import annotations

from pathlib import Path

import httpx
import vcr

from iterable_sim.mock import ManualClock, MockIterable

KEY = "cassette-key-1234"


def test_cassette_records_and_replays_in_process_calls(tmp_path: Path) -> None:
    recorder = vcr.VCR(record_mode="once", match_on=["method", "path", "body"],
                       filter_headers=[("api_key", "REDACTED")])
    cassette = tmp_path / "mock.yaml"
    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(KEY)
    body = {"email": "a@example.com", "eventName": "e", "id": "evt-1"}
    with recorder.use_cassette(str(cassette)):
        with httpx.Client(transport=mock.transport()) as client:
            first = client.post("https://api.iterable.com/api/events/track", headers={"api_key": KEY}, json=body)
    assert first.status_code == 200
    assert KEY not in cassette.read_text() and "Event with id: evt-1 tracked." in cassette.read_text()

    empty = MockIterable(clock=ManualClock())  # no key, no state: only the cassette can answer 200
    with recorder.use_cassette(str(cassette)):
        with httpx.Client(transport=empty.transport()) as client:
            replayed = client.post("https://api.iterable.com/api/events/track", headers={"api_key": KEY}, json=body)
    assert replayed.status_code == 200 and replayed.json() == first.json()
    assert len(empty.journal) == 0


def test_calls_go_to_the_mock_directly_unless_vcrpy_has_patched_httpx(tmp_path: Path) -> None:
    transport = MockIterable(clock=ManualClock()).transport()
    assert transport.calls_directly()  # the fast path send() takes to the in-process mock
    with vcr.VCR(record_mode="all").use_cassette(str(tmp_path / "any.yaml")):
        assert not transport.calls_directly()  # recording: every call goes through httpx, so vcrpy sees it
    assert transport.calls_directly()
