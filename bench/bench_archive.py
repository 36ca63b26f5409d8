"""Benchmark: archives of N events through the command line, time and peak memory (run by hand).

    python bench/bench_archive.py 10000 100000 1000000 --settings ../shared/bench/settings.json
    python bench/bench_archive.py 10000 --source my-events.jsonl.gz --settings my-config.json
    python bench/bench_archive.py 1000000 --dask 1 2 --parts 8     # Dask: 1 and 2 local workers

For each N: makes N varied events (bench/make_events.py, in --parts files) from the bench events
(--source, by default ../shared/bench/events-10k.jsonl.gz beside the checkout: without it the script
says so in one line and stops), then runs under
/usr/bin/time -v, each in its own process: `iterable-sim map ARCHIVE --out DIR` (and, with --dask,
the same with `--dask local:W` for each W, checking its summary.json is the single process's), and
`iterable-sim send ARCHIVE` to the in-process mock for N up to --send-max. Prints wall time, events/s
and peak RSS of each. Also, with --frame N: the memory of `map_events(..., keep_events=False)` and
of its `requests_frame()` on N events, in a child process.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from make_events import BENCH_EVENTS  # bench/ is the script's folder, so first on sys.path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLI = str(Path(sys.executable).parent / "iterable-sim")  # beside the python running this (.venv/bin/)

FRAME_PROBE = """
import resource, sys, time
from iterable_sim import Settings, map_events
from iterable_sim.archive.reader import events_only, read_archive
import orjson
settings = Settings.from_rudder(orjson.loads(open(sys.argv[2], 'rb').read()))
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
base = rss()
results = map_events(events_only(read_archive(sys.argv[1])), settings, keep_events=False, progress=False)
held = rss()
start = time.perf_counter()
frame = results.requests_frame()
seconds = time.perf_counter() - start
print(f"requests_frame() on {len(frame):,} requests x {frame.shape[1]} columns: results (keep_events=False) {held - base:,.0f} MiB; "
      f"requests_frame() {frame.memory_usage(deep=True).sum() / 2**20:,.0f} MiB (deep), built in {seconds:.1f} s; "
      f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
"""


def timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of a command under /usr/bin/time -v."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", done.stderr).group(1)
    seconds = sum(float(part) * 60 ** power for power, part in enumerate(reversed(wall.split(":"))))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    return seconds, rss, done.stdout


def row(what: str, count: int, seconds: float, rss: float) -> None:
    print(f"| {what:34} | {count:>10,} | {seconds:8.1f} s | {count / seconds:>9,.0f}/s | {rss:7,.0f} MiB |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", type=int, nargs="+")
    parser.add_argument("--settings", type=Path, default=ROOT / ".." / "shared" / "bench" / "settings.json")
    parser.add_argument("--source", type=Path, default=BENCH_EVENTS, help="the events to vary (JSONL, .gz)")
    parser.add_argument("--parts", type=int, default=1, help="files per archive")
    parser.add_argument("--send-max", type=int, default=1_000_000, help="send only archives up to this size")
    parser.add_argument("--no-send", action="store_true")
    parser.add_argument("--dask", type=int, nargs="*", default=[], metavar="WORKERS")
    parser.add_argument("--frame", type=int, default=0, metavar="N", help="measure requests_frame() on N events")
    parser.add_argument("--work", type=Path, help="where archives and outputs go (default: a temporary directory)")
    args = parser.parse_args()
    for path, option in ((args.source, "--source"), (args.settings, "--settings")):
        if not path.is_file():
            parser.exit(2, f"bench_archive.py: no {path.resolve()}: the bench input is in ../shared/bench/ beside the "
                           f"checkout, or give {option} FILE\n")
    work = args.work or Path(tempfile.mkdtemp(prefix="iterable-sim-bench-"))
    settings = ["--settings", str(args.settings), "--no-progress"]
    print("| command                            |     events |     wall |  events/s |  peak RSS |")
    print("|------------------------------------|-----------:|---------:|----------:|----------:|")
    for count in args.counts:
        archive = work / f"events-{count}" if args.parts > 1 else work / f"events-{count}.jsonl.gz"
        subprocess.run([sys.executable, str(HERE / "make_events.py"), str(count), str(archive),
                        "--parts", str(args.parts), "--source", str(args.source)], check=True, capture_output=True)
        out = work / f"out-{count}"
        seconds, rss, _ = timed([CLI, "map", str(archive), "--out", str(out), *settings])
        row("map --out", count, seconds, rss)
        single = json.loads((out / "summary.json").read_text())
        for workers in args.dask:
            dask_out = work / f"out-{count}-dask{workers}"
            seconds, rss, _ = timed([CLI, "map", str(archive), "--out", str(dask_out), "--dask", f"local:{workers}",
                                     *settings])
            same = json.loads((dask_out / "summary.json").read_text()) == single
            row(f"map --out --dask local:{workers} (same: {'yes' if same else 'NO'})", count, seconds, rss)
            shutil.rmtree(dask_out)
        shutil.rmtree(out)
        if not args.no_send and count <= args.send_max:
            seconds, rss, stdout = timed([CLI, "send", str(archive), *settings])
            row("send (to the in-process mock)", count, seconds, rss)
            print(f"|   {stdout.splitlines()[0]}")
    if args.frame:
        archive = work / f"frame-{args.frame}.jsonl.gz"
        subprocess.run([sys.executable, str(HERE / "make_events.py"), str(args.frame), str(archive),
                        "--source", str(args.source)], check=True,
                       capture_output=True)
        probe = subprocess.run([sys.executable, "-c", FRAME_PROBE, str(archive),
                                str(args.settings)], capture_output=True, text=True, check=True)
        print(probe.stdout.strip())
    if args.work is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
