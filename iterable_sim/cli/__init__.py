"""The `iterable-sim` command: `main` (its commands), `arguments` (events files, the settings file and
flags, the one-line CliError) and `cassettes` (record and the cassette commands)."""
from iterable_sim.cli.arguments import read_events
from iterable_sim.cli.commands import main

__all__ = ["main", "read_events"]
