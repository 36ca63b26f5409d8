"""The command line's input, shared by every `iterable-sim` command (cli.py and the cassette
commands): the settings file and flags, and the one-line `CliError`. A whole events file is read by
`iterable_sim.archive.read_events`, archives (and crosscheck's events) by `read_archive`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from iterable_sim.exceptions import IterableSimError
from iterable_sim.hosts import BASE_URLS
from iterable_sim.mapping.settings import FLAGS, RUDDER_KEYS, Settings


class CliError(IterableSimError):
    """A problem with what was given on the command line, said in one line."""


def read_text(source: str, what: str) -> str:
    """A file's UTF-8 text, or a one-line CliError saying why it cannot be read."""
    path = Path(source)
    if not path.exists():
        raise CliError(f"no such {what} file: {source}")
    if path.is_dir():
        raise CliError(f"{source} is a directory: give a JSON or JSONL {what} file")
    try:
        return path.read_text("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"{source} is not UTF-8 text (a binary file?): give a JSON or JSONL {what} file") from None
    except OSError as err:
        raise CliError(f"cannot read {source}: {err.strerror}") from None


def config_from_args(args: argparse.Namespace, *, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """A RudderStack Config: `base`, then --settings FILE over it, then any settings flag given."""
    config = dict(base or {})
    if args.settings:
        try:
            loaded = json.loads(read_text(args.settings, "settings"))
        except json.JSONDecodeError as err:
            raise CliError(f"{args.settings}: not JSON ({err})") from None
        if not isinstance(loaded, dict):
            raise CliError(f"{args.settings}: a RudderStack destination Config is a JSON object")
        loaded = loaded.get("Config", loaded)
        if not isinstance(loaded, dict):
            raise CliError(f"{args.settings}: \"Config\" is a JSON {type(loaded).__name__}, but a RudderStack "
                           f"destination Config is a JSON object")
        config.update(loaded)
    for name, key in RUDDER_KEYS.items():
        value = getattr(args, name, None)
        if value is not None:
            config[key] = value
    return config


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from --settings and the flags, read as RudderStack reads a Config: a setting not given
    is off (so without --track-all-pages or another page setting, page and screen events are refused)."""
    return Settings.from_rudder(config_from_args(args))


def add_settings_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the settings options (--settings, --api-key, ..., the flags) to `parser`; returns their group."""
    group = parser.add_argument_group("settings (flags override --settings)")
    group.add_argument("--settings", metavar="FILE", help="a RudderStack destination Config as JSON")
    group.add_argument("--api-key", dest="api_key")
    group.add_argument("--data-center", dest="data_center", type=str.upper, choices=tuple(BASE_URLS),
                       help="USDC (default) or EUDC")
    group.add_argument("--device-key", dest="register_device_or_browser_api_key", metavar="KEY",
                       help="registerDeviceOrBrowserApiKey")
    for name in FLAGS:
        group.add_argument(f"--{name.replace('_', '-')}", dest=name, action=argparse.BooleanOptionalAction,
                           default=None)
    return group
