"""Mapping a partitioned archive on a Dask cluster, into the same Parquet parts and summary as one process.

A partition is a file of the archive, taken hour folder by hour folder. rudder-server's archiver writes
`<sourceID>/gw/<YYYY-MM-DD>/<H>/<INSTANCE_ID>/` folders, each holding one gzipped JSON lines file per upload
of a source: at most 100,000 events, uploaded every 5 minutes, sooner when that limit is reached
(archiver/archiver.go:72-87, archiver/worker.go:55-129), so a dozen files an hour or more for a busy source.
A task per file spreads the work as far as the archiver itself cut it (a task per hour folder would map a
dozen files or more in a row, and make no more tasks than hours); `archive_files` lists the files hour by hour (the hour folders in numeric order, not
as text), so parts are numbered in time order, and each row names its hour (`archive_date`,
`archive_hour`) for grouping. Each file is one task, `archive_map.map_file`, which streams it in chunks and
writes its own `requests/part-NNNNN.parquet` and `refused/part-NNNNN.parquet`; the summaries the
tasks return are added up into `summary.json`. So the output is the same, part for part, as
`map_archive` on the same files. The workers read local files at the same paths (one machine, or a
shared file system), or storage URLs (`s3://...`, with the `storage` extra and the credentials and
endpoint in their environment, e.g. `AWS_ENDPOINT_URL`), and write to `out` at the same path.

What differs from one process: the work spreads only as far as there are files (split one large
file to spread it, e.g. bench/make_events.py --parts); parts are written in any order; standard
input cannot be spread. Batching is not part of the mapped output: `send_stream` batches per chunk,
so batches never span chunks, and on a cluster never span files either.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterable, Iterator

from tqdm.auto import tqdm

from iterable_sim.archive.reader import STDIN, archive_files
from iterable_sim.archive.mapping import (CHUNK_EVENTS, map_file, merge_summaries, prepare_output, run_instant,
                                         schemas, write_summary)
from iterable_sim.exceptions import IterableSimError
from iterable_sim.extras import ARCHIVES, require
from iterable_sim.mapping.settings import Settings
from iterable_sim.progress import PROGRESS_DELAY


class ClusterError(IterableSimError, ValueError):
    """What cannot go on a Dask cluster: standard input, or a cluster that is neither local:N, a scheduler
    address nor a distributed.Client."""


def map_archive_dask(sources: Iterable[str | Path] | str | Path, settings: Settings, out: str | Path, *,
                     cluster: Any = "local:2", chunk_events: int = CHUNK_EVENTS,
                     progress: bool = True, received_at: Any = None, through_gateway: bool = False) -> dict[str, Any]:
    """Map every file of the archive on a Dask cluster into `out`; return (and write) the summary.

    `cluster`: "local:N" (a LocalCluster of N worker processes, closed after), a scheduler address
    such as "tcp://10.0.0.5:8786", or a `distributed.Client` already connected (left open).
    """
    distributed = require("distributed", ARCHIVES, "mapping on Dask (--dask)")
    schemas()  # pyarrow, which the workers write with, is there too: said before any worker starts
    files = archive_files(sources)
    if STDIN in files:
        raise ClusterError("standard input cannot be spread over a Dask cluster: give files")
    out = prepare_output(Path(out).resolve())
    received_at = run_instant(received_at)  # one gateway clock for every task, as map_archive has
    with _connected(cluster) as client:
        futures = [client.submit(map_file, name, part, settings, str(out),
                                 chunk_events=chunk_events, received_at=received_at,
                                 through_gateway=through_gateway, key=f"iterable-sim-map-{part:05d}-{name}", pure=False)
                   for part, name in enumerate(files)]
        with tqdm(total=len(futures), desc="mapping on Dask", unit=" files", delay=PROGRESS_DELAY,
                  disable=not progress) as bar:
            for _ in distributed.as_completed(futures):
                bar.update(1)
        parts = client.gather(futures)
    return write_summary(out, merge_summaries(parts, settings.warnings))


@contextlib.contextmanager
def _connected(cluster: Any) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if isinstance(cluster, Client):
        yield cluster
        return
    if not isinstance(cluster, str) or not cluster:
        raise ClusterError(f"cluster: 'local:N', a scheduler address or a distributed.Client, not {cluster!r}")
    if cluster.startswith("local:"):
        try:
            workers = int(cluster.removeprefix("local:"))
        except ValueError:
            workers = 0
        if workers < 1:
            raise ClusterError(f"{cluster!r}: local:N needs a number of workers, at least 1")
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
                Client(local) as client:
            yield client
        return
    with Client(cluster) as client:
        yield client
