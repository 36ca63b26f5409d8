"""Event archives: streamed input, Parquet output, streamed sends, the collector handed back, Dask."""
import asyncio
import gc
import gzip
import io
import json

import pandas as pd
import pytest

from iterable_sim import MockIterable, Settings, asend, map_events, route, send
from iterable_sim.archive.reader import ArchiveError, Event, EventsFile, MalformedLine, read_archive, read_events
from iterable_sim.archive.mapping import map_archive
from iterable_sim.archive.sending import MOCK_EVENT_LIMIT, send_stream
from iterable_sim.cli import main
from iterable_sim.samples import sample_events

SETTINGS = Settings(api_key="k", register_device_or_browser_api_key="d")

RECEIVED = "2026-01-05T10:00:07.123Z"  # the gateway's clock: events without a timestamp get it as createdAt


def track(user, n=0):
    return {"type": "track", "event": "Clicked", "userId": user, "messageId": f"m-{user}-{n}",
            "properties": {"n": n}}


def write_lines(path, lines, *, gz=False):
    text = "".join(line + "\n" for line in lines)
    if gz:
        with gzip.open(path, "wt") as out:
            out.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def archive(tmp_path):
    """Two files (one gzipped, one with a malformed line and an event rudder-server filters) in a directory."""
    folder = tmp_path / "archive"
    folder.mkdir()
    write_lines(folder / "a.jsonl.gz", [json.dumps(track("u1")), json.dumps(track("u2"))], gz=True)
    write_lines(folder / "b.jsonl", [json.dumps(track("u3")), '{"type": "track", oops', "",
                                     json.dumps({"type": "group", "userId": "u4"}), json.dumps(track("u5"))])
    return folder


def test_reads_files_directories_globs_and_gzip_with_each_bad_line_reported_in_place(archive):
    records = list(read_archive(archive))
    assert [(r.source.rsplit("/", 1)[-1], r.line, type(r).__name__) for r in records] == [
        ("a.jsonl.gz", 1, "Event"), ("a.jsonl.gz", 2, "Event"), ("b.jsonl", 1, "Event"),
        ("b.jsonl", 2, "MalformedLine"), ("b.jsonl", 4, "Event"), ("b.jsonl", 5, "Event")]
    assert "not JSON" in records[3].reason and str(records[3]).endswith("b.jsonl, line 2: " + records[3].reason)
    assert [r.line for r in read_archive(str(archive / "*.jsonl"))] == [1, 2, 4, 5]
    assert len(list(read_archive([archive / "b.jsonl", archive / "a.jsonl.gz"]))) == 6
    with pytest.raises(ArchiveError, match="no such events file"):
        list(read_archive(archive / "missing.jsonl"))
    with pytest.raises(ArchiveError, match="no file matches"):
        list(read_archive(str(archive / "*.parquet")))


def test_a_json_document_is_read_whole_and_stdin_streams(tmp_path, monkeypatch):
    (tmp_path / "list.json").write_text(json.dumps([track("u1"), 7, track("u2")], indent=2))
    records = list(read_archive(tmp_path / "list.json"))
    assert [type(r) for r in records] == [Event, MalformedLine, Event]
    assert "item 1 is not a JSON object" in records[1].reason
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(track("u9")) + "\n[1, 2]\n"))
    assert [r.source for r in read_archive("-")] == ["standard input"] * 3


def test_read_events_reads_one_whole_file_as_the_archive_reader_does_and_remembers_it(tmp_path, monkeypatch):
    pretty = tmp_path / "list.json"
    pretty.write_text(json.dumps([track("u1"), track("u2")], indent=2))
    packed = write_lines(tmp_path / "events.log", [json.dumps(track("u3")), "", json.dumps(track("u4"))], gz=True)
    events = read_events(pretty)
    assert isinstance(events, EventsFile) and events == [track("u1"), track("u2")]
    assert events.source == str(pretty.resolve())
    assert read_events(str(packed)) == [track("u3"), track("u4")]  # gzip told by its bytes, not its name
    (tmp_path / "empty.jsonl").write_text("\n")
    assert read_events(tmp_path / "empty.jsonl") == []
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(track("u9")) + "\n"))
    from_stdin = read_events("-")
    assert from_stdin == [track("u9")] and from_stdin.source is None  # no file a cassette could name


