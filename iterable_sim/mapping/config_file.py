"""The one configuration path: a RudderStack config of any kind, read into the Settings of one Iterable destination.

Every tool reads its settings file here: `map`, `send` (Python and the command line), `record`, the pytest plugin
(`iterable_sim_settings`), `crosscheck`, `cassettes diff`, `explore` and the widgets. So the same file gives the
same Config, destination ID and rudder-server context, and the same requests, whichever tool reads it.

    settings = read_settings("workspaceConfig.json", destination="Iterable prod")
    map_events(events, settings)
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from iterable_sim.mapping.releases import LATEST
from iterable_sim.mapping.settings import Settings
from iterable_sim.pipeline.usertransform import UserTransformation
from iterable_sim.pipeline.workspace import RudderConfig, load_rudder_config, read_rudder_config



def read_config(source: str | os.PathLike[str] | Mapping[str, Any] | None) -> RudderConfig:
    """The Iterable destinations of `source`: a JSON file's path, a parsed config of any kind (a workspace
    config, a namespace config, one destination's export, a bare Config), or None (an empty Config)."""
    if source is None:
        return read_rudder_config({})
    if isinstance(source, (str, os.PathLike)):
        return load_rudder_config(source)
    return read_rudder_config(source)


def read_settings(source: str | os.PathLike[str] | Mapping[str, Any] | None, *, destination: str | None = None,
                  overrides: Mapping[str, Any] | None = None, rudder_server: bool = True,
                  user_transformation: UserTransformation | None = None, rudderstack: str = LATEST) -> Settings:
    """The Settings of the one Iterable destination of `source` (see `read_config`), or of the one whose ID or
    name is `destination`; `overrides` are Config keys set on top of its Config (the command line's flags);
    `rudderstack` is the rudder-transformer release to map as (`Settings.rudderstack`: "latest", "v1.106.1", ...).

    Raises `iterable_sim.pipeline.RudderConfigError` (a ValueError), in one line, when the config cannot be
    read, holds no Iterable destination rudder-server would send to (saying what it holds), holds several and
    `destination` names none, or names one it does not hold (listing those it does); and
    `iterable_sim.mapping.releases.UnknownReleaseError` (a ValueError) for a `rudderstack` that is no release,
    or older than every known one."""
    chosen = read_config(source).choose(destination)
    return Settings.for_destination(chosen.with_overrides(overrides), rudder_server=rudder_server,
                                    user_transformation=user_transformation, rudderstack=rudderstack)
