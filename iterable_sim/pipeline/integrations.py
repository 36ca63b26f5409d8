"""The event's `integrations` object: which destination types may receive it.

`FilterClientIntegrations` (`processor/integrations/integrations.go:33-74`), with keys matched against the
destination definition's display name (`Iterable`), case-sensitively, via
`getBackendEnabledDestinationTypes` (`processor/processor.go:992-1003`).
"""
from __future__ import annotations

from typing import Any, Mapping

ITERABLE_DISPLAY_NAME = "Iterable"  # intcfg@src/configurations/destinations/iterable/db-config.json:3
ITERABLE_NAME = "ITERABLE"  # db-config.json:2; also the router job's CustomVal


def filter_client_integrations(event: Mapping[str, Any], definitions: Mapping[str, str]) -> list[str]:
    """The definition Names (values of `definitions`, keyed by display name) the event may go to.

    * `integrations` missing: `{}` (integrations.go:34-37); present but not an object (null included): none
      (integrations.go:38-41).
    * `All` missing: true (integrations.go:43-46); present but not a boolean: none (integrations.go:47-50).
    * `integrations[<display name>]` a boolean: included iff true (integrations.go:53-60); an object: included
      (integrations.go:62-66); anything else or absent: included iff `All` (integrations.go:67-70).
    """
    integrations = event.get("integrations", {})
    if not isinstance(integrations, dict):
        return []
    all_value = integrations.get("All", True)
    if not isinstance(all_value, bool):
        return []
    names = []
    for display_name, name in definitions.items():
        option = integrations.get(display_name)
        if isinstance(option, bool):
            if option:
                names.append(name)
        elif isinstance(option, dict) or all_value:
            names.append(name)
    return names


def allows_iterable(event: Mapping[str, Any]) -> bool:
    """Whether the event's `integrations` object lets it go to Iterable."""
    return bool(filter_client_integrations(event, {ITERABLE_DISPLAY_NAME: ITERABLE_NAME}))
