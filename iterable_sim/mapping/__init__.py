"""The mapping core: RudderStack events + settings -> Iterable requests, with the mappings as data."""
from iterable_sim.mapping.events import map_event, trace_event
from iterable_sim.mapping.results import EventResult, MappingResults, map_events
from iterable_sim.mapping.table import explain, mapping_table

__all__ = ["EventResult", "MappingResults", "explain", "map_event", "map_events", "mapping_table", "trace_event"]
