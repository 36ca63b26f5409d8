"""A stateful mock of Iterable's REST API, in-process (an httpx transport) or over real HTTP."""
from iterable_sim.clock import Clock, ManualClock, SystemClock
from .core import MockIterable, MockResponse
from .faults import Fault, Faults
from .options import MockOptions
from .state import KeyType

__all__ = ["Clock", "Fault", "Faults", "KeyType", "ManualClock", "MockIterable", "MockOptions", "MockResponse",
           "SystemClock"]
