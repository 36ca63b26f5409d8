"""The `iterable-sim` command: `main` (its commands), `arguments` (events files, the settings file and
flags, the one-line CliError) and `cassettes` (record and the cassette commands); `read_events` is
`iterable_sim.archive.read_events`, the one reader of a whole events file."""
from __future__ import annotations

import sys
from typing import Sequence, TextIO

from iterable_sim.archive.reader import read_events
from iterable_sim.cli.exits import EXIT_INTERRUPTED

__all__ = ["main", "read_events"]


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """The `iterable-sim` command (`commands.main`). Its modules are imported here, inside, so that a Ctrl-C
    while they load (the first second of a command) ends in one line and EXIT_INTERRUPTED, not a traceback."""
    try:
        from iterable_sim.cli.commands import main as run_command
    except KeyboardInterrupt:
        print("iterable-sim: interrupted (Ctrl-C) while starting: nothing was done", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run_command(argv, out)
