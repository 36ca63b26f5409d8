"""Each known rudder-transformer release against RudderStack's own code of that release (its oracle in
../shared/rudderstack/versions) and against that release's own test cases (versions/cases/<release>):
every output identical, but for the deliberate differences of docs/differences.md.

Skipped, saying why, where ../shared, an oracle or node is absent (a fresh clone has none of them);
tests/test_releases.py holds the small fixtures that run everywhere. The full-size run is
tools/difftest/difftest.py --rudderstack RELEASE, by hand.
"""
from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import iterable_sim as its
from iterable_sim.mapping.jsvalues import UNDEFINED
from iterable_sim.mapping.releases import KNOWN_RELEASES, Release
from iterable_sim.mapping.request import endpoint_path

DIFFTEST = Path(__file__).resolve().parents[1] / "tools" / "difftest" / "difftest.py"


def _load_difftest():
    if "difftest" in sys.modules:
        return sys.modules["difftest"]
    spec = importlib.util.spec_from_file_location("difftest", DIFFTEST)
    module = importlib.util.module_from_spec(spec)
    sys.modules["difftest"] = module
    spec.loader.exec_module(module)
    return module


difftest = _load_difftest()
CASES = difftest.RUDDERSTACK_DIR / "versions" / "cases"
OLDER = [release for release in KNOWN_RELEASES if not release.is_latest]
SEED = 20261203  # fixed: a failure here can be replayed with difftest.py --rudderstack RELEASE --seed


@pytest.fixture
def compare_with():
    """difftest set to compare with a release (its oracle and Settings(rudderstack=...)), set back after."""
    before = difftest.RELEASE

    def use(release: Release) -> None:
        missing = difftest.oracle_missing(release)
        if missing:
            pytest.skip(f"needs the oracle of rudder-transformer {release.tag}: {missing}")
        difftest.use_release(release)

    yield use
    difftest.use_release(before)


def _report(tally) -> str:
    out = io.StringIO()
    tally.report(show=1, out=out)
    return out.getvalue()


# ---------------------------------------------------------------- generated cases against each oracle


@pytest.mark.parametrize("release", KNOWN_RELEASES, ids=lambda r: r.tag)
def test_generated_events_map_exactly_as_each_release_maps_them(release, compare_with):
    compare_with(release)
    tally = difftest.Tally("processor")
    for chunk in difftest.chunks(difftest.process_cases(SEED, 2500), 2500):
        difftest.compare_process(chunk, tally)
    assert tally.identical > 2400
    assert tally.different == 0, _report(tally)


@pytest.mark.parametrize("release", KNOWN_RELEASES, ids=lambda r: r.tag)
def test_generated_router_calls_batch_exactly_as_each_release_batches_them(release, compare_with):
    compare_with(release)
    tally = difftest.Tally("router")
    for chunk in difftest.chunks(difftest.router_calls(SEED, 30), 15):
        difftest.compare_router(chunk, tally)
    assert tally.identical > 25
    assert tally.different == 0, _report(tally)


# ---------------------------------------------------------------- each release's own test cases


def _cases(release: Release, suite: str) -> list[dict[str, Any]]:
    path = CASES / release.tag / f"{suite}.json"
    if not path.exists():
        pytest.skip(f"rudder-transformer {release.tag}'s own cases are not at {path}")
    return json.loads(path.read_text())


def _view(method: str, url: str, headers: dict[str, Any], body: Any, path: Any) -> dict[str, Any]:
    """A request as compared: header names in any case and any order (as HTTP has them), the rest strict."""
    named = {str(name).lower(): value for name, value in headers.items()}
    return {"method": method.upper(), "url": url, "headers": dict(sorted(named.items())), "json": body,
            "endpointPath": path}


def _ours(request: its.Request, release: Release) -> dict[str, Any]:
    sent = difftest.our_request(request)
    return _view(sent["method"], sent["url"], sent["headers"], sent["json"], endpoint_path(request, release))


def _theirs(request: dict[str, Any]) -> dict[str, Any]:
    return _view(request["method"], request["endpoint"], request["headers"], request.get("json", {}),
                 request.get("endpointPath"))


