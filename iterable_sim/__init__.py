"""iterable_sim: see, test and simulate what RudderStack sends to Iterable."""
from .attribution import Outcome, attribute
from .batching import Batch, route
from .crosscheck import CrosscheckReport, TransformerError, crosscheck
from .deletion import DeletionResult, delete_users
from .delivery import AsyncIterableClient, IterableClient, RetryPolicy
from .mapping import MappingResults, explain, map_event, map_events, mapping_table
from .mock import MockIterable
from .request import MappingError, Request
from .send import LIVE, LiveSendRefused, SendReport, asend, send
from .settings import Settings, SettingsError
from .version import RUDDERSTACK_VERSION, __version__

__all__ = [
    "MappingError", "MappingResults", "MockIterable", "Request", "Settings", "SettingsError",
    "explain", "map_event", "map_events", "mapping_table",
    "Batch", "DeletionResult", "Outcome", "attribute", "delete_users", "route",
    "AsyncIterableClient", "IterableClient", "LIVE", "LiveSendRefused", "RetryPolicy", "SendReport", "asend", "send",
    "CrosscheckReport", "TransformerError", "crosscheck", "RUDDERSTACK_VERSION",
]
