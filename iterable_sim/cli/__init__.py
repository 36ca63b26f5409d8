"""The `iterable-sim` command: `main`; `parser` (its commands' arguments, and the `main` that runs one),
`commands` and `cassettes` (the commands), `arguments` (events files, the settings file and flags, the one-line
CliError); `read_events` is `iterable_sim.archive.read_events`, the one reader of a whole events file."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Sequence, TextIO

from iterable_sim.cli.exits import EXIT_INTERRUPTED
from iterable_sim.lazy import lazy_exports

if TYPE_CHECKING:
    from iterable_sim.archive.reader import read_events

__all__ = ["main", "read_events"]

__getattr__, __dir__ = lazy_exports(__name__, {"read_events": "iterable_sim.archive.reader"})


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """The `iterable-sim` command (`parser.main`). Its modules are imported here, inside, so that a Ctrl-C
    while they load ends in one line and EXIT_INTERRUPTED, not a traceback."""
    try:
        from iterable_sim.cli.parser import main as run_command
    except KeyboardInterrupt:
        print("iterable-sim: interrupted (Ctrl-C) while starting: nothing was done", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run_command(argv, out)
