"""A stateful mock of Iterable's REST API, in-process (an httpx transport) or over real HTTP.

Layout (moto's, for one service): `urls` (the URL table: each endpoint's handler, and the router),
`core` (MockIterable: state owner, set-up, lifecycle, `handle`), `contract` (what the adapters need of
a mock, and what it answers), `responses` (HTTP handlers: read a request, shape the answer), `backend` (the typed operations both
handlers and Python set-up calls use), `errors` (every Iterable error), `control` (/_mock/ routes),
`state`, `identity`, `fields`, `validation`, `schemas`, `ratelimit`, `faults`, `journal`, `frames`,
and the adapters `transport` (httpx) and `server` (ASGI/uvicorn).
"""
from iterable_sim.clock import Clock, ManualClock, SystemClock
from iterable_sim.mock.contract import MockResponse
from iterable_sim.mock.core import MockIterable, Snapshot
from iterable_sim.mock.errors import ApiError, MockSetupError
from iterable_sim.mock.faults import Fault, FaultKind, Faults
from iterable_sim.mock.options import MockOptions
from iterable_sim.mock.urls import ENDPOINTS
from iterable_sim.mock.state import KeyType

__all__ = ["ApiError", "Clock", "ENDPOINTS", "Fault", "FaultKind", "Faults", "KeyType", "ManualClock", "MockIterable",
           "MockOptions", "MockResponse", "MockSetupError", "Snapshot", "SystemClock"]