def test_read_events_is_strict_the_first_bad_line_is_an_error_naming_it(tmp_path):
    bad = write_lines(tmp_path / "bad.jsonl", [json.dumps(track("u1")), "{oops", "7"])
    with pytest.raises(ArchiveError, match=r"bad\.jsonl, line 2: not JSON \("):
        read_events(bad)
    (tmp_path / "items.json").write_text(json.dumps([track("u1"), "x"], indent=2))
    with pytest.raises(ArchiveError, match=r"items\.json, line 1: item 1 is not a JSON object but str"):
        read_events(tmp_path / "items.json")
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00 not text")
    with pytest.raises(ArchiveError, match="is not UTF-8 text"):
        read_events(tmp_path / "binary.jsonl")
    with pytest.raises(ArchiveError, match="no such events file"):
        read_events(tmp_path / "missing.jsonl")
    with pytest.raises(ArchiveError, match="is a directory"):
        read_events(tmp_path)


def test_one_read_events_under_each_documented_name():
    import iterable_sim.archive
    import iterable_sim.cassettes
    import iterable_sim.cli

    assert iterable_sim.cli.read_events is iterable_sim.cassettes.read_events is iterable_sim.archive.read_events
    assert iterable_sim.cassettes.EventsFile is EventsFile


def test_map_archive_writes_parquet_and_a_summary_that_agree_with_map_events(archive, tmp_path):
    summary = map_archive(archive, SETTINGS, tmp_path / "out", chunk_events=2, progress=False, received_at=RECEIVED)
    events = [r.event for r in read_archive(archive) if isinstance(r, Event)]
    expected = map_events(events, SETTINGS, received_at=RECEIVED)
    assert summary == json.loads((tmp_path / "out" / "summary.json").read_text())
    assert {k: summary[k] for k in ("files", "events", "requests", "refused", "filtered", "malformed_lines")} == {
        "files": 2, "events": 5, "requests": 4, "refused": 0, "filtered": 1, "malformed_lines": 1}
    assert summary["requests_per_endpoint"] == {"events/track": 4}
    requests = pd.read_parquet(tmp_path / "out" / "requests")
    assert requests["userId"].tolist() == ["u1", "u2", "u3", "u5"]
    assert [json.loads(body) for body in requests["body"]] == [r.json for r in expected.requests]
    refused = pd.read_parquet(tmp_path / "out" / "refused").sort_values("line")
    assert refused["line"].tolist() == [2, 4] and refused["stage"].tolist() == ["input", "event_filter"]
    assert pd.isna(refused["status"].iloc[0]) and refused["status"].iloc[1] == 298  # the group call: filtered
    assert refused["error"].iloc[1] == expected.filtered[0].message == "Message type not supported"
    # chunking never changes what is written
    assert map_archive(archive, SETTINGS, tmp_path / "again", chunk_events=1000, progress=False, received_at=RECEIVED) == summary
    assert pd.read_parquet(tmp_path / "again" / "requests").equals(requests)


def test_map_events_keeps_only_what_the_frames_show_when_asked():
    events = sample_events()
    full, compact = map_events(events, SETTINGS), map_events(events, SETTINGS, keep_events=False)
    assert compact.requests_frame().equals(full.requests_frame())
    assert compact.errors_frame().equals(full.errors_frame())
    assert all(set(r.event) <= {"type", "event", "name"} for r in compact if isinstance(r.event, dict))


def test_map_events_route_and_send_take_generators():
    events = [track("u1", 1), track("u2", 2), {"type": "group"}]
    assert len(map_events((e for e in events), SETTINGS)) == 3
    batches = route((i, e, SETTINGS) for i, e in enumerate(events))
    assert sorted(j for b in batches for j in b.job_ids) == [0, 1, 2]
    assert send((e for e in events), SETTINGS, progress=False).summary()["delivered"] == 2


@pytest.mark.parametrize("call", [
    lambda: map_events([track("u1")], SETTINGS),
    lambda: route([(0, track("u1"), SETTINGS)]),
    lambda: send([track("u1")], SETTINGS, progress=False),
    lambda: asyncio.run(asend([track("u1")], SETTINGS, progress=False)),
])
def test_bulk_calls_hand_the_collector_back_as_they_found_it(call):
    assert gc.isenabled() and gc.get_freeze_count() == 0
    call()
    assert gc.isenabled() and gc.get_freeze_count() == 0  # nothing left frozen
    kept = [{"a caller's": "frozen object"}]
    gc.freeze()
    try:
        call()
        assert gc.get_freeze_count() > 0  # a caller's freeze is the caller's
    finally:
        gc.unfreeze()
    del kept
    gc.disable()
    try:
        call()
        assert not gc.isenabled()  # a caller who turned it off keeps it off
    finally:
        gc.enable()


