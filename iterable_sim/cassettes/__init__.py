"""Record and replay Iterable interactions as vcrpy cassettes, and catch mapping drift.

- `configure(vcr)` / `make_vcr()`: vcrpy set up for Iterable (indexed matching, keys scrubbed where
  the cassette is written, personal data on request, readable YAML);
- `record_cassette(...)`, `record(...)`, `rerecord(path)`: record events sent under some settings;
  the cassette notes where its events and settings came from;
- `drift_frame(paths)`: what the current mapping would send, compared with what cassettes recorded;
- `read_events(path)`: events from a JSON/JSONL file, remembered by their file.

The pytest plugin (`iterable_sim.pytest_plugin`) applies `configure` to the cassettes of Iterable tests.
"""
from .bodydiff import Change, diff_bodies
from .cassette import CassetteMismatch, IterableCassette
from .config import configure, make_vcr, scrub_writes
from .drift import drift_frame, drift_report, iterable_cassettes
from .matchers import MATCH_ON
from .record import RECORDING_KEYS, record, record_cassette, record_seed_cassettes, rerecord
from .scrub import API_KEY_PLACEHOLDER, Scrubber
from .serializer import CassetteSerializer
from .sources import EventsFile, Send, SourceError, cassette_sends, read_events

__all__ = [
    "API_KEY_PLACEHOLDER", "CassetteMismatch", "CassetteSerializer", "Change", "EventsFile", "IterableCassette",
    "MATCH_ON", "RECORDING_KEYS", "Scrubber", "Send", "SourceError", "cassette_sends", "configure", "diff_bodies",
    "drift_frame", "drift_report", "iterable_cassettes", "make_vcr", "read_events", "record", "record_cassette",
    "record_seed_cassettes", "rerecord", "scrub_writes",
]
