"""The command line's input, shared by every `iterable-sim` command (cli.py and the cassette
commands): the settings file (read by `read_settings`, as every tool reads it), --destination and the
flags, and the one-line `CliError`. A whole events file is read by `iterable_sim.archive.read_events`,
archives (and crosscheck's events) by `read_archive`."""
from __future__ import annotations

import argparse
from typing import Any, Mapping

from iterable_sim.exceptions import IterableSimError
from iterable_sim.hosts import BASE_URLS
from iterable_sim.mapping.config_file import read_settings
from iterable_sim.mapping.releases import LATEST, UnknownReleaseError, known_list, resolve_release
from iterable_sim.mapping.settings import FLAGS, RUDDER_KEYS, Settings
from iterable_sim.pipeline.gotime import parse_rfc3339
from iterable_sim.pipeline.workspace import RudderConfigError


class CliError(IterableSimError):
    """A problem with what was given on the command line, said in one line."""


def flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The Config keys the settings flags give (--api-key, --track-all-pages, ...), those given only."""
    return {key: getattr(args, name) for name, key in RUDDER_KEYS.items() if getattr(args, name, None) is not None}


def settings_from_args(args: argparse.Namespace, *, default: Mapping[str, Any] | None = None) -> Settings:
    """The Settings of --settings FILE (any RudderStack config: a workspaceConfig.json, a namespace config, a
    destination's export or a bare Config; --destination picks one of its Iterable destinations) with the
    flags over its Config, read by `read_settings`, the path every tool takes. Without --settings, the flags
    over `default` are the Config. A setting not given is off, as RudderStack reads a Config (so without
    --track-all-pages or another page setting, page and screen events are refused). --rudderstack (default
    latest) is the release the settings map as."""
    destination = getattr(args, "destination", None)
    path = getattr(args, "settings", None)
    if destination is not None and not path:
        raise CliError(f"--destination {destination!r} picks a destination of --settings FILE: give the file")
    try:
        return read_settings(path or dict(default or {}), destination=destination, overrides=flag_overrides(args),
                             rudder_server=not getattr(args, "no_rudder_server", False),
                             rudderstack=release_from_args(args) or LATEST)
    except RudderConfigError as err:
        raise CliError(str(err)) from None


def release_from_args(args: argparse.Namespace) -> str | None:
    """--rudderstack as given (None when it was not), a CliError when it is not a release iterable_sim can map
    as (not a release, or older than every known one). A release between known ones is kept: the Settings
    built with it say, in their warnings, which known release stands in for it."""
    name: str | None = getattr(args, "rudderstack", None)
    if name is not None:
        try:
            resolve_release(name)
        except UnknownReleaseError as err:
            raise CliError(f"--rudderstack: {err}") from None
    return name


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


def add_settings_options(parser: argparse.ArgumentParser, *, release_default: str | None = "latest, the newest"
                         ) -> argparse._ArgumentGroup:
    """Add the settings options (--settings, --rudderstack, --api-key, ..., the flags) to `parser`; returns their
    group. `release_default` says what not giving --rudderstack means; None leaves --rudderstack out (for a
    command that names its releases otherwise, as upgrade's --from and --to)."""
    group = parser.add_argument_group("settings (flags override --settings)")
    add_config_options(group)
    if release_default is not None:
        add_release_option(group, default=release_default)
    group.add_argument("--api-key", dest="api_key")
    group.add_argument("--data-center", dest="data_center", type=str.upper, choices=tuple(BASE_URLS),
                       help="USDC (default) or EUDC")
    group.add_argument("--device-key", dest="register_device_or_browser_api_key", metavar="KEY",
                       help="registerDeviceOrBrowserApiKey")
    for name in FLAGS:
        group.add_argument(f"--{name.replace('_', '-')}", dest=name, action=argparse.BooleanOptionalAction,
                           default=None)
    return group


def add_config_options(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """--settings FILE and --destination ID_OR_NAME."""
    group.add_argument("--settings", metavar="FILE", help=SETTINGS_HELP)
    group.add_argument("--destination", metavar="ID_OR_NAME",
                       help="with --settings: the Iterable destination to use, by ID or name, when the file has several")


def add_release_option(group: argparse._ArgumentGroup | argparse.ArgumentParser, *,
                       default: str = "latest, the newest") -> argparse.Action:
    """Add --rudderstack RELEASE, the rudder-transformer release to map as (`default` says what not giving it
    means); returns it."""
    return group.add_argument("--rudderstack", metavar="RELEASE",
                       help=f"the rudder-transformer release to map as (default: {default}); known: {known_list()}. "
                            f"A release between two known ones maps as the newest known before it, with a warning")


SETTINGS_HELP = ("a RudderStack config as JSON: a rudder-server workspaceConfig.json, a namespace config, one "
                 "destination's export, or a destination's Config")
