"""iterable_sim: see, test and simulate what RudderStack sends to Iterable."""
from .mapping import MappingResults, explain, map_event, map_events, mapping_table
from .mock import MockIterable
from .request import MappingError, Request
from .settings import Settings, SettingsError

__all__ = [
    "MappingError", "MappingResults", "MockIterable", "Request", "Settings", "SettingsError",
    "explain", "map_event", "map_events", "mapping_table",
]
