"""What the benchmark scripts share: reading the events file and the destination Config."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

from iterable_sim import Settings


def load_events(path: Path) -> list[dict]:
    """One RudderStack event per line of a JSONL file (.gz allowed)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_settings(path: Path | None) -> Settings:
    """A RudderStack destination Config from a JSON file; without one, Track All Pages and a test key."""
    config = json.loads(path.read_text()) if path else {"apiKey": "k", "trackAllPages": True}
    return Settings.from_rudder(config)
