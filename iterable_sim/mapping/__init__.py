"""The mapping core: RudderStack events + settings -> Iterable requests, with the mappings as data."""
from .events import map_event, trace_event
from .results import EventResult, MappingResults, map_events
from .table import explain, mapping_table

__all__ = ["EventResult", "MappingResults", "explain", "map_event", "map_events", "mapping_table", "trace_event"]
