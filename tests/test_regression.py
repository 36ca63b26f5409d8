"""The regression suite: every cassette in cassettes/ replayed through send() with the current
mapping, under the settings it notes. A mapping change that alters any request fails here, naming
the event and the field (record again on purpose with `iterable-sim record --samples`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from iterable_sim.cassettes import iterable_cassettes, make_vcr
from iterable_sim.clock import ManualClock
from iterable_sim.mock import MockIterable

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
FOUND = iterable_cassettes(CASSETTES)


def test_every_cassette_notes_its_events_and_settings():
    assert sorted(p.name for p in CASSETTES.glob("*.yaml")) == sorted(p.name for p, _ in FOUND)


@pytest.mark.parametrize("path, sends", FOUND, ids=[p.stem for p, _ in FOUND])
def test_replay(path, sends):
    from iterable_sim.send import send

    made = 0
    with make_vcr(record_mode="none").use_cassette(str(path)) as cassette:
        for entry in sends:
            mock = MockIterable(entry.project_type, clock=ManualClock())  # never reached: the cassette answers
            report = send(entry.load_events(), entry.load_settings(), to=mock, progress=False,
                          stable_event_ids=entry.stable_event_ids, clock=mock.clock)
            made += report.summary()["requests"]
            assert len(mock.journal) == 0
    assert made == len(cassette) and cassette.all_played
