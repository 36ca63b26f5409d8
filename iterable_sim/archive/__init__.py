"""Archives in and out: events read from files of any size and kind (`reader`: plain JSON lines and RudderStack's
own files, local or in object storage), mapped to Parquet or JSONL (`mapping`), streamed to a mock or Iterable
(`sending`), and spread over a Dask cluster (`on_dask`)."""
from iterable_sim.archive.reader import ArchiveError, ArchiveOrigin, Event, EventsFile, MalformedLine, archive_files, \
    events_only, read_archive, read_events, read_file, record_kind

__all__ = ["ArchiveError", "ArchiveOrigin", "Event", "EventsFile", "MalformedLine", "archive_files", "events_only",
           "read_archive", "read_events", "read_file", "record_kind"]
