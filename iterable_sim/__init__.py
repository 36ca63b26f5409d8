"""iterable_sim: see, test and simulate what RudderStack sends to Iterable."""
from .attribution import Outcome, attribute
from .batching import Batch, route
from .clock import Clock, ManualClock, SystemClock
from .crosscheck import CrosscheckReport, TransformerError, crosscheck
from .deletion import DeletionResult, delete_users
from .delivery import AsyncIterableClient, IterableClient, RetryPolicy
from .exceptions import IterableSimError
from .mapping import MappingResults, explain, map_event, map_events, mapping_table
from .mock import Faults, MockIterable, MockOptions
from .request import MappingError, Request
from .send import LIVE, LiveSendRefused, SendReport, Target, asend, send
from .settings import Settings, SettingsError
from .version import PACKAGE_VERSION as __version__
from .version import RUDDERSTACK_VERSION

__all__ = [
    "IterableSimError",
    "MappingError", "MappingResults", "Request", "Settings", "SettingsError",
    "explain", "map_event", "map_events", "mapping_table",
    "Batch", "DeletionResult", "Outcome", "attribute", "delete_users", "route",
    "AsyncIterableClient", "IterableClient", "LIVE", "LiveSendRefused", "RetryPolicy", "SendReport", "Target",
    "asend", "send",
    "Clock", "Faults", "ManualClock", "MockIterable", "MockOptions", "SystemClock",
    "CrosscheckReport", "TransformerError", "crosscheck", "RUDDERSTACK_VERSION",
]
