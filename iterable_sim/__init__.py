"""iterable_sim: see, test and simulate what RudderStack sends to Iterable.

The names below are imported when first used (PEP 562), so that `import iterable_sim` and the command line
start in a fraction of a second; `from iterable_sim import map_events` works as with eager imports.
"""

import sys as _sys
import types as _types
import typing as _typing

from iterable_sim import former_paths, version
from iterable_sim.lazy import lazy_exports as _lazy_exports

if _typing.TYPE_CHECKING:
    from iterable_sim.checks.crosscheck import CrosscheckReport, TransformerError, crosscheck
    from iterable_sim.checks.upgrade import UpgradeDiff, upgrade_diff
    from iterable_sim.rudder_router import DeliveryReport, RouterConfig, deliver_like_rudderstack
    from iterable_sim.clock import Clock, ManualClock, SystemClock
    from iterable_sim.exceptions import IterableSimError
    from iterable_sim.mapping import MappingResults, explain, map_event, map_events, mapping_table
    from iterable_sim.mapping.attribution import Outcome, attribute
    from iterable_sim.mapping.batching import Batch, route
    from iterable_sim.mapping.config_file import read_settings
    from iterable_sim.mapping.request import MappingError, Request
    from iterable_sim.mapping.settings import Settings, SettingsError
    from iterable_sim.mock import Faults, MockIterable, MockOptions
    from iterable_sim.send import LIVE, LiveSendRefused, SendReport, Target, asend, send
    from iterable_sim.send.client import AsyncIterableClient, IterableClient, RetryPolicy
    from iterable_sim.send.deletion import DeletionResult, delete_users
    from iterable_sim.version import RUDDERSTACK_VERSION

# each public name -> the module it comes from
_HOMES = {
    "IterableSimError": "iterable_sim.exceptions",
    **dict.fromkeys(["MappingResults", "explain", "map_event", "map_events", "mapping_table"], "iterable_sim.mapping"),
    **dict.fromkeys(["MappingError", "Request"], "iterable_sim.mapping.request"),
    **dict.fromkeys(["Settings", "SettingsError"], "iterable_sim.mapping.settings"),
    "read_settings": "iterable_sim.mapping.config_file",
    **dict.fromkeys(["Outcome", "attribute"], "iterable_sim.mapping.attribution"),
    **dict.fromkeys(["Batch", "route"], "iterable_sim.mapping.batching"),
    **dict.fromkeys(["DeletionResult", "delete_users"], "iterable_sim.send.deletion"),
    **dict.fromkeys(["AsyncIterableClient", "IterableClient", "RetryPolicy"], "iterable_sim.send.client"),
    **dict.fromkeys(["LIVE", "LiveSendRefused", "SendReport", "Target", "asend", "send"], "iterable_sim.send"),
    **dict.fromkeys(["Clock", "ManualClock", "SystemClock"], "iterable_sim.clock"),
    **dict.fromkeys(["Faults", "MockIterable", "MockOptions"], "iterable_sim.mock"),
    **dict.fromkeys(["CrosscheckReport", "TransformerError", "crosscheck"], "iterable_sim.checks.crosscheck"),
    **dict.fromkeys(["UpgradeDiff", "upgrade_diff"], "iterable_sim.checks.upgrade"),
    **dict.fromkeys(["DeliveryReport", "RouterConfig", "deliver_like_rudderstack"], "iterable_sim.rudder_router"),
    "RUDDERSTACK_VERSION": "iterable_sim.version",
}

__all__ = [
    "IterableSimError",
    "MappingError", "MappingResults", "Request", "Settings", "SettingsError", "read_settings",
    "explain", "map_event", "map_events", "mapping_table",
    "Batch", "DeletionResult", "Outcome", "attribute", "delete_users", "route",
    "AsyncIterableClient", "IterableClient", "LIVE", "LiveSendRefused", "RetryPolicy", "SendReport", "Target",
    "asend", "send",
    "Clock", "Faults", "ManualClock", "MockIterable", "MockOptions", "SystemClock",
    "CrosscheckReport", "TransformerError", "crosscheck", "UpgradeDiff", "upgrade_diff",
    "DeliveryReport", "RouterConfig", "deliver_like_rudderstack", "RUDDERSTACK_VERSION",
]

__version__ = version.PACKAGE_VERSION


__getattr__, __dir__ = _lazy_exports(__name__, _HOMES)


class _Package(_types.ModuleType):
    """The package, whose attribute `send` stays the function when the subpackage `iterable_sim.send` is
    imported (the import system sets a subpackage as an attribute of its parent): as with eager imports."""

    def __setattr__(self, name: str, value: _typing.Any) -> None:
        if name in _HOMES and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


former_paths.install()
del former_paths
