"""RudderStack's own files read through the one event reader: each kind told by its content, its events
read (and mapped to the same requests as the same events in plain JSONL), its origin, its bad lines."""
from __future__ import annotations

import gzip
import json
from typing import Any

import pandas as pd
import pytest

from iterable_sim import Settings, map_events
from iterable_sim.archive import ArchiveOrigin, Event, MalformedLine, archive_files, read_archive, read_events
from iterable_sim.archive.mapping import map_archive, map_records_in_memory
from iterable_sim.archive.reader import (BATCH_BODY, GATEWAY_ARCHIVE, GATEWAY_DUMP, PLAIN_EVENT, SDK_BATCH,
                                         archive_path_origin, record_kind)
from tests.archive import kinds
from tests.archive.kinds import ARCHIVE_FOLDER, ARCHIVE_NAME, JOBS, SDK_EVENTS, SOURCE_ID, STORED, WORKSPACE_ID

SETTINGS = Settings(api_key="k", register_device_or_browser_api_key="d", track_all_pages=True)
KIND_NAMES = list(kinds.KINDS)


def requests_and_errors(records: Any) -> list[Any]:
    """Per event: its requests (method, URL, body), or the status and text of what stopped it, mapped as the
    CLI maps a file: each event as its record says (through a gateway or not), rudder-server's steps first,
    the gateway's clock the one the stored events were received at."""
    return [[(r.method, r.url, r.json) for r in result.requests] if result.ok else (result.status, result.message)
            for result in map_records_in_memory(records, SETTINGS, received_at=kinds.RECEIVED_AT)]


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_each_kind_is_read_as_its_events(kind, tmp_path):
    write, expected, through_gateway = kinds.KINDS[kind]
    records = list(read_archive(write(tmp_path)))
    assert all(isinstance(record, Event) for record in records)
    assert [record.event for record in records] == expected
    assert {record.through_gateway for record in records} == {through_gateway}


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_each_kind_maps_to_the_same_requests_as_the_plain_jsonl_of_its_events(kind, tmp_path):
    plain = requests_and_errors(read_archive(kinds.plain_jsonl(tmp_path / "plain")))
    assert [[url.rsplit("/api/", 1)[1] for _, url, _ in r] if isinstance(r, list) else r for r in plain] == [
        ["users/update"], ["events/track"], ["events/track"], ["commerce/trackPurchase"],
        (298, "Message type not supported")]  # the group call: rudder-server filters it
    write = kinds.KINDS[kind][0]
    assert requests_and_errors(read_archive(write(tmp_path / "kind"))) == plain
    # and as the transformer alone sees them, the payloads as they are
    alone = Settings(api_key="k", register_device_or_browser_api_key="d", track_all_pages=True, rudder_server=False)
    assert [len(r.requests) for r in map_events((e.event for e in read_archive(write(tmp_path / "again"))), alone)
            ] == [1, 1, 1, 1, 0]


def test_map_archive_of_every_kind_writes_the_same_requests(tmp_path):
    summaries, bodies = {}, {}
    for kind, (write, _, _) in kinds.KINDS.items():
        out = tmp_path / "out" / kind.replace("/", "")
        summaries[kind] = map_archive(write(tmp_path / kind.replace("/", "")), SETTINGS, out, progress=False,
                                      received_at=kinds.RECEIVED_AT)
        frame = pd.read_parquet(out / "requests")
        # bodies parsed: an archive's payload comes in Go's key order (rudder-server re-encodes bodies with
        # sorted keys before sending anyway, router/network.go:95-231)
        bodies[kind] = [[*row[:-1], json.loads(row[-1])] for row in
                        frame[["type", "endpoint", "userId", "eventName", "url", "body"]].astype(str).values.tolist()]
    assert {json.dumps(s["requests_per_endpoint"]) for s in summaries.values()} == {
        json.dumps(summaries["plain JSONL"]["requests_per_endpoint"])}
    assert {(s["events"], s["requests"], s["refused"], s["filtered"], s["malformed_lines"])
            for s in summaries.values()} == {(5, summaries["plain JSONL"]["requests"], 0, 1, 0)}
    assert all(rows == bodies["plain JSONL"] for rows in bodies.values())


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_a_bad_line_in_the_middle_of_each_kind_does_not_sink_the_rest(kind, tmp_path):
    write, expected, _ = kinds.KINDS[kind]
    path = write(tmp_path, bad=True)
    records = list(read_archive(path))
    bad = [record for record in records if isinstance(record, MalformedLine)]
    assert len(bad) == 1 and bad[0].reason.startswith("not JSON (") and bad[0].source == str(path)
    assert [record.event for record in records if isinstance(record, Event)] == expected
    lines = (gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()).splitlines()
    assert lines[bad[0].line - 1].decode() == kinds.BAD_LINE


