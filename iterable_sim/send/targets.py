"""Where a send or a deletion goes (`to=`): a fresh in-process mock, a given MockIterable, a base URL
(the mock server, a proxy), or live Iterable (`LIVE`, or Iterable's own URL). One resolver serves
send(), asend(), send_stream() and delete_users()."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union

from iterable_sim.clock import Clock, ManualClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.hosts import is_iterable_url
from iterable_sim.mapping.settings import Settings
from iterable_sim.mock import MockIterable

MOCK_JOURNAL_LIMIT = 10_000  # the journal of a mock send() makes keeps its last entries: memory stays bounded
LIVE = "live"
"""Pass `to=LIVE` (with a Settings that holds your API key) to send to Iterable itself."""

Target = Union[MockIterable, str, None]
"""Where send() goes: None (a fresh in-process mock), a MockIterable, a base URL, or LIVE."""


class LiveSendRefused(IterableSimError, ValueError):
    """Sending to live Iterable was asked for without an explicit API key."""


class TargetError(IterableSimError, ValueError):
    """`to=` names nothing a send can go to."""


class TargetTypeError(IterableSimError, TypeError):
    """`to=` is neither None, a MockIterable nor a string."""


@dataclass(frozen=True, slots=True)
class Destination:
    """A resolved `to=`: exactly one of `mock` (to send to in-process), `url` (a server standing in for
    Iterable) or `live` (Iterable's own host) says where; `made` says the mock was made for this call."""

    description: str
    mock: MockIterable | None = None
    made: bool = False
    url: str | None = None
    live: bool = False


def resolve_target(to: Target, caller: str, make_mock: Callable[[], MockIterable]) -> Destination:
    """Where `to` points; `make_mock` makes the mock for `to=None`. `caller` names the function in errors."""
    if to is None or isinstance(to, MockIterable):
        return Destination("the in-process mock Iterable", mock=to if to is not None else make_mock(), made=to is None)
    if not isinstance(to, str):
        raise TargetTypeError(f"{caller}(to=...) takes None (a new mock), a MockIterable, a URL or LIVE, "
                              f"not {type(to).__name__}")
    if to == LIVE or is_iterable_url(to):
        return Destination("live Iterable", live=True)
    if not to.startswith(("http://", "https://")):
        raise TargetError(f"{caller}(to={to!r}): give a URL such as 'http://127.0.0.1:8080', or its.LIVE "
                          f"(the string 'live') for Iterable itself")
    return Destination(to, url=to)


def fresh_mock(settings: Settings, clock: Clock | None = None, **limits: Any) -> MockIterable:
    """The mock a send makes when given none: it accepts the settings' keys, keeps a bounded journal,
    and runs on simulated time (pacing a large send costs no real time, and report.duration says how
    long it would take at Iterable's rate limits)."""
    mock = MockIterable(clock=clock or ManualClock(), journal_limit=MOCK_JOURNAL_LIMIT, **limits)
    mock.accept_keys_of(settings)
    return mock
