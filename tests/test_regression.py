"""The regression suite: every cassette in cassettes/ replayed through send() with the current
mapping, under the settings it was recorded with. A mapping change that alters any request fails
here, naming the event and the field (re-record on purpose with `iterable-sim record`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from iterable_sim.cassettes import load_manifest
from iterable_sim.clock import ManualClock
from iterable_sim.mock import MockIterable

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
ENTRIES = load_manifest(CASSETTES)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


def test_every_cassette_is_in_the_manifest():
    assert sorted(p.name for p in CASSETTES.glob("*.yaml")) == sorted(e.file for e in ENTRIES)


@pytest.mark.parametrize("entry", [
    pytest.param(entry, id=entry.name, marks=[pytest.mark.default_cassette(entry.name),
                                              pytest.mark.vcr(record_mode="none")])
    for entry in ENTRIES])
def test_replay(entry, vcr):
    from iterable_sim.send import send

    settings = entry.load_settings()
    mock = MockIterable(entry.project_type, clock=ManualClock())  # never reached: the cassette answers
    report = send(entry.load_events(CASSETTES), settings, to=mock, progress=False,
                  stable_event_ids=entry.stable_event_ids, clock=mock.clock)
    assert report.summary()["requests"] == len(vcr)
    assert len(mock.journal) == 0
