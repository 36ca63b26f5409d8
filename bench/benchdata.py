"""What the benchmark scripts share: reading the events file and the destination Config."""
from __future__ import annotations

import argparse
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


def bench_arguments(doc: str) -> argparse.ArgumentParser:
    """The arguments every benchmark takes: the events file, the Config, how many timed passes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("events", type=Path, help="JSONL file of events (.gz allowed)")
    parser.add_argument("settings", type=Path, nargs="?", help="RudderStack destination Config JSON")
    parser.add_argument("--runs", type=int, default=5)
    return parser
