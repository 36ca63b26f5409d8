"""Where a cassette's events and settings came from, kept in the cassette itself (vcrpy metadata).

A cassette recorded by iterable_sim (`iterable-sim record`, `record_cassette`, or a pytest test
through `iterable_send`) notes under `metadata: iterable_sim: sends:` each send recorded into it:
the events file (a path relative to the cassette, read from where it is every time, or `samples`
for iterable_sim's sample events; null when the events were given in code), the settings file when
the settings were read from one (`settings_file`, relative to the cassette, read again from where it
is every time with `read_settings`, as the tool that recorded it read it; its `destination` and the
Config keys set over it, `overrides`), a copy of the RudderStack Config (API keys as placeholders;
what is read when no settings file is noted) and how they were sent; and, under `rudderstack`, the
rudder-transformer release the calls were recorded under (a cassette noting none: latest), which the
sends are read again under. `iterable-sim cassettes diff` and `iterable-sim record CASSETTE` read it;
nothing else needs to be kept beside a cassette.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from iterable_sim.archive.reader import EventsFile, read_events
from iterable_sim.exceptions import IterableSimError
from iterable_sim.samples import sample_events
from iterable_sim.mapping.config_file import read_settings
from iterable_sim.mapping.releases import LATEST, Release, UnknownReleaseError, changes_between, resolve_release
from iterable_sim.mapping.settings import Settings
from iterable_sim.pipeline.workspace import RudderConfigError

SAMPLES = "samples"
KEY_PLACEHOLDERS = {"apiKey": "<API_KEY>", "registerDeviceOrBrowserApiKey": "<DEVICE_API_KEY>"}
RELEASE_KEY = "rudderstack"  # in a cassette's iterable_sim metadata: the release its calls were recorded under


def placeholder_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """Each key placeholder and the key a RudderStack Config holds for it: what scrubbing replaces."""
    return {placeholder: config.get(name) for name, placeholder in KEY_PLACEHOLDERS.items()}


class SourceError(IterableSimError, ValueError):
    """A cassette's events or settings cannot be found or read."""


def samples() -> EventsFile:
    return EventsFile(sample_events(), SAMPLES)


def release_change(recorded: str, now: Release, done: str) -> str | None:
    """What differs between the release a cassette notes (`recorded`, a tag) and the one its calls are `done`
    ("replayed", "compared") under now, as the releases data says it: each rule that changed, "cassette recorded
    under v1.106.1, replayed under latest: v1.108.0 (840ba5cf0): every request carries endpointPath; …", or
    under an older release, what the behaviour was before it, "…, replayed under v1.106.1: before v1.108.0
    (840ba5cf0): no request carries endpointPath; …". None for the same release."""
    try:
        then = resolve_release(recorded)[0]
    except UnknownReleaseError:
        return f"cassette recorded under {recorded!r}, a release iterable_sim does not know; {done} under {now.tag}"
    if then == now:
        return None
    newer = now.number > then.number
    rules = "; ".join(rule.describe() if newer else f"before {rule.since} ({rule.commit}): {rule.before}"
                      for rule in changes_between(then, now))
    return f"cassette recorded under {then.tag}, {done} under {now.tag}: {rules}"


def redacted_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A RudderStack Config with its API keys replaced by placeholders."""
    return {key: (KEY_PLACEHOLDERS[key] if key in KEY_PLACEHOLDERS and value else value)
            for key, value in config.items()}


def send_entry(events: Any, settings: Settings, cassette: str | os.PathLike[str], *, stable_event_ids: bool = False,
               project_type: str = "hybrid") -> dict[str, Any]:
    """The metadata entry for one send recorded into `cassette`."""
    source = getattr(events, "source", None)
    if source not in (None, SAMPLES):
        source = _relative(source, cassette)
    # the settings as read (each of Settings' keys), and every other key of the Config they were read from
    config = {**{k: v for k, v in settings.to_rudder().items() if v is not None}, **(settings.rudder_config or {})}
    entry: dict[str, Any] = {"events": source, "settings": redacted_config(config)}
    destination = settings.destination
    if destination is not None and destination.path is not None:
        entry["settings_file"] = _relative(destination.path, cassette)
        entry["destination"] = destination.id or destination.name or None
        entry["overrides"] = redacted_config(destination.overrides)
    if not settings.rudder_server:
        entry["rudder_server"] = False
    return {**entry, "stable_event_ids": stable_event_ids, "project_type": project_type}


def _relative(path: str | os.PathLike[str], cassette: str | os.PathLike[str]) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(cassette).resolve().parent)).as_posix()


@dataclass(frozen=True)
class Send:
    """One send a cassette recorded: its events' source, Config and options."""

    cassette: Path
    events: str | None
    settings: dict[str, Any]
    stable_event_ids: bool = False
    project_type: str = "hybrid"
    settings_file: str | None = None
    destination: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    rudder_server: bool = True
    rudderstack: str = LATEST  # the release the cassette was recorded under

    def load_events(self) -> list[Any]:
        if self.events == SAMPLES:
            return sample_events()
        if self.events is None:
            raise SourceError(f"{self.cassette}: its events were given in code, not read from a file "
                              "(pass them through iterable_sim.cassettes.read_events to name the file)")
        return list(read_events(self.cassette.parent / self.events))

    def load_settings(self, overrides: Mapping[str, Any] | None = None, rudderstack: str | None = None) -> Settings:
        """The settings the send was recorded with: its settings file read again from where it is now (as the
        recording tool read it), else the recorded Config (keys are placeholders); `overrides` (Config keys) on
        top; under the release it was recorded under, or `rudderstack` when given."""
        release = rudderstack or self.rudderstack
        try:
            if self.settings_file is None:
                return read_settings({**self.settings, **(overrides or {})}, rudder_server=self.rudder_server,
                                     rudderstack=release)
            return read_settings(self.cassette.parent / self.settings_file, destination=self.destination,
                                 overrides={**self.overrides, **(overrides or {})}, rudder_server=self.rudder_server,
                                 rudderstack=release)
        except UnknownReleaseError as err:
            raise SourceError(f"{self.cassette}: {err}") from None
        except RudderConfigError as err:
            raise SourceError(f"{self.cassette}: the settings file it notes, {self.settings_file}: {err}") from None


def cassette_sends(path: str | os.PathLike[str]) -> list[Send] | None:
    """The sends noted in a cassette; None for a cassette iterable_sim did not record."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8")) if path.suffix in (".yaml", ".yml") else \
            json.loads(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as err:
        raise SourceError(f"{path}: not a cassette ({err})") from None
    noted = ((data or {}).get("metadata") or {}).get("iterable_sim") if isinstance(data, dict) else None
    if not noted:
        return None
    release = str(noted.get(RELEASE_KEY) or LATEST)
    return [Send(path, s.get("events"), dict(s.get("settings") or {}), bool(s.get("stable_event_ids")),
                 s.get("project_type", "hybrid"), s.get("settings_file"), s.get("destination"),
                 dict(s.get("overrides") or {}), s.get("rudder_server", True) is not False, release)
            for s in noted.get("sends", [])]


def find_cassettes(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, str]]:
    """Cassette files, each with a name to show: the files given, and the .yaml/.json files under
    the directories given; named by their path from the working directory when they are under it,
    else from the directory given."""
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
            found += [(p, _label(p, path)) for p in files]
        elif path.exists():
            found.append((path, _label(path, path.parent)))
        else:
            raise SourceError(f"no such cassette or directory: {path}")
    return found


def _label(path: Path, base: Path) -> str:
    for root in (Path.cwd(), base.resolve()):
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            continue
    return str(path)