def test_kinds_are_told_by_their_top_level_keys():
    assert record_kind({"type": "track", "payload": {}, "createdAt": "x", "batch": []}) == PLAIN_EVENT
    assert record_kind({"userId": "u", "payload": {}, "createdAt": "x", "messageId": "m"}) == GATEWAY_ARCHIVE
    assert record_kind({"payload": {}, "createdAt": "x"}) == GATEWAY_ARCHIVE
    assert record_kind({"payload": {}}) == PLAIN_EVENT  # not the archiver's: refused later as an event
    assert record_kind({"job_id": 1, "event_payload": {"batch": []}}) == GATEWAY_DUMP
    assert record_kind({"batch": []}) == BATCH_BODY
    assert record_kind({"batch": [], "sentAt": "2026-01-05T10:00:05.000Z"}) == SDK_BATCH
    assert record_kind({"writeKey": "wk", "batch": []}) == SDK_BATCH
    assert record_kind({"event": "Clicked", "userId": "u"}) == PLAIN_EVENT  # no type: refused later
    assert record_kind([{"type": "track"}]) is None and record_kind("track") is None


def test_what_the_gateway_would_refuse_whole_is_one_malformed_line_and_the_rest_goes_on(tmp_path):
    path = tmp_path / "bodies.jsonl"
    lines = [{"batch": [SDK_EVENTS[0], 7, SDK_EVENTS[1]]}, {"batch": []}, {"batch": None},
             {"batch": SDK_EVENTS[1]},  # gjson's Array() of an object: that one event (handle.go:346)
             {"userId": "u", "payload": [1], "createdAt": "x", "messageId": "m"},
             {"userId": "u", "payload": "{}", "createdAt": "x", "messageId": "m"},
             {"job_id": 1, "event_payload": "{}"}, {"job_id": 2, "event_payload": {"batch": []}},
             {"job_id": 3, "event_payload": {"batch": [SDK_EVENTS[2], None]}},
             [SDK_EVENTS[3], {"batch": [SDK_EVENTS[4]]}, 3]]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    records = list(read_archive(path))
    assert [(r.line, r.reason if isinstance(r, MalformedLine) else r.event.get("messageId")) for r in records] == [
        (1, "batch item 1 is not a JSON object but int: rudder-server's gateway refuses the whole request "
            "(400 event is not a valid rudder event)"),
        (2, "a batch request body with no events: rudder-server's gateway answers 400 empty batch payload"),
        (3, "a batch request body with no events: rudder-server's gateway answers 400 empty batch payload"),
        (4, "m-1"),
        (5, "an archive line whose payload is not a JSON object but list: the archiver's payload is the stored event"),
        (6, "an archive line whose payload is not a JSON object but str: the archiver's payload is the stored event"),
        (7, 'a gw_jobs row whose event_payload is not a JSON object but str: a gateway job\'s payload is '
            '{"batch": [event], "requestIP", "writeKey", "receivedAt"}'),
        (8, 'a gw_jobs row whose event_payload holds no batch of events: a gateway job\'s payload is '
            '{"batch": [event], "requestIP", "writeKey", "receivedAt"}'),
        (9, "m-2"),
        (9, "event_payload.batch item 1 is not a JSON object but NoneType"),
        (10, "m-3"), (10, "m-4"), (10, "item 2 is not a JSON object but int")]


def test_the_archivers_path_gives_the_origin_and_each_line_its_job(tmp_path):
    path = kinds.gateway_archive(tmp_path)
    records = list(read_archive(path))
    assert [r.origin for r in records] == [
        ArchiveOrigin(source_id=SOURCE_ID, date="2026-01-05", hour=10, instance_id="1", workspace_id=WORKSPACE_ID,
                      user_id=job.user_id, created_at=kinds.CREATED_AT) for job in JOBS]
    assert records[0].origin.user_id == "<<>>a-1<<>>u-1"
    assert archive_path_origin(f"s3://bucket/{ARCHIVE_FOLDER}/{ARCHIVE_NAME}") == ArchiveOrigin(
        source_id=SOURCE_ID, date="2026-01-05", hour=10, instance_id="1", workspace_id=WORKSPACE_ID)
    name = "1767607208_1767607491_ws_with_underscores_0b6f3c9e-4a1d-4c55-9a0e-2f7d0c1e9b11.json.gz"
    assert archive_path_origin(f"src-1/gw/2026-01-05/0/7/{name}") == ArchiveOrigin(
        source_id="src-1", date="2026-01-05", hour=0, instance_id="7", workspace_id="ws_with_underscores")
    for other in (f"src-1/gw/2026-01-05/09/1/{name}",  # the archiver writes the hour with %d: 9, never 09
                  f"src-1/gw/2026-01-05/24/1/{name}", f"src-1/rt/2026-01-05/9/1/{name}",
                  f"src-1/gw/2026-1-5/9/1/{name}", f"gw/2026-01-05/9/1/{name}", "src-1/gw/2026-01-05/9/1/x.json.gz",
                  "events.jsonl"):
        assert archive_path_origin(other) is None, other
    assert {r.origin for r in read_archive(kinds.plain_jsonl(tmp_path))} == {None}


