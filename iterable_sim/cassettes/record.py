"""Recording cassettes: events sent under some settings, every HTTP call written to a cassette.

By default the events go to a fresh mock Iterable served on a free local port (a real HTTP
server, so the cassette holds real HTTP exchanges), with rate limits off, seeded ids, a simulated
clock (the gateway's clock of rudder-server's steps, as the pytest plugin's) and the keys the
settings hold, so that re-recording gives the same files and the same calls as the pytest plugin
for the same events and settings. `to=` records against any URL instead (a running `iterable-sim
serve`, or live Iterable with `to=LIVE` and your key). Keys are scrubbed from every cassette. The
cassette notes where its events and settings came from and the rudder-transformer release its
settings map as (`sources.py`), so it can be compared with the current mapping (`cassettes diff`) or
recorded again (`rerecord`) from the events and settings files as they are now.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from iterable_sim.clock import ManualClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping import map_events
from iterable_sim.mapping.config_file import read_settings
from iterable_sim.mapping.releases import LATEST
from iterable_sim.mock import MockIterable
from iterable_sim.samples import SEED_PAGE_SETTINGS
from iterable_sim.mapping.settings import Settings
from iterable_sim.cassettes.config import make_vcr
from iterable_sim.archive.reader import EventsFile, read_events
from iterable_sim.cassettes.sources import (KEY_PLACEHOLDERS, SourceError, cassette_sends, placeholder_keys, samples,
                      send_entry)

RECORDING_KEYS = {"apiKey": "sim-record-api-key-5e2a9c41d7", "registerDeviceOrBrowserApiKey": "sim-record-device-key-0b8f3e62a4"}
"""The keys of iterable_sim's own sample cassettes, and the stand-ins for a recorded Config's key placeholders
when a cassette is recorded again from its copy (the real keys are never in a cassette)."""


class RecordingError(IterableSimError, RuntimeError):
    """A recording that wrote no cassette: its events map to no request."""


def record(path: str | os.PathLike[str], sends: Sequence[tuple[Any, Settings | Mapping[str, Any]]], *,
           to: str | None = None, stable_event_ids: bool = False, project_type: str = "hybrid",
           personal_data: bool = True) -> Path:
    """Send each (events, settings) of `sends` in turn and record every call into the cassette at `path`,
    replacing it. Settings are a `Settings` (from `read_settings`: the cassette notes its file) or a RudderStack
    Config; their keys are sent as they are. Events read with `read_events` are noted by their file. The
    cassette notes the release the settings map as: every send of one cassette maps as the same release."""
    from iterable_sim.send import send  # send pulls in delivery and batching; import it only when recording

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    prepared = [(events, _settings(given, to)) for events, given in sends]
    releases = list(dict.fromkeys(settings.release for _, settings in prepared))
    if len(releases) > 1:
        raise RecordingError(f"cassette {target}: its sends map as {' and '.join(r.tag for r in releases)}: a "
                             f"cassette is recorded under one rudder-transformer release")
    keys: dict[str, Any] = {}
    for _, settings in prepared:  # every key sent is scrubbed under its own placeholder
        keys.update({k: v for k, v in placeholder_keys(settings.to_rudder()).items() if v and k not in keys})
    with tempfile.TemporaryDirectory() as scratch:
        recording = Path(scratch) / target.name
        vcr = make_vcr(keys=keys, personal_data=personal_data, release=releases[0] if releases else None,
                       record_mode="all")
        with vcr.use_cassette(str(recording)) as cassette:
            for events, settings in prepared:
                if to is None:
                    mock = _mock_for(events, settings, project_type)
                    with mock.serve() as url:
                        send(list(events), settings, to=url, progress=False, pace=False, clock=mock.clock,
                             stable_event_ids=stable_event_ids)
                else:
                    send(list(events), settings, to=to, progress=False, stable_event_ids=stable_event_ids)
                cassette.note_send(send_entry(events, settings, target, stable_event_ids=stable_event_ids,
                                              project_type=project_type))
        if not recording.exists():
            raise RecordingError(f"nothing was sent for cassette {target}: the events map to no request")
        shutil.move(str(recording), target)
    return target


def _settings(given: Settings | Mapping[str, Any], to: str | None) -> Settings:
    """The settings a recording sends with. A Config whose keys are placeholders (a cassette's copy) gets the
    recording keys in their place; against a fresh mock, a Config without an apiKey is refused, since every call
    would be answered 401."""
    settings = given if isinstance(given, Settings) else read_settings(given)
    config = dict(settings.rudder_config if settings.rudder_config is not None else settings.to_rudder())
    if any(config.get(name) == placeholder for name, placeholder in KEY_PLACEHOLDERS.items()):
        settings = read_settings({**config, **{name: RECORDING_KEYS[name] for name, placeholder in
                                               KEY_PLACEHOLDERS.items() if config.get(name) == placeholder}},
                                 rudder_server=settings.rudder_server, rudderstack=settings.rudderstack)
    if to is None and not settings.api_key:
        raise RecordingError("the settings have no apiKey: Iterable, as the mock, would answer every call 401 "
                             "Invalid API key. Give the key (the fresh mock accepts any key the settings hold)")
    return settings


def record_cassette(directory: str | os.PathLike[str], name: str, config: Settings | Mapping[str, Any],
                    events: Sequence[Any] | str | os.PathLike[str] | None = None, *, to: str | None = None,
                    stable_event_ids: bool = False, project_type: str = "hybrid", personal_data: bool = True) -> Path:
    """Send `events` under `config` (Settings, such as `read_settings(file)`, or a RudderStack destination
    Config) and record every call into `directory/name.yaml`. `events`: a file path (read from there now and by every later diff),
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
             personal_data: bool = True, rudderstack: str | None = None) -> Path:
    """Record a cassette again from the events and settings it notes (events and settings files read from
    where they are now; `settings`: Config keys to change), replacing every call it held; under the release it
    was recorded under, or `rudderstack` (which the cassette then notes)."""
    sends = cassette_sends(path)
    if not sends:
        raise SourceError(f"{path}: no iterable_sim metadata (record it with `iterable-sim record` or a pytest test "
                          "using iterable_send); a pytest cassette is accepted with `pytest --iterable-accept`")
    pairs = [(_events_of(s), s.load_settings(settings, rudderstack)) for s in sends]
    return record(path, pairs, to=to, stable_event_ids=sends[0].stable_event_ids, project_type=sends[0].project_type,
                  personal_data=personal_data)


def record_seed_cassettes(directory: str | os.PathLike[str] = "cassettes", *, rudderstack: str = LATEST) -> list[Path]:
    """iterable_sim's own regression set: the sample events under each setting of the seed
    documentation page, one cassette each, mapped as the release `rudderstack`."""
    return [record_cassette(directory, name, read_settings({**RECORDING_KEYS, **fragment}, rudderstack=rudderstack))
            for name, fragment in SEED_PAGE_SETTINGS.items()]


def _events_of(send: Any) -> EventsFile:
    if send.events == "samples":
        return samples()
    send.load_events()  # says why when the events were given in code
    return read_events(send.cassette.parent / send.events)


def _mock_for(events: Sequence[Any], settings: Settings, project_type: str) -> MockIterable:
    """A fresh, deterministic mock: no rate limits, seeded ids, a simulated clock, the keys the settings
    hold, and the catalogs the events write to (so catalog calls succeed rather than record a 404)."""
    mock = MockIterable(project_type, rate_limits=False, seed=0, clock=ManualClock())
    mock.accept_keys_of(settings)
    mock.create_catalogs_for(map_events(list(events), settings, received_at=mock.clock.now(), progress=False).requests)
    return mock
