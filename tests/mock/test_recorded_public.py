"""The mock against live Iterable's recorded answers (../shared/iterable/recorded-public.json: 45 pairs from the
Ruby VCR cassettes of mtchavez/iterable-api-client, 2017-10 to 2022-11).

Each pair is sent to a fresh hybrid mock holding what the recording's project held when it was made (the
cassette's path says it: a user "when successful", a catalog "with an existing catalog", its 30 items for a
listing) and compared on what a client reads: the status, the `code`, and the body's shape (every top-level key
of the recorded body, with a value of the same JSON type; a newer answer may carry more keys). Where newer
evidence says otherwise (RudderStack's recorded answers, Iterable's docs), the pair is listed in SUPERSEDED
with that evidence, and the mock must give the newer answer. Without ../shared the module is skipped.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from iterable_sim.mock import ManualClock, MockIterable

RECORDED = Path(__file__).parents[2].parent / "shared" / "iterable" / "recorded-public.json"
KEY = "recorded-key"
SAMPLE_EMAIL, SAMPLE_USER_ID = "sample-1507173084@example.com", "1"  # the recordings' user
CATALOG = "example-catalog"

# (cassette path or folder, recorded status) -> (what holds instead, the answer the mock gives: status, code)
SUPERSEDED = {
    ("Iterable_Catalog/items/non-existing_catalog/responds_with_success.yml", 404): (
        "the catalog error envelope of RudderStack's recorded answers (rudder-transformer "
        "dataDelivery/network.ts #10, newer than 2019-06-03)", 404, "error.catalogs.notFound"),
    ("Iterable_Catalog/bulk_create/non-existing_catalog/returns_404.yml", 404): (
        "the same envelope, recorded by RudderStack for this very request", 404, "error.catalogs.notFound"),
    ("Iterable_Catalog/bulk_create/with_an_existing_catalog/", 202): (
        "200, as RudderStack's recorded answer for a bulk upload (dataDelivery/network.ts #11, newer than the "
        "2019-06-19 202; Iterable's docs allow either)", 200, "Success"),
    ("Iterable_Events/track/when_successful/", 200): (
        "`Event with id: <id> tracked.` with params.id, as Iterable's docs (CEP) and RudderStack's recorded "
        "answers give it (newer than 2017-10-03)", 200, "Success"),
}


def _pairs() -> list[Any]:
    if not RECORDED.exists():
        return [pytest.param(None, id="no-recordings", marks=pytest.mark.skip(
            reason=f"{RECORDED} is absent: the recordings come with ../shared, beside the repository"))]
    pairs = json.loads(RECORDED.read_text("utf-8"))
    return [pytest.param(pair, id=f"{n}-{pair['endpoint']}") for n, pair in enumerate(pairs)]


def _path(pair: dict[str, Any]) -> str:
    return pair["source_path"].split("spec/cassettes/", 1)[1]


def given(pair: dict[str, Any]) -> MockIterable:
    """A mock holding what the recording's project held."""
    clock = ManualClock()
    mock = MockIterable(project_type="hybrid", clock=clock, rate_limits=False)
    mock.add_api_key(KEY)
    path, url = _path(pair), pair["request"]["url"]
    if "successful" in path and ("Iterable_Users/" in path):
        mock.create_user(email=SAMPLE_EMAIL, user_id=SAMPLE_USER_ID)
    if "with_an_existing_catalog" in path and f"{CATALOG}/items" in url or "duplicate_catalog" in path:
        mock.create_catalog(CATALOG)
    if "items/with_an_existing_catalog" in path:  # a listing: the 30 items it lists, written one a second
        for number in range(1, 31):
            clock.advance(1)
            mock.add_catalog_items(CATALOG, {str(number): {"number": number}})
    return mock


def answer_to(pair: dict[str, Any]) -> tuple[int, Any]:
    request = pair["request"]
    url = request["url"].replace("<ITERABLE_TOKEN>", KEY)
    headers = {} if f"api_key={KEY}" in url or "api_key&" in url else {"Api-Key": KEY}
    body = request.get("body")
    with httpx.Client(transport=given(pair).transport()) as client:
        sent = client.request(request["method"], url, headers=headers,
                              content=json.dumps(body).encode() if request["method"] == "POST" else None)
    try:
        return sent.status_code, sent.json()
    except ValueError:
        return sent.status_code, sent.text


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def shape_difference(recorded: Any, got: Any) -> str | None:
    """Where `got` lacks a top-level key of `recorded` or holds another JSON type there."""
    if not isinstance(recorded, dict):
        return None if _json_type(recorded) == _json_type(got) else f"a {_json_type(got)} body, not a {_json_type(recorded)}"
    if not isinstance(got, dict):
        return f"a {_json_type(got)} body, not an object"
    for key, value in recorded.items():
        if key not in got:
            return f"no {key!r}"
        if _json_type(got[key]) != _json_type(value):
            return f"{key!r} is a {_json_type(got[key])}, not a {_json_type(value)}"
    return None


def superseded(pair: dict[str, Any]) -> tuple[str, int, str] | None:
    path, status = _path(pair), pair["response"]["status"]
    return next((why for (prefix, recorded), why in SUPERSEDED.items()
                 if path.startswith(prefix) and status == recorded), None)


@pytest.mark.parametrize("pair", _pairs())
def test_the_mock_answers_as_iterable_was_recorded_answering(pair: dict[str, Any]) -> None:
    status, body = answer_to(pair)
    newer = superseded(pair)
    if newer is not None:
        _, want_status, want_code = newer
        assert (status, body.get("code")) == (want_status, want_code), (newer[0], body)
        return
    recorded = pair["response"]
    assert status == recorded["status"], body
    if isinstance(recorded["body"], dict):
        assert isinstance(body, dict) and body.get("code") == recorded["body"].get("code"), body
    assert shape_difference(recorded["body"], body) is None, (shape_difference(recorded["body"], body), body)


def test_the_agreement_figure(capsys: pytest.CaptureFixture[str]) -> None:
    """Status, code and shape agree for every pair but the superseded ones (printed with `-s`)."""
    if not RECORDED.exists():
        pytest.skip(f"{RECORDED} is absent")
    pairs = json.loads(RECORDED.read_text("utf-8"))
    agree = {"status": 0, "code": 0, "shape": 0}
    for pair in pairs:
        status, body = answer_to(pair)
        recorded = pair["response"]
        agree["status"] += status == recorded["status"]
        agree["code"] += not isinstance(recorded["body"], dict) or (
            isinstance(body, dict) and body.get("code") == recorded["body"].get("code"))
        agree["shape"] += shape_difference(recorded["body"], body) is None
    old = sum(superseded(pair) is not None for pair in pairs)
    with capsys.disabled():
        print(f"\nrecorded-public.json: {len(pairs)} pairs; agreeing on status {agree['status']}, on code "
              f"{agree['code']}, on body shape {agree['shape']}; {old} superseded by newer evidence")
    assert min(agree.values()) >= len(pairs) - old
