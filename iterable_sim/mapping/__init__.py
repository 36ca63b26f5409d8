"""The mapping core: RudderStack events + settings -> Iterable requests, with the mappings as data.

Its names are imported when first read (`iterable_sim.lazy.lazy_exports`): importing one module of the wing,
such as `iterable_sim.mapping.settings`, does not import the others."""
from typing import TYPE_CHECKING

from iterable_sim.lazy import lazy_exports

if TYPE_CHECKING:
    from iterable_sim.mapping.events import map_event, trace_event
    from iterable_sim.mapping.results import EventResult, MappingResults, map_events
    from iterable_sim.mapping.table import explain, mapping_table

__all__ = ["EventResult", "MappingResults", "explain", "map_event", "map_events", "mapping_table", "trace_event"]

__getattr__, __dir__ = lazy_exports(__name__, {
    **dict.fromkeys(["map_event", "trace_event"], "iterable_sim.mapping.events"),
    **dict.fromkeys(["EventResult", "MappingResults", "map_events"], "iterable_sim.mapping.results"),
    **dict.fromkeys(["explain", "mapping_table"], "iterable_sim.mapping.table"),
})
