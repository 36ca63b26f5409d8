"""I/O toward Iterable: `send`/`asend` and their report, the HTTP client that paces and retries, where
`to=` points (a mock, a URL, or the real Iterable with a key), and deleting users."""
from iterable_sim.send.api import LIVE, EventOutcome, LiveSendRefused, SendReport, Target, asend, send

__all__ = ["LIVE", "EventOutcome", "LiveSendRefused", "SendReport", "Target", "asend", "send"]
