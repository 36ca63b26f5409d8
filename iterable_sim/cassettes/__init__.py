"""Record and replay Iterable interactions as vcrpy cassettes, and catch mapping drift.

- `configure(vcr)` / `make_vcr()`: vcrpy set up for Iterable (matchers, key scrubbing, readable YAML);
- `record_cassette(...)`, `record_seed_cassettes(...)`: record events sent under some settings;
- `drift_frame(...)`: what the current mapping would send, compared with what cassettes recorded.

The pytest plugin (`iterable_sim.pytest_plugin`) applies `configure` to pytest-recording's cassettes.
"""
from .bodydiff import Change, diff_bodies
from .config import configure, make_vcr
from .drift import drift_frame, drift_report
from .manifest import CassetteEntry, ManifestError, load_manifest
from .matchers import MATCH_ON
from .record import RECORDING_KEYS, record_cassette, record_seed_cassettes
from .scrub import API_KEY_PLACEHOLDER, Scrubber
from .serializer import CassetteSerializer

__all__ = [
    "API_KEY_PLACEHOLDER", "CassetteEntry", "CassetteSerializer", "Change", "MATCH_ON", "ManifestError",
    "RECORDING_KEYS", "Scrubber", "configure", "diff_bodies", "drift_frame", "drift_report", "load_manifest",
    "make_vcr", "record_cassette", "record_seed_cassettes",
]