def _unordered(value: Any) -> Any:
    """A JSON value with every object's keys sorted: RudderStack's tests compare deeply, in any key order."""
    if isinstance(value, dict):
        return {key: _unordered(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_unordered(item) for item in value]
    return value


def _processor_problem(case: dict[str, Any], release: Release) -> Any:
    given, expected = case["input"], case["expected"]
    settings = its.Settings.from_rudder(given["config"], rudder_server=False, rudderstack=release.tag)
    status = expected["status"][0] if isinstance(expected["status"], list) else expected["status"]
    try:
        ours: dict[str, Any] = {"status": 200, "error": None,
                                "requests": [_ours(r, release) for r in its.map_event(given["message"], settings)]}
    except its.MappingError as err:
        ours = {"status": err.status, "error": str(err), "requests": []}
    theirs = {"status": status, "error": expected.get("error"), "requests": [_theirs(r) for r in expected.get("requests", [])]}
    return difftest.first_difference(_unordered(theirs), _unordered(ours))


def _router_problem(case: dict[str, Any], release: Release) -> Any:
    events = case["input"]["events"]
    jobs = [(e["metadata"]["jobId"], e["message"],
             its.Settings.from_rudder(e["config"], rudder_server=False, rudderstack=release.tag),
             (e.get("destination") or {}).get("ID"), e["metadata"].get("userId", UNDEFINED)) for e in events]
    ours = [{"jobs": sorted(map(str, b.job_ids)), "batched": bool(b.batched), "status": b.status, "error": b.error,
             "requests": [_ours(r, release) for r in b.requests]} for b in its.route(jobs)]
    theirs = [{"jobs": sorted(map(str, b["metadata_ids"])), "batched": b["batched"], "status": b["statusCode"],
               "error": b.get("error"), "requests": [_theirs(r) for r in b["requests"]]}
              for b in case["expected"]["batches"]]
    key = lambda view: json.dumps(view, sort_keys=True)  # noqa: E731 - batches compared as a set, as RudderStack's tests do
    return difftest.first_difference(_unordered(sorted(theirs, key=key)), _unordered(sorted(ours, key=key)))


def _delete_users_problem(case: dict[str, Any], release: Release) -> Any:
    given, expected = case["input"], case["expected"]
    answers = {(c["method"].upper(), c["url"]): c["response"] for c in case.get("derived_http_calls", [])}
    made = []

    def handler(request: httpx.Request) -> httpx.Response:
        made.append((request.method, str(request.url)))
        answer = answers.get(made[-1])
        if answer is None:
            return httpx.Response(599, json={"msg": f"unexpected call {made[-1]}"})
        return httpx.Response(answer["status"], json=answer["body"])

    result = its.delete_users(given["userAttributes"], given.get("config"), transport=httpx.MockTransport(handler),
                              rudderstack=release.tag)
    body = expected["body"][0]
    found = difftest.first_difference({"status": body["statusCode"], "error": body.get("error")},
                                      {"status": result.status, "error": result.error})
    return found or ([key for key in answers if key not in made] or None)


@pytest.mark.parametrize("release", OLDER, ids=lambda r: r.tag)
def test_each_release_passes_its_own_test_cases(release):
    failures, passed = [], 0
    for suite, check in (("processor", _processor_problem), ("router", _router_problem),
                         ("delete_users", _delete_users_problem)):
        for case in _cases(release, suite):
            if suite == "router" and any("statusCode" in e["message"] for e in case["input"]["events"]):
                continue  # an already-transformed payload passed through: outside route()'s contract
            problem = check(case, release)
            if problem:
                failures.append(f"{suite} {case['id']}: {problem}")
            else:
                passed += 1
    assert not failures, "\n".join(failures)
    assert passed >= 30


@pytest.mark.parametrize("release", [r for r in OLDER if not r.has("endpoint_path")], ids=lambda r: r.tag)
def test_the_releases_own_cases_tell_it_apart_from_latest(release):
    """Run as the newest release, an older release's own cases fail somewhere, so passing them proves its
    rules. (v1.132.1's own cases give c98d160c's output too: its router cases hold one message type per
    user run; the generated router calls above tell it apart.)"""
    latest = KNOWN_RELEASES[-1]
    failing = sum(1 for suite, check in (("processor", _processor_problem), ("router", _router_problem))
                  for case in _cases(release, suite)
                  if not any("statusCode" in e["message"] for e in case["input"].get("events", []))
                  and check({**case}, latest) and not check(case, release))
    assert failing > 0


@pytest.mark.parametrize("release", OLDER, ids=lambda r: r.tag)
def test_the_generated_router_calls_tell_each_release_apart_from_latest(release, compare_with_no_oracle):
    """No oracle needed: the router calls the tests above compare route differently per release, so
    agreeing with each release's oracle on them proves its router rules."""
    calls = list(difftest.router_calls(SEED, 30))
    compare_with_no_oracle(release)
    older = [difftest.ours_router(difftest.as_javascript_reads_it(call)) for call in calls]
    compare_with_no_oracle(KNOWN_RELEASES[-1])
    latest = [difftest.ours_router(difftest.as_javascript_reads_it(call)) for call in calls]
    assert sum(a != b for a, b in zip(older, latest, strict=True)) >= 10


@pytest.fixture
def compare_with_no_oracle():
    before = difftest.RELEASE
    yield difftest.use_release
    difftest.use_release(before)
