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
from iterable_sim.pipeline.gotime import parse_rfc3339


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
    is off (so without --track-all-pages or another page setting, page and screen events are refused);
    --no-rudder-server maps the events as the transformer's own input."""
    return Settings.from_rudder(config_from_args(args), rudder_server=not getattr(args, "no_rudder_server", False))


def gateway_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """`received_at` and `through_gateway` for map_events, send and the archive functions, from
    --received-at and --through-gateway; a --received-at that is not an RFC 3339 time is a CliError."""
    received_at = getattr(args, "received_at", None)
    if received_at is not None and parse_rfc3339(received_at) is None:
        raise CliError(f"--received-at {received_at!r} is not an RFC 3339 time such as 2026-01-05T10:00:07.123Z")
    return {"received_at": received_at, "through_gateway": bool(getattr(args, "through_gateway", False))}


def add_gateway_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Add the options of rudder-server's steps in front of Iterable's code (docs/pipeline.md)."""
    group = parser.add_argument_group("rudder-server's steps in front of Iterable's code")
    group.add_argument("--received-at", metavar="TIME",
                       help="when rudder-server's gateway receives the events (RFC 3339; default: now): events "
                            "with sentAt and originalTimestamp but no timestamp get their createdAt from it")
    group.add_argument("--through-gateway", action="store_true",
                       help="the events were stored by a gateway already (their receivedAt is kept); archives "
                            "of RudderStack's own say so themselves")
    group.add_argument("--no-rudder-server", action="store_true",
                       help="map the events as the transformer's own input: no gateway, integrations, consent "
                            "or message-type filter")
    return group


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
