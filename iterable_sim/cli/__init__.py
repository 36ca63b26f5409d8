"""The `iterable-sim` command: `main` (its commands), `arguments` (events files, the settings file and
flags, the one-line CliError) and `cassettes` (record and the cassette commands); `read_events` is
`iterable_sim.archive.read_events`, the one reader of a whole events file."""
from iterable_sim.archive.reader import read_events
from iterable_sim.cli.commands import main

__all__ = ["main", "read_events"]
