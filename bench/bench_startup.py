"""Start-up times of the command line and the package (run by hand, prints figures).

    python bench/bench_startup.py [--runs 10]

Each line is the median wall time of --runs fresh processes (after one untimed run), with the interpreter and
the `iterable-sim` of the venv this Python belongs to: `iterable-sim --version`, `iterable-sim --help`,
`import iterable_sim`, and `iterable-sim map` of 10 sample events (table output). The issue "Installs lean"
asks for at most 0.25 s, 0.25 s, 0.4 s and 0.8 s.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iterable_sim.samples import sample_events

GOALS = {"iterable-sim --version": 0.25, "iterable-sim --help": 0.25, "import iterable_sim": 0.4,
         "iterable-sim map (10 events)": 0.8}


def timed(command: list[str], runs: int) -> float:
    """The median seconds of `runs` runs; exit 1 is an outcome (`map`: some sample events are refused)."""
    times = []
    for run in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
        if run:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("iterable-sim"))
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.jsonl"
        events.write_text("".join(json.dumps(event) + "\n" for event in sample_events()[:10]))
        commands = {
            "iterable-sim --version": [cli, "--version"],
            "iterable-sim --help": [cli, "--help"],
            "import iterable_sim": [sys.executable, "-c", "import iterable_sim"],
            "iterable-sim map (10 events)": [cli, "map", str(events), "--track-all-pages", "--api-key", "k"],
        }
        for label, command in commands.items():
            seconds = timed(command, args.runs)
            print(f"{label:>30}: {seconds:.3f} s (goal {GOALS[label]} s)", flush=True)


if __name__ == "__main__":
    main()
