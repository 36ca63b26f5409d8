"""iterable_sim: see, test and simulate what RudderStack sends to Iterable."""
from iterable_sim.mapping.attribution import Outcome, attribute
from iterable_sim.mapping.batching import Batch, route
from iterable_sim.clock import Clock, ManualClock, SystemClock
from iterable_sim.checks.crosscheck import CrosscheckReport, TransformerError, crosscheck
from iterable_sim.send.deletion import DeletionResult, delete_users
from iterable_sim.send.client import AsyncIterableClient, IterableClient, RetryPolicy
from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping import MappingResults, explain, map_event, map_events, mapping_table
from iterable_sim.mock import Faults, MockIterable, MockOptions
from iterable_sim.mapping.request import MappingError, Request
from iterable_sim.send import LIVE, LiveSendRefused, SendReport, Target, asend, send
from iterable_sim.mapping.config_file import read_settings
from iterable_sim.mapping.settings import Settings, SettingsError
from iterable_sim.version import RUDDERSTACK_VERSION
from iterable_sim import former_paths, version

__all__ = [
    "IterableSimError",
    "MappingError", "MappingResults", "Request", "Settings", "SettingsError", "read_settings",
    "explain", "map_event", "map_events", "mapping_table",
    "Batch", "DeletionResult", "Outcome", "attribute", "delete_users", "route",
    "AsyncIterableClient", "IterableClient", "LIVE", "LiveSendRefused", "RetryPolicy", "SendReport", "Target",
    "asend", "send",
    "Clock", "Faults", "ManualClock", "MockIterable", "MockOptions", "SystemClock",
    "CrosscheckReport", "TransformerError", "crosscheck", "RUDDERSTACK_VERSION",
]

__version__ = version.PACKAGE_VERSION

former_paths.install()
del former_paths
