"""crosscheck: iterable_sim against a rudder-transformer over its HTTP API.

A small fake transformer (a Starlette app answering in rudder-transformer's shapes, with answers
recorded from RudderStack's code for three events) checks the comparison, the pairing and the
errors; RudderStack's own code, served by ../shared/rudderstack's `serve`, checks the real thing
when it and node are present.
"""
import copy
import gzip
import importlib
import io
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

import iterable_sim as its
from iterable_sim.cli import main
from iterable_sim.checks.crosscheck import ABSENT, differences
from iterable_sim.samples import sample_events
from iterable_sim.mapping.releases import KNOWN_RELEASES, resolve_release

ORACLE = Path(__file__).resolve().parents[1].parent / "shared" / "rudderstack" / "rudderstack-iterable.cjs"
CONFIG = {"apiKey": "secret-api-key", "dataCenter": "EUDC", "registerDeviceOrBrowserApiKey": "secret-device-key"}

TRACK = {"type": "track", "event": "Signed Up", "userId": "u1", "properties": {"plan": "pro"},
         "timestamp": "2024-06-01T12:00:00.000Z"}
GROUP = {"type": "group", "userId": "u1"}
IDENTIFY = {"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"},
            "context": {"device": {"token": "tok", "type": "ios"}}}
EVENTS = [TRACK, GROUP, IDENTIFY]


def rt_request(endpoint, body, key="secret-api-key"):
    """A request as rudder-transformer writes it (EU data center)."""
    return {"version": "1", "type": "REST", "method": "POST", "endpoint": f"https://api.eu.iterable.com/api/{endpoint}",
            "headers": {"Content-Type": "application/json", "api_key": key}, "params": {},
            "body": {"JSON": body, "JSON_ARRAY": {}, "XML": {}, "FORM": {}}, "files": {}, "endpointPath": endpoint}


def error(feature):
    return {"error": "Message type group not supported",
            "statTags": {"errorCategory": "dataValidation", "errorType": "instrumentation", "destType": "ITERABLE",
                         "module": "destination", "implementation": "native", "feature": feature}}


USER = {"email": "a@example.com", "dataFields": {"email": "a@example.com"}, "userId": "u1", "preferUserId": True,
        "mergeNestedObjects": True}
DEVICE = rt_request("users/registerDeviceToken", {"email": "a@example.com", "userId": "u1", "preferUserId": True,
                                                  "device": {"token": "tok", "platform": "APNS"}},
                    key="secret-device-key")
TRACKED = {"dataFields": {"plan": "pro"}, "userId": "u1", "eventName": "Signed Up", "createdAt": 1717243200000}

# What RudderStack's code answers for each event: processor outputs, and the router batch holding it.
PROCESSOR = {
    "track": [{"output": {**rt_request("events/track", TRACKED), "userId": ""}, "statusCode": 200}],
    "group": [{"statusCode": 400, **error("processor")}],
    "identify": [{"output": {**rt_request("users/update", USER), "userId": ""}, "statusCode": 200},
                 {"output": {**DEVICE, "userId": ""}, "statusCode": 200}],
}
ROUTER = {
    "track": {"batchedRequest": rt_request("events/trackBulk", {"events": [TRACKED]}), "batched": True,
              "statusCode": 200},
    "group": {"batched": False, "statusCode": 400, **error("router")},
    "identify": {"batchedRequest": [rt_request("users/bulkUpdate", {"users": [USER]}), DEVICE], "batched": True,
                 "statusCode": 200},
}