def test_the_collector_is_handed_back_when_a_bulk_call_fails():
    with pytest.raises(TypeError):
        route([(0, track("u1"), "not settings")])
    assert gc.isenabled()


def test_send_stream_sends_chunk_by_chunk_and_keeps_compact_outcomes(tmp_path):
    mock = MockIterable(rate_limits=False)
    mock.accept_keys_of(SETTINGS)
    seen_by_mock_when_read = []

    def events():
        for n in range(25):
            seen_by_mock_when_read.append(len(mock.events_frame()))
            yield track(f"u{n}", n) if n != 7 else {"type": "alias", "userId": "g"}  # no previousId: refused

    failed = io.BytesIO()
    report = send_stream(events(), SETTINGS, to=mock, chunk_events=10, failed_out=failed, progress=False)
    assert seen_by_mock_when_read[9] == 0 and seen_by_mock_when_read[10] == 9  # the first chunk went before more was read
    assert report.summary()["sent"] == 25 and report.summary()["delivered"] == 24 and report.summary()["failed"] == 1
    frame = report.frame()
    assert frame["event"].tolist() == list(range(25)) and frame.loc[7, "stage"] == "mapping"
    assert [json.loads(line) for line in failed.getvalue().splitlines()] == [{"type": "alias", "userId": "g"}]
    expected = send([track(f"u{n}", n) if n != 7 else {"type": "alias", "userId": "g"} for n in range(25)],
                    SETTINGS, progress=False)
    assert frame["fate"].astype(str).tolist() == [o.fate for o in expected.outcomes]


def test_send_stream_counts_malformed_lines_and_bounds_the_mock_journal(archive):
    report = send_stream(read_archive(archive), SETTINGS, chunk_events=2, progress=False)
    s = report.summary()
    assert (s["sent"], s["delivered"], s["filtered"], s["failed"], s["malformed_lines"]) == (5, 4, 1, 0, 1)
    assert report.frame().query("fate == 'filtered'")["stage"].tolist() == ["event_filter"]  # the group call
    bad = report.frame().query("stage == 'input'")
    assert bad["line"].tolist() == [2] and bad["source"].astype(str).str.endswith("b.jsonl").all()
    assert report.mock.journal._entries.maxlen == send([track("u1")], SETTINGS, progress=False).mock.journal._entries.maxlen
    assert report.mock.event_limit == MOCK_EVENT_LIMIT
    with pytest.raises(ValueError, match="only its summary"):
        send_stream([track("u1")], SETTINGS, keep_outcomes=False, progress=False).frame()


def test_cli_map_out_writes_parquet_and_summary_and_goes_on_past_bad_lines(archive, tmp_path, capsys):
    out = io.StringIO()
    code = main(["map", str(archive / "a.jsonl.gz"), str(archive / "b.jsonl"), "--api-key", "k",
                 "--out", str(tmp_path / "out"), "--no-progress"], out)
    assert code == 1  # a malformed line is reported, the rest is mapped
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (summary["events"], summary["requests"], summary["refused"], summary["filtered"],
            summary["malformed_lines"]) == (5, 4, 0, 1, 1)
    assert ("5 events from 2 file(s): 4 requests (events/track 4); 0 refused, 1 filtered, 1 malformed line(s)"
            in out.getvalue())
    assert len(pd.read_parquet(tmp_path / "out" / "requests")) == 4


def test_cli_map_jsonl_streams_and_reports_a_bad_line_with_the_failures(archive, capsys):
    out = io.StringIO()
    assert main(["map", str(archive), "--format", "jsonl", "--api-key", "k"], out) == 1
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line.get("stage") for line in lines].count("input") == 1
    assert [line["event"] for line in lines if "event" in line] == [0, 1, 2, 3, 4]
    assert "b.jsonl, line 2: not JSON" in capsys.readouterr().err


