"""Recording cassettes: events sent under some settings, every HTTP call written to a cassette.

By default the events go to a fresh mock Iterable served on a free local port (a real HTTP
server, so the cassette holds real HTTP exchanges), with rate limits off, seeded ids and the keys
below, so that re-recording gives the same files. `to=` records against any URL instead (a running
`iterable-sim serve`, or live Iterable with `to=LIVE` and your key: the key is scrubbed).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..mapping import map_events
from ..mock import MockIterable
from ..samples import SEED_PAGE_SETTINGS, sample_events
from ..settings import Settings
from .config import make_vcr
from .manifest import KEY_PLACEHOLDERS, SAMPLES, CassetteEntry, save_entry

RECORDING_KEYS = {"apiKey": "sim-record-api-key-5e2a9c41d7", "registerDeviceOrBrowserApiKey": "sim-record-device-key-0b8f3e62a4"}
"""The keys a recording against the mock server uses (the mock accepts them; cassettes never hold them)."""

SEED_PAGE_ABOUT = {
    "track_all_pages": "Track All Pages on",
    "track_categorised_pages": "Track Categorized Pages only",
    "track_named_pages": "Track Named Pages only",
    "map_to_single_event": "Track All Pages and Map All Pages to Single Event Name",
    "prefer_user_id_off": "preferUserId off",
    "merge_nested_objects_off": "mergeNestedObjects off",
    "eu_data_center": "EU data center",
}


def record_cassette(directory: str | Path, name: str, config: Mapping[str, Any], events: Sequence[Any] | None = None,
                    *, to: str | None = None, stable_event_ids: bool = False, project_type: str = "hybrid",
                    about: str = "") -> Path:
    """Send `events` (default: the sample events) under `config` (a RudderStack destination Config)
    and record every call into `directory/name.yaml`, replacing it; note it in the manifest.

    Events other than the samples are written beside the cassette as `<name>.events.json`, for the
    drift report to map again. Returns the cassette's path.
    """
    from ..send import send  # send pulls in delivery and batching; import it only when recording

    events_file = SAMPLES if events is None else f"{name}.events.json"
    events = sample_events() if events is None else list(events)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = dict(config)
    if to is None:
        config.update(RECORDING_KEYS)
    keys = {KEY_PLACEHOLDERS[k]: config.get(k) for k in KEY_PLACEHOLDERS}
    settings = Settings.from_rudder(config)
    target = directory / f"{name}.yaml"
    with tempfile.TemporaryDirectory() as scratch:
        recording = Path(scratch) / target.name
        cassette = make_vcr(keys=keys, record_mode="all").use_cassette(str(recording))
        if to is None:
            mock = _mock_for(events, settings, project_type)
            with mock.serve() as url, cassette:
                send(events, settings, to=url, progress=False, pace=False, stable_event_ids=stable_event_ids)
        else:
            with cassette:
                send(events, settings, to=to, progress=False, stable_event_ids=stable_event_ids)
        if not recording.exists():
            raise RuntimeError(f"nothing was sent for cassette {name!r}: the events map to no request")
        shutil.move(str(recording), target)
    if events_file != SAMPLES:
        text = json.dumps(events, indent=2, ensure_ascii=False) + "\n"
        for placeholder, key in keys.items():
            if key:
                text = text.replace(key, placeholder)
        (directory / events_file).write_text(text, "utf-8")
    save_entry(directory, CassetteEntry(name, config, events_file, stable_event_ids, project_type,
                                        "mock server" if to is None else _where(to), about))
    return target


def record_seed_cassettes(directory: str | Path = "cassettes") -> list[Path]:
    """The sample events under each setting of the seed documentation page, one cassette each."""
    return [record_cassette(directory, name, fragment, about=SEED_PAGE_ABOUT.get(name, ""))
            for name, fragment in SEED_PAGE_SETTINGS.items()]


def _mock_for(events: Sequence[Any], settings: Settings, project_type: str) -> MockIterable:
    """A fresh, deterministic mock: no rate limits, seeded ids, the recording keys, and the catalogs
    the events write to (so catalog calls succeed rather than record a 404)."""
    mock = MockIterable(project_type, rate_limits=False, seed=0)
    for key in RECORDING_KEYS.values():
        mock.add_api_key(key)
    mock.create_catalogs_for(map_events(list(events), settings).requests)
    return mock


def _where(to: str) -> str:
    from ..send import LIVE

    return "live Iterable" if to == LIVE else "a server at a given URL"
