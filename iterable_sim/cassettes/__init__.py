"""Record and replay Iterable interactions as vcrpy cassettes, and catch mapping drift.

- `configure(vcr)` / `make_vcr()`: vcrpy set up for Iterable (indexed matching, keys scrubbed where
  the cassette is written, personal data on request, readable YAML);
- `record_cassette(...)`, `record(...)`, `rerecord(path)`: record events sent under some settings;
  the cassette notes where its events and settings came from;
- `drift_frame(paths)`: what the current mapping would send, compared with what cassettes recorded;
- `read_events(path)`: events from a JSON/JSONL file, remembered by their file (`iterable_sim.archive`'s).

The pytest plugin (`iterable_sim.pytest_plugin`) applies `configure` to the cassettes of Iterable tests.
"""
from iterable_sim.cassettes.bodydiff import Change, diff_bodies
from iterable_sim.cassettes.cassette import CassetteMismatch, IterableCassette
from iterable_sim.cassettes.config import configure, make_vcr, scrub_writes
from iterable_sim.cassettes.drift import drift_frame, drift_report, iterable_cassettes
from iterable_sim.cassettes.matchers import MATCH_ON
from iterable_sim.cassettes.record import RECORDING_KEYS, record, record_cassette, record_seed_cassettes, rerecord
from iterable_sim.cassettes.scrub import API_KEY_PLACEHOLDER, Scrubber
from iterable_sim.cassettes.serializer import CassetteSerializer
from iterable_sim.archive.reader import EventsFile, read_events
from iterable_sim.cassettes.sources import Send, SourceError, cassette_sends

__all__ = [
    "API_KEY_PLACEHOLDER", "CassetteMismatch", "CassetteSerializer", "Change", "EventsFile", "IterableCassette",
    "MATCH_ON", "RECORDING_KEYS", "Scrubber", "Send", "SourceError", "cassette_sends", "configure", "diff_bodies",
    "drift_frame", "drift_report", "iterable_cassettes", "make_vcr", "read_events", "record", "record_cassette",
    "record_seed_cassettes", "rerecord", "scrub_writes",
]