def test_cli_send_streams_an_archive_larger_than_a_chunk(archive, tmp_path, monkeypatch):
    monkeypatch.setattr("iterable_sim.cli.commands.CHUNK_EVENTS", 2)
    out, failed = io.StringIO(), tmp_path / "failed.jsonl"
    assert main(["send", str(archive), "--format", "table", "--no-progress", "--failed-out", str(failed),
                 "--api-key", "k"], out) == 1
    assert "5 sent, 4 delivered, 1 filtered, 0 rejected, 0 failed, 1 malformed line(s)" in out.getvalue()
    assert failed.read_text() == ""  # the group call is filtered: sending it again changes nothing
    out = io.StringIO()
    main(["send", str(archive), "--format", "jsonl", "--no-progress", "--api-key", "k"], out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(row["line"], row["fate"]) for row in rows] == [(1, "delivered"), (2, "delivered"), (1, "delivered"),
                                                            (2, "failed"), (4, "filtered"), (5, "delivered")]


def test_dask_maps_a_partitioned_archive_into_the_same_output(archive, tmp_path):
    pytest.importorskip("distributed")
    from iterable_sim.archive.on_dask import map_archive_dask

    single = map_archive(archive, SETTINGS, tmp_path / "single", progress=False, received_at=RECEIVED)
    spread = map_archive_dask(archive, SETTINGS, tmp_path / "dask", cluster="local:2", progress=False,
                              received_at=RECEIVED)
    assert spread == single
    for kind in ("requests", "refused"):
        assert sorted(p.name for p in (tmp_path / "dask" / kind).iterdir()) == ["part-00000.parquet",
                                                                                "part-00001.parquet"]
        assert pd.read_parquet(tmp_path / "dask" / kind).equals(pd.read_parquet(tmp_path / "single" / kind))


def test_no_progress_bar_for_a_handful_of_events(archive, tmp_path, capsys):
    map_archive(archive, SETTINGS, tmp_path / "out")  # progress on, as by default
    send_stream(read_archive(archive), SETTINGS)
    map_events([track("u1")], SETTINGS)
    assert capsys.readouterr().err == ""


def test_cli_map_dask_refuses_what_cannot_be_spread(archive, tmp_path, capsys):
    assert main(["map", "--out", str(tmp_path / "o"), "--dask", "local:2"], io.StringIO()) == 2
    assert "standard input cannot be spread" in capsys.readouterr().err
    assert main(["map", str(archive), "--out", str(tmp_path / "o"), "--dask", "local:none"], io.StringIO()) == 2
    assert "local:N needs a number of workers" in capsys.readouterr().err
    assert main(["map", str(archive), "--dask", "local:2"], io.StringIO()) == 2
    assert "give --out DIR" in capsys.readouterr().err


def test_cli_map_dask_on_a_running_scheduler(archive, tmp_path):
    distributed = pytest.importorskip("distributed")

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        out = io.StringIO()
        code = main(["map", str(archive), "--api-key", "k", "--out", str(tmp_path / "o"), "--no-progress",
                     "--dask", cluster.scheduler_address], out)
    assert code == 1 and "5 events from 2 file(s): 4 requests" in out.getvalue()
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["malformed_lines"] == 1


def test_gzip_on_stdin_and_a_truncated_gzip_file(tmp_path, monkeypatch):
    packed = gzip.compress("".join(json.dumps(track(f"u{n}")) + "\n" for n in range(50)).encode())
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(packed)))
    assert len(list(read_archive("-"))) == 50
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    records = list(read_archive(tmp_path / "cut.jsonl.gz"))
    assert isinstance(records[-1], MalformedLine) and records[-1].line == 0
    assert str(records[-1]).startswith(f"{tmp_path / 'cut.jsonl.gz'}: the file cannot be read after line "
                                       f"{records[-2].line}: ")
    assert all(isinstance(r, Event) for r in records[:-1])


@pytest.mark.parametrize("layout", ["lines", "document", "gzipped lines"])
def test_a_byte_order_mark_costs_no_event(tmp_path, layout):
    events = [{"type": "track", "event": "A", "userId": "u1"}, {"type": "track", "event": "B", "userId": "u2"}]
    text = json.dumps(events, indent=2) if layout == "document" else "\n".join(map(json.dumps, events)) + "\n"
    data = b"\xef\xbb\xbf" + text.encode()
    path = tmp_path / ("events.jsonl.gz" if layout.startswith("gzipped") else "events.jsonl")
    path.write_bytes(gzip.compress(data) if layout.startswith("gzipped") else data)
    assert read_events(str(path)) == events
    assert not [r for r in read_archive([str(path)]) if isinstance(r, MalformedLine)]
