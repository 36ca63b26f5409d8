"""Keeping Python's garbage collector out of bulk work, and always handing it back.

Mapping and sending allocate many small dicts that live until the call returns and form no
reference cycles; with the collector on, it walks them over and over (on 100k events it took
more time than the mapping itself). Bulk calls run with it paused; it is enabled again before
they return, normally or by an exception, unless the caller had it disabled already.

On the way out, what the call made is moved to the oldest generation (gc.freeze, then at once
gc.unfreeze: nothing stays frozen). The collector would otherwise count those objects as newly
promoted and, on the caller's next allocations, walk the whole heap at once to find no garbage;
this way they are walked at the next full collection the caller's own work brings on.
"""
from __future__ import annotations

import functools
import gc
import inspect
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable[..., object])


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with automatic garbage collection off; restore what it was after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():  # a caller's own frozen objects are left frozen
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def without_collector(func: F) -> F:
    """Decorate a bulk call (a function or a coroutine function) to run with the collector paused."""
    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def awaiting(*args: object, **kwargs: object) -> object:
            with collector_paused():
                return await func(*args, **kwargs)
        return awaiting  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> object:
        with collector_paused():
            return func(*args, **kwargs)
    return wrapper  # type: ignore[return-value]
