"""Recording cassettes: events sent under some settings, every HTTP call written to a cassette.

By default the events go to a fresh mock Iterable served on a free local port (a real HTTP
server, so the cassette holds real HTTP exchanges), with rate limits off, seeded ids and the keys
below, so that re-recording gives the same files. `to=` records against any URL instead (a running
`iterable-sim serve`, or live Iterable with `to=LIVE` and your key: the key is scrubbed). The
cassette notes where its events and settings came from (`sources.py`), so it can be compared with
the current mapping (`cassettes diff`) or recorded again (`rerecord`) from the events as they are now.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping import map_events
from iterable_sim.mock import MockIterable
from iterable_sim.samples import SEED_PAGE_SETTINGS
from iterable_sim.mapping.settings import Settings
from iterable_sim.cassettes.config import make_vcr
from iterable_sim.archive.reader import EventsFile, read_events
from iterable_sim.cassettes.sources import (KEY_PLACEHOLDERS, SourceError, cassette_sends, placeholder_keys, samples,
                      send_entry)

RECORDING_KEYS = {"apiKey": "sim-record-api-key-5e2a9c41d7", "registerDeviceOrBrowserApiKey": "sim-record-device-key-0b8f3e62a4"}
"""The keys a recording against the mock server uses (the mock accepts them; cassettes never hold them)."""


class RecordingError(IterableSimError, RuntimeError):
    """A recording that wrote no cassette: its events map to no request."""


def record(path: str | os.PathLike[str], sends: Sequence[tuple[Any, Mapping[str, Any]]], *, to: str | None = None,
           stable_event_ids: bool = False, project_type: str = "hybrid", personal_data: bool = True) -> Path:
    """Send each (events, RudderStack Config) of `sends` in turn and record every call into the
    cassette at `path`, replacing it. Events read with `read_events` are noted by their file."""
    from iterable_sim.send import send  # send pulls in delivery and batching; import it only when recording

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    prepared = []
    for events, config in sends:
        config = dict(config)
        if to is None or any(v in KEY_PLACEHOLDERS.values() for v in config.values()):
            config.update(RECORDING_KEYS)
        prepared.append((events, config, Settings.from_rudder(config)))
    keys = placeholder_keys(prepared[0][1]) if prepared else {}
    with tempfile.TemporaryDirectory() as scratch:
        recording = Path(scratch) / target.name
        vcr = make_vcr(keys=keys, personal_data=personal_data, record_mode="all")
        with vcr.use_cassette(str(recording)) as cassette:
            for events, _, settings in prepared:
                if to is None:
                    mock = _mock_for(events, settings, project_type)
                    with mock.serve() as url:
                        send(list(events), settings, to=url, progress=False, pace=False, stable_event_ids=stable_event_ids)
                else:
                    send(list(events), settings, to=to, progress=False, stable_event_ids=stable_event_ids)
                cassette.note_send(send_entry(events, settings, target, stable_event_ids=stable_event_ids,
                                              project_type=project_type))
        if not recording.exists():
            raise RecordingError(f"nothing was sent for cassette {target}: the events map to no request")
        shutil.move(str(recording), target)
    return target


def record_cassette(directory: str | os.PathLike[str], name: str, config: Mapping[str, Any],
                    events: Sequence[Any] | str | os.PathLike[str] | None = None, *, to: str | None = None,
                    stable_event_ids: bool = False, project_type: str = "hybrid", personal_data: bool = True) -> Path:
    """Send `events` under `config` (a RudderStack destination Config) and record every call into
    `directory/name.yaml`. `events`: a file path (read from there now and by every later diff),
    events from `read_events`, None for the sample events, or a list (or events read from standard
    input), which is then written beside the cassette as `<name>.events.json` for the diff to read."""
    directory = Path(directory)
    if events is None:
        events = samples()
    elif isinstance(events, (str, os.PathLike)):
        events = read_events(events)
    elif not isinstance(events, EventsFile) or events.source is None:
        directory.mkdir(parents=True, exist_ok=True)
        copy = directory / f"{name}.events.json"
        copy.write_text(json.dumps(list(events), indent=2, ensure_ascii=False) + "\n", "utf-8")
        events = read_events(copy)
    return record(directory / f"{name}.yaml", [(events, config)], to=to, stable_event_ids=stable_event_ids,
                  project_type=project_type, personal_data=personal_data)


def rerecord(path: str | os.PathLike[str], *, to: str | None = None, settings: Mapping[str, Any] | None = None,
             personal_data: bool = True) -> Path:
    """Record a cassette again from the events and settings it notes (events read from where they
    are now; `settings`: Config keys to change), replacing every call it held."""
    sends = cassette_sends(path)
    if not sends:
        raise SourceError(f"{path}: no iterable_sim metadata (record it with `iterable-sim record` or a pytest test "
                          "using iterable_send); a pytest cassette is accepted with `pytest --iterable-accept`")
    pairs = [(_events_of(s), {**s.settings, **(settings or {})}) for s in sends]
    return record(path, pairs, to=to, stable_event_ids=sends[0].stable_event_ids, project_type=sends[0].project_type,
                  personal_data=personal_data)


def record_seed_cassettes(directory: str | os.PathLike[str] = "cassettes") -> list[Path]:
    """iterable_sim's own regression set: the sample events under each setting of the seed
    documentation page, one cassette each."""
    return [record_cassette(directory, name, fragment) for name, fragment in SEED_PAGE_SETTINGS.items()]


def _events_of(send: Any) -> EventsFile:
    if send.events == "samples":
        return samples()
    send.load_events()  # says why when the events were given in code
    return read_events(send.cassette.parent / send.events)


def _mock_for(events: Sequence[Any], settings: Settings, project_type: str) -> MockIterable:
    """A fresh, deterministic mock: no rate limits, seeded ids, the recording keys, and the catalogs
    the events write to (so catalog calls succeed rather than record a 404)."""
    mock = MockIterable(project_type, rate_limits=False, seed=0)
    for key in RECORDING_KEYS.values():
        mock.add_api_key(key)
    mock.create_catalogs_for(map_events(list(events), settings).requests)
    return mock
