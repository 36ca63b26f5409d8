"""The field mappings and a single event's mapping, as tables a notebook can show."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iterable_sim.lazy import LazyModule
from iterable_sim.mapping.settings import Settings
from iterable_sim.mapping.events import trace_event
from iterable_sim.mapping.spec import CONVERSIONS, load_specs

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

_CALL_OF_SPEC = {"identify": "identify", "track": "track", "page": "page / screen",
                 "purchase": "track 'Order Completed'", "product": "Order Completed / Product Added / Removed",
                 "device": "identify with context.device.token", "browser": "identify with context.os.token",
                 "alias": "alias", "catalog": "identify from reverse ETL (catalog)"}


def mapping_table() -> pd.DataFrame:
    """Every destination field of every Iterable call: its sources in priority order, what is done to it,
    and the RudderStack rule it follows (`origin`: file and entry in src/v0/destinations/iterable at
    rudder-transformer c98d160c; `built by`: the mapping file and builder of the whole call)."""
    rows = []
    for spec in load_specs().values():
        for rule in spec.rules:
            rows.append({
                "event": _CALL_OF_SPEC[spec.name],
                "endpoint": spec.endpoint,
                "field": rule.field,
                "sources": " → ".join(rule.sources) if rule.sources else f"setting {rule.setting}",
                "required": rule.required,
                "conversion": CONVERSIONS[rule.convert][2] if rule.convert else "",
                "note": rule.note,
                "origin": rule.origin,
                "built by": spec.rudderstack,
            })
    return pd.DataFrame(rows)


def explain(message: Any, settings: Settings) -> pd.DataFrame:
    """For each field of each request an event maps to: its value and the source path that filled it.

    Raises MappingError, like map_event, for an event RudderStack would not send.
    """
    requests, trace = trace_event(message, settings)
    endpoint_of_spec = {"device": "users/registerDeviceToken", "browser": "users/registerBrowserToken"}
    main = requests[0].endpoint if requests else ""
    rows = []
    for spec, field_name, value, source, rule in trace:
        rows.append({
            "endpoint": endpoint_of_spec.get(spec, main),
            "field": field_name if not spec.startswith("product[") else f"items[{spec[8:-1]}].{field_name}",
            "value": value,
            "source": source if source is not None else "(none: derived)",
            "conversion": CONVERSIONS[rule.convert][2] if rule is not None and rule.convert else "",
        })
    return pd.DataFrame(rows, columns=["endpoint", "field", "value", "source", "conversion"])
