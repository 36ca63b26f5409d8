"""The base of every exception iterable_sim raises for its users to catch."""
from __future__ import annotations


class IterableSimError(Exception):
    """Raised by iterable_sim on purpose (bad settings, a refused live send, a mock API error, ...):
    `except IterableSimError` catches all of them. Most also derive from the built-in exception
    they stand for (ValueError, RuntimeError), so older `except ValueError` code keeps working."""
