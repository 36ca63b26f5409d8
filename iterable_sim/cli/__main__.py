"""`python -m iterable_sim.cli`: the `iterable-sim` command."""
import sys

from iterable_sim.cli import main

sys.exit(main())
