"""The command line's input, shared by every `iterable-sim` command (cli.py and the cassette
commands): events files, the settings file and flags, and the one-line `CliError`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import orjson

from .exceptions import IterableSimError
from .settings import FLAGS, RUDDER_KEYS, Settings


class CliError(IterableSimError):
    """A problem with what was given on the command line, said in one line."""


def read_events(source: str) -> list[Any]:
    """Events from a JSON file (one event or a list), a JSONL file, or '-' for standard input."""
    if source == "-":
        text, name = sys.stdin.read(), "standard input"
    else:
        path = Path(source)
        if not path.exists():
            raise CliError(f"no such events file: {source}")
        text, name = path.read_text("utf-8"), source
    stripped = text.strip()
    if not stripped:
        raise CliError(f"{name} holds no events")
    try:
        data = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        events = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if not line.strip():
                continue
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError as err:
                raise CliError(f"{name}, line {number}: not JSON ({err})") from None
        return events
    return data if isinstance(data, list) else [data]


def config_from_args(args: argparse.Namespace, *, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A RudderStack Config: `base`, then --settings FILE over it, then any settings flag given."""
    config = dict(base or {})
    if args.settings:
        try:
            loaded = json.loads(Path(args.settings).read_text("utf-8"))
        except FileNotFoundError:
            raise CliError(f"no such settings file: {args.settings}") from None
        except json.JSONDecodeError as err:
            raise CliError(f"{args.settings}: not JSON ({err})") from None
        if not isinstance(loaded, dict):
            raise CliError(f"{args.settings}: a RudderStack destination Config is a JSON object")
        config.update(loaded.get("Config", loaded))
    for name, key in RUDDER_KEYS.items():
        value = getattr(args, name, None)
        if value is not None:
            config[key] = value
    return config


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from --settings and the flags; without a settings file, Track All Pages on."""
    return Settings.from_rudder(config_from_args(args, base=None if args.settings else {"trackAllPages": True}))


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (flags override --settings)")
    group.add_argument("--settings", metavar="FILE", help="a RudderStack destination Config as JSON")
    group.add_argument("--api-key", dest="api_key")
    group.add_argument("--data-center", dest="data_center", metavar="USDC|EUDC")
    group.add_argument("--device-key", dest="register_device_or_browser_api_key", metavar="KEY",
                       help="registerDeviceOrBrowserApiKey")
    for name in FLAGS:
        group.add_argument(f"--{name.replace('_', '-')}", dest=name, action=argparse.BooleanOptionalAction,
                           default=None)
