"""The manifest beside the cassettes: which events and settings produced each cassette.

`cassettes/manifest.json` maps each cassette file to the RudderStack Config it was recorded under
(API keys as placeholders), where its events are ("samples" for iterable_sim's sample events, or a
JSON file beside the manifest), and how they were sent. The drift report re-maps those events
under those settings; the regression suite replays them.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from ..exceptions import IterableSimError
from ..samples import sample_events
from ..settings import Settings

MANIFEST = "manifest.json"
SAMPLES = "samples"
KEY_PLACEHOLDERS = {"apiKey": "<API_KEY>", "registerDeviceOrBrowserApiKey": "<DEVICE_API_KEY>"}


class ManifestError(IterableSimError, ValueError):
    """The manifest is missing, unreadable, or names a file that is not there."""


@dataclass(frozen=True)
class CassetteEntry:
    """One recorded cassette: `<name>.yaml`, the Config it was recorded under, and its events."""

    name: str
    settings: dict[str, Any]
    events: str = SAMPLES
    stable_event_ids: bool = False
    project_type: str = "hybrid"
    recorded_against: str = "mock server"
    about: str = ""

    @property
    def file(self) -> str:
        return f"{self.name}.yaml"

    def load_events(self, directory: str | Path) -> list[Any]:
        if self.events == SAMPLES:
            return sample_events()
        path = Path(directory) / self.events
        if not path.exists():
            raise ManifestError(f"{MANIFEST}: cassette {self.name!r} names events file {self.events!r}, "
                                f"which is not in {directory}")
        data = json.loads(path.read_text("utf-8"))
        return data if isinstance(data, list) else [data]

    def load_settings(self, overrides: Mapping[str, Any] | None = None) -> Settings:
        """The recorded Config (keys are placeholders), with `overrides` (Config keys) on top."""
        return Settings.from_rudder({**self.settings, **(overrides or {})})


def redacted_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A RudderStack Config with its API keys replaced by placeholders."""
    return {key: (KEY_PLACEHOLDERS[key] if key in KEY_PLACEHOLDERS and value else value)
            for key, value in config.items()}


def load_manifest(directory: str | Path) -> list[CassetteEntry]:
    path = Path(directory) / MANIFEST
    if not path.exists():
        raise ManifestError(f"no {MANIFEST} in {directory}: record cassettes with `iterable-sim record` first")
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as err:
        raise ManifestError(f"{path}: not JSON ({err})") from None
    entries = [CassetteEntry(name=name, **values) for name, values in data.get("cassettes", {}).items()]
    for entry in entries:
        if not (Path(directory) / entry.file).exists():
            raise ManifestError(f"{path} lists {entry.file}, which is not in {directory}")
    return entries


def save_entry(directory: str | Path, entry: CassetteEntry) -> Path:
    """Add or replace `entry` in the manifest (written sorted, so re-recording gives the same file)."""
    path = Path(directory) / MANIFEST
    data = json.loads(path.read_text("utf-8")) if path.exists() else {}
    cassettes = dict(data.get("cassettes", {}))
    values = asdict(entry)
    del values["name"]
    values["settings"] = redacted_config(values["settings"])
    cassettes[entry.name] = values
    data = {"format": 1, "cassettes": dict(sorted(cassettes.items()))}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path
