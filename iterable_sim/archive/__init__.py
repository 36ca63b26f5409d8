"""Archives in and out: events read from files of any size and kind (`reader`), mapped to Parquet or
JSONL (`mapping`), streamed to a mock or Iterable (`sending`), and spread over a Dask cluster (`on_dask`)."""
from iterable_sim.archive.reader import ArchiveError, Event, EventsFile, MalformedLine, archive_files, events_only, \
    read_archive, read_events, read_file

__all__ = ["ArchiveError", "Event", "EventsFile", "MalformedLine", "archive_files", "events_only", "read_archive",
           "read_events", "read_file"]
