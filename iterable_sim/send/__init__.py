"""I/O toward Iterable: `send`/`asend` (`api`) and their report (`report`), the HTTP client that paces and
retries (`client`), where `to=` points (`targets`: a mock, a URL, or the real Iterable with a key), how
Iterable's answers read (`answers`), and deleting users (`deletion`)."""
from iterable_sim.send.api import asend, send
from iterable_sim.send.report import EventOutcome, SendReport
from iterable_sim.send.targets import LIVE, LiveSendRefused, Target

__all__ = ["LIVE", "EventOutcome", "LiveSendRefused", "SendReport", "Target", "asend", "send"]