def test_a_gw_jobs_row_gives_its_source_workspace_job_and_batch_fields(tmp_path):
    records = list(read_archive(kinds.gateway_dump(tmp_path)))
    assert [r.origin for r in records] == [
        ArchiveOrigin(source_id=SOURCE_ID, workspace_id=WORKSPACE_ID, user_id=job.user_id,
                      created_at="2026-01-05T10:00:08.4567+00:00", received_at=kinds.RECEIVED_AT,
                      request_ip=kinds.REQUEST_IP) for job in JOBS]


def test_a_bad_line_of_an_archive_file_keeps_the_files_origin(tmp_path):
    bad = [r for r in read_archive(kinds.gateway_archive(tmp_path, bad=True)) if isinstance(r, MalformedLine)]
    assert bad[0].origin == ArchiveOrigin(source_id=SOURCE_ID, date="2026-01-05", hour=10, instance_id="1",
                                          workspace_id=WORKSPACE_ID)


def test_the_frames_show_where_rudderstack_kept_each_event(tmp_path):
    folder = tmp_path / "in"
    kinds.gateway_archive(folder, bad=True)
    kinds.gateway_dump(folder)
    kinds.plain_jsonl(folder)
    map_archive(folder, SETTINGS, tmp_path / "out", progress=False)
    requests = pd.read_parquet(tmp_path / "out" / "requests")
    refused = pd.read_parquet(tmp_path / "out" / "refused")
    origin = ["source_id", "archive_date", "archive_hour"]
    by_file = requests.groupby(requests.source.astype(str).str.rsplit("/", n=1).str[-1], observed=True)
    shown = {name: group[origin].astype(object).where(group[origin].notna(), None).drop_duplicates().values.tolist()
             for name, group in by_file}
    assert shown == {ARCHIVE_NAME: [[SOURCE_ID, "2026-01-05", 10]],
                     "gw_jobs_12.7.11.1767607208456.1767607208456.2aWks0Zt7.gz": [[SOURCE_ID, None, None]],
                     "events.jsonl": [[None, None, None]]}
    assert len(requests) == 3 * len(requests[requests.source.astype(str).str.endswith("events.jsonl")])
    input_rows = refused[refused.stage == "input"]
    assert input_rows[origin].astype(object).values.tolist() == [[SOURCE_ID, "2026-01-05", 10]]
    groups = refused[refused.stage == "event_filter"]
    assert groups.source_id.astype(object).where(groups.source_id.notna(), None).tolist() == [
        None, SOURCE_ID, SOURCE_ID]  # the group call of each file: events.jsonl, the gw_jobs dump, the archive


def test_hour_folders_are_listed_in_time_order(tmp_path):
    for hour in (10, 2, 23, 0):
        folder = tmp_path / SOURCE_ID / "gw" / "2026-01-05" / str(hour) / "1"
        folder.mkdir(parents=True)
        (folder / ARCHIVE_NAME).write_bytes(gzip.compress(b""))
    hours = [archive_path_origin(name).hour for name in archive_files(tmp_path)]
    assert hours == [0, 2, 10, 23]
    assert [archive_path_origin(name).hour for name in archive_files(str(tmp_path / "*/gw/*/*/1/*.gz"))] == hours


def test_a_json_document_of_archive_lines_or_request_bodies_is_read_whole(tmp_path):
    document = tmp_path / "export.json"
    lines = [{"userId": job.user_id, "payload": job.event, "createdAt": kinds.CREATED_AT,
              "messageId": job.event["messageId"]} for job in JOBS]
    document.write_text(json.dumps(lines, indent=2))
    records = list(read_archive(document))
    assert [r.event for r in records] == STORED and all(r.through_gateway and r.line == 1 for r in records)
    assert read_events(document) == STORED
    bodies = tmp_path / "bodies.json"
    bodies.write_text(json.dumps([{"batch": SDK_EVENTS[:1]}, {"batch": SDK_EVENTS[1:]}], indent=1))
    assert read_events(bodies) == SDK_EVENTS


def test_an_event_built_as_before_has_no_gateway_or_origin():
    event = Event("f.jsonl", 3, {"type": "track"})
    assert (event.through_gateway, event.origin) == (False, None)
    assert MalformedLine("f.jsonl", 3, "why").origin is None and str(MalformedLine("f", 3, "why")) == "f, line 3: why"


def test_kinds_fixture_matches_formats_md():
    """The fixture's stored events are what the gateway stores for the SDK's request (formats.md section 1)."""
    assert [job.user_id for job in JOBS] == ["<<>>a-1<<>>u-1"] * 5
    assert all(event["receivedAt"] == kinds.RECEIVED_AT and event["request_ip"] == kinds.REQUEST_IP
               and event["rudderId"] == "a83e8f69-6c0b-45b9-868e-e800599ad9a4" for event in STORED)
    assert [{k: v for k, v in e.items() if k not in ("receivedAt", "request_ip", "rudderId")} for e in STORED] == \
        SDK_EVENTS
