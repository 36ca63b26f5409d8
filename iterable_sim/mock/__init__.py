"""A stateful mock of Iterable's REST API, in-process (an httpx transport) or over real HTTP.

Layout (moto's, for one service): `core` (MockIterable: state owner, set-up, lifecycle, `handle`),
`responses` (HTTP handlers: read a request, shape the answer), `backend` (the typed operations both
handlers and Python set-up calls use), `errors` (every Iterable error), `control` (/_mock/ routes),
`state`, `identity`, `fields`, `validation`, `schemas`, `ratelimit`, `faults`, `journal`, `frames`,
and the adapters `transport` (httpx) and `server` (ASGI/uvicorn).
"""
from iterable_sim.clock import Clock, ManualClock, SystemClock
from .core import MockIterable, MockResponse, Snapshot
from .errors import ApiError
from .faults import Fault, FaultKind, Faults
from .options import MockOptions
from .responses import ENDPOINTS
from .state import KeyType

__all__ = ["ApiError", "Clock", "ENDPOINTS", "Fault", "FaultKind", "Faults", "KeyType", "ManualClock", "MockIterable",
           "MockOptions", "MockResponse", "Snapshot", "SystemClock"]