class FakeTransformer:
    """rudder-transformer's two endpoints, answering from the recordings above (last answer first, to show
    that outputs are paired by jobId, not position); `tamper` changes an answer before it is sent."""

    def __init__(self):
        self.calls = []
        self.tamper = None
        self.app = Starlette(routes=[Route("/v0/destinations/iterable", self.processor, methods=["POST"]),
                                     Route("/routerTransform", self.router, methods=["POST"])])

    async def processor(self, request: Request):
        inputs = await request.json()
        self.calls.append(("processor", len(inputs)))
        answer = [dict(out, metadata=item["metadata"]) for item in reversed(inputs)
                  for out in copy.deepcopy(PROCESSOR[item["message"]["type"]])]
        return JSONResponse(self.tamper(answer) if self.tamper else answer)

    async def router(self, request: Request):
        body = await request.json()
        assert body["destType"] == "iterable"
        self.calls.append(("router", len(body["input"])))
        output = [dict(copy.deepcopy(ROUTER[item["message"]["type"]]), metadata=[item["metadata"]],
                       destination=item["destination"]) for item in reversed(body["input"])]
        answer = {"output": output}
        return JSONResponse(self.tamper(answer) if self.tamper else answer)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def fake_server():
    fake = FakeTransformer()
    app = Starlette(routes=[*fake.app.routes, Route("/elsewhere/v0/destinations/iterable",
                                                     lambda r: PlainTextResponse("Not Found", 404), methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield fake, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def fake(fake_server):
    transformer, url = fake_server
    transformer.calls.clear()
    transformer.tamper = None
    return transformer, url


# ---------------------------------------------------------------- the comparison


def test_differences_are_strict_about_types_but_not_number_spelling():
    assert list(differences({"a": 19, "b": [1, "x"]}, {"a": 19.0, "b": [1, "x"]})) == []
    assert list(differences(True, 1)) == [((), True, 1)]
    assert list(differences({"id": "1"}, {"id": 1})) == [(("id",), "1", 1)]
    assert list(differences({"a": None}, {})) == [(("a",), None, ABSENT)]
    assert list(differences([1], [1, 2])) == [((1,), ABSENT, 2)]


# ---------------------------------------------------------------- against the fake transformer


def test_identical_events_in_chunks_paired_by_job(fake):
    transformer, url = fake
    report = its.crosscheck(EVENTS * 3, CONFIG, url, chunk_size=4)
    assert report.ok and (report.events, report.identical, report.different) == (9, 9, 0)
    assert report.summary() == "9 events: 9 identical"
    assert report.frame().empty
    assert transformer.calls == [("processor", 4), ("processor", 4), ("processor", 1)]


def test_a_differing_answer_is_shown_field_by_field_with_keys_masked(fake):
    transformer, url = fake

    def tamper(answer):
        for out in answer:
            if out["metadata"]["jobId"] == 1:  # the track event: createdAt as a string, another API key
                out["output"]["body"]["JSON"]["createdAt"] = "1717243200000"
                out["output"]["headers"]["api_key"] = "other-api-key"
            if out["metadata"]["jobId"] == 2:
                out["error"] = "Message type group is not supported"
        return answer

    transformer.tamper = tamper
    report = its.crosscheck(EVENTS, CONFIG, url)
    assert not report.ok and (report.identical, report.different) == (1, 2)
    rows = report.frame().set_index("field")
    assert rows.loc["requests[0].json.createdAt", ["event", "transformer", "iterable_sim"]].tolist() == [
        0, '"1717243200000"', "1717243200000"]
    assert rows.loc["error", ["event", "type", "transformer"]].tolist() == [
        1, "group", '"Message type group is not supported"']
    assert rows.loc["requests[0].headers.api_key", "transformer"] == "othe…"
    text = report.frame().to_string()
    assert "secret" not in text and "other-api-key" not in text
    assert report.by_field().to_dict() == {"requests[].json.createdAt": 1, "requests[].headers.api_key": 1,
                                           "error": 1}


def test_a_missing_token_registration_is_a_difference(fake):
    transformer, url = fake
    transformer.tamper = lambda answer: [o for o in answer if o.get("output", {}).get("endpointPath") !=
                                         "users/registerDeviceToken"]
    report = its.crosscheck([IDENTIFY], CONFIG, url)
    [row] = report.frame().to_dict("records")
    assert row["field"] == "requests[1]" and row["transformer"] == "(absent)"
    assert "registerDeviceToken" in row["iterable_sim"] and "secret" not in row["iterable_sim"]


def test_router_batches_compare_as_a_set(fake):
    transformer, url = fake
    report = its.crosscheck(EVENTS * 2, CONFIG, url, router=3)  # the fake answers batches in reverse order
    assert report.ok and report.summary() == "6 events: 6 identical (2 router calls of up to 3: 2 identical)"
    assert transformer.calls == [("router", 3), ("router", 3)]


def test_router_differences_name_the_call_and_its_events(fake):
    transformer, url = fake

    def tamper(answer):
        for batch in answer["output"]:
            if batch["metadata"] == [{"jobId": 6}]:  # the second call's identify: its token sent alone
                batch["batchedRequest"] = batch["batchedRequest"][:1]
        answer["output"] = [b for b in answer["output"] if b["metadata"] != [{"jobId": 4}]]  # its track: lost
        return answer

    transformer.tamper = tamper
    report = its.crosscheck(EVENTS * 2, CONFIG, url, router=3)
    assert (report.calls, report.calls_identical, report.identical) == (2, 1, 4)
    rows = report.frame().to_dict("records")
    assert [(r["call"], r["events"], r["field"], r["transformer"]) for r in rows] == [
        (1, "5", "requests[1]", "(absent)"), (1, "3", "(batch)", "(absent)")]
    assert rows[1]["iterable_sim"] == "events/trackBulk"


def test_crosscheck_maps_as_the_release_asked_for(fake, tmp_path, capsys):
    """A transformer of v1.88.2 sends no token registration (broken v1.85.0-v1.88.2) and no endpointPath (v1.108.0
    on): differences against latest, none against iterable_sim mapping as v1.88.2."""
    transformer, url = fake

    def as_v1_88_2(answer):
        kept = [o for o in answer if o.get("output", {}).get("endpointPath") != "users/registerDeviceToken"]
        for output in kept:
            output.get("output", {}).pop("endpointPath", None)
        return kept

    transformer.tamper = as_v1_88_2
    events = tmp_path / "events.json"
    events.write_text(json.dumps([IDENTIFY]))
    argv = ["crosscheck", str(events), "--transformer", url, "--api-key", "secret-api-key", "--data-center", "EUDC",
            "--device-key", "secret-device-key", "--no-progress"]
    out = io.StringIO()
    assert main(argv, out) == 1
    assert "requests[0].endpointPath" in out.getvalue() and "requests[1]" in out.getvalue()
    out = io.StringIO()
    assert main(argv + ["--rudderstack", "v1.88.2"], out) == 0 and out.getvalue() == "1 events: 1 identical\n"
    capsys.readouterr()


def test_unreachable_or_foreign_transformers_are_errors(fake):
    _, url = fake
    with pytest.raises(its.TransformerError, match="cannot reach the transformer"):
        its.crosscheck(EVENTS, CONFIG, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(its.TransformerError, match="answered HTTP 404"):
        its.crosscheck(EVENTS, CONFIG, url + "/elsewhere")
    not_json = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>hello</html>"))
    with pytest.raises(its.TransformerError, match="not JSON"):
        its.crosscheck(EVENTS, CONFIG, "http://transformer", transport=not_json)
    other = httpx.MockTransport(lambda request: httpx.Response(200, json={"output": "ok"}))
    with pytest.raises(its.TransformerError, match="not rudder-transformer's routerTransform response"):
        its.crosscheck(EVENTS, CONFIG, "http://transformer", router=10, transport=other)


def test_cli_exit_codes(fake, tmp_path, capsys):
    transformer, url = fake
    events = tmp_path / "events.jsonl.gz"
    events.write_bytes(gzip.compress("".join(json.dumps(e) + "\n" for e in EVENTS).encode()))
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(CONFIG))
    argv = ["crosscheck", str(events), "--settings", str(settings), "--transformer", url]

    out = io.StringIO()
    assert main(argv, out) == 0 and out.getvalue() == "3 events: 3 identical\n"
    out = io.StringIO()
    assert main(argv + ["--router", "2"], out) == 0
    assert out.getvalue() == "3 events: 3 identical (2 router calls of up to 2: 2 identical)\n"

    transformer.tamper = lambda answer: [dict(o, statusCode=500) if o["metadata"]["jobId"] == 2 else o
                                         for o in answer]
    out = io.StringIO()
    assert main(argv, out) == 1
    text = out.getvalue()
    assert text.startswith("3 events: 2 identical, 1 different\n") and "status" in text and "500" in text

    assert main(argv + ["--router", "0"], io.StringIO()) == 2
    assert "a router call needs at least 1 event, not 0" in capsys.readouterr().err

    assert main(argv[:-1] + [f"http://127.0.0.1:{free_port()}"], io.StringIO()) == 2
    error = capsys.readouterr().err.splitlines()[-1]  # after the settings warnings, one line
    assert error.startswith("iterable-sim crosscheck: cannot reach the transformer at http://127.0.0.1:")


# ---------------------------------------------------------------- against RudderStack's own code


@pytest.fixture(scope="module")
def oracle_url():
    yield from served(ORACLE)


def served(oracle: Path):
    """The oracle's `serve` on a free port, its URL yielded once it answers /health; skips without node or it."""
    if shutil.which("node") is None or not oracle.exists():
        pytest.skip("needs node and ../shared/rudderstack (RudderStack's code, not part of the project)")
    port = free_port()
    process = subprocess.Popen(["node", str(oracle), "serve", "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={"PATH": os.environ.get("PATH", ""), "TZ": "UTC"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/health").json() == {"service": "UP"}:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the oracle's serve did not start: {process.stderr.read().decode()[-500:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


SAMPLE_CONFIG = {"apiKey": "demo-api-key", "registerDeviceOrBrowserApiKey": "demo-device-key", "trackAllPages": True}


def test_samples_are_identical_to_rudderstack_served(oracle_url):
    report = its.crosscheck(sample_events(), SAMPLE_CONFIG, oracle_url)
    assert report.ok, report.frame().to_string()
    assert report.events == len(sample_events())


def test_samples_route_identically_to_rudderstack_served(oracle_url):
    report = its.crosscheck(sample_events() * 3, SAMPLE_CONFIG, oracle_url, router=30)
    assert report.ok, report.frame().to_string()
    assert report.calls == 3


@pytest.fixture(scope="module", params=[release.tag for release in KNOWN_RELEASES])
def release_oracle(request):
    """(release, URL): each known release's own oracle served, `Release.oracle` under ../shared/rudderstack."""
    release = resolve_release(request.param)[0]
    for url in served(ORACLE.parent / release.oracle):
        yield release, url


def test_each_release_maps_and_routes_the_samples_as_its_own_code_serves_them(release_oracle):
    release, url = release_oracle
    settings = its.read_settings(SAMPLE_CONFIG, rudderstack=release.tag)
    single = its.crosscheck(sample_events(), settings, url, progress=False)
    routed = its.crosscheck(sample_events() * 3, settings, url, router=30, progress=False)
    assert single.ok and routed.ok, (single.frame().to_string(), routed.frame().to_string())
    assert (single.events, routed.calls) == (len(sample_events()), 3)


def test_the_fake_answers_as_rudderstack_does(oracle_url, fake):
    _, fake_url = fake
    inputs = [{"message": m, "metadata": {"jobId": i}, "destination": {"ID": "d", "Config": CONFIG}}
              for i, m in enumerate(EVENTS, 1)]
    by_job = lambda outputs: sorted(outputs, key=lambda o: json.dumps(o["metadata"]))  # noqa: E731
    for path, body, read in (("/v0/destinations/iterable", inputs, by_job),
                             ("/routerTransform", {"destType": "iterable", "input": inputs},
                              lambda answer: by_job(answer["output"]))):
        real, canned = (httpx.post(base + path, json=body).json() for base in (oracle_url, fake_url))
        assert read(real) == read(canned)


def test_a_mapping_difference_is_found_against_rudderstack(oracle_url, monkeypatch):
    crosscheck_module = importlib.import_module("iterable_sim.checks.crosscheck")  # its.crosscheck is the function
    real_map_event = crosscheck_module.map_event

    def without_created_at(message, settings):
        requests = real_map_event(message, settings)
        for request in requests:
            if isinstance(request.json, dict):
                request.json.pop("createdAt", None)
        return requests

    monkeypatch.setattr(crosscheck_module, "map_event", without_created_at)
    report = its.crosscheck([TRACK, GROUP], CONFIG, oracle_url)
    assert (report.identical, report.different) == (1, 1)
    assert report.frame()[["event", "field", "transformer", "iterable_sim"]].values.tolist() == [
        [0, "requests[0].json.createdAt", "1717243200000", "(absent)"]]


def test_settings_object_is_sent_as_its_rudderstack_config(fake):
    _, url = fake
    settings = its.Settings(api_key="secret-api-key", data_center="EUDC",
                            register_device_or_browser_api_key="secret-device-key")
    assert its.crosscheck(EVENTS, settings, url).ok
    assert not its.crosscheck(EVENTS, {**CONFIG, "dataCenter": "USDC"}, url).ok  # the fake answers for EU only


def test_cli_reads_json_documents_and_sets_bad_lines_aside(fake, tmp_path, capsys):
    _, url = fake
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"Config": CONFIG}))
    document = tmp_path / "events.json"
    document.write_text(json.dumps(EVENTS, indent=2))
    out = io.StringIO()
    assert main(["crosscheck", str(document), "--settings", str(settings), "--transformer", url], out) == 0
    assert out.getvalue() == "3 events: 3 identical\n"

    lines = tmp_path / "events.jsonl"
    lines.write_text(f"{json.dumps(TRACK)}\n{{oops\n\n{json.dumps(GROUP)}\nnope\n")
    out = io.StringIO()
    assert main(["crosscheck", str(lines), "--settings", str(settings), "--transformer", url], out) == 2
    assert out.getvalue() == "2 events: 2 identical\n"
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith(f"iterable-sim crosscheck: {lines}, line 2: not JSON (")
    assert error.endswith(" (and 1 more unreadable line): not compared")


def test_cli_reads_rudderstacks_own_files_through_the_one_reader(fake, tmp_path):
    """A gateway archive (the archiver's gzipped `{"userId", "payload", "createdAt", "messageId"}` lines) and a
    /v1/batch body are compared event by event, as the same events in plain JSONL."""
    _, url = fake
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"Config": CONFIG}))
    archive = tmp_path / "archive.json.gz"
    archive.write_bytes(gzip.compress("".join(json.dumps({"userId": "<<>>u1<<>>u1", "payload": event,
                                                          "createdAt": "2026-01-05T10:00:08.456789Z",
                                                          "messageId": f"m-{n}"}) + "\n"
                                              for n, event in enumerate(EVENTS)).encode()))
    body = tmp_path / "batch.json"
    body.write_text(json.dumps({"batch": EVENTS, "sentAt": "2026-01-05T10:00:05.000Z"}))
    for events in (archive, body):
        out = io.StringIO()
        assert main(["crosscheck", str(events), "--settings", str(settings), "--transformer", url], out) == 0
        assert out.getvalue() == "3 events: 3 identical\n"
