"""route(): batching as RudderStack's router does it, within Iterable's limits for a bulk request."""
from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from iterable_sim import Batch, MappingError, Settings, map_event, route

US = Settings.from_rudder({"apiKey": "us-secret-key", "registerDeviceOrBrowserApiKey": "device-secret-key",
                           "trackAllPages": True})
EU = Settings.from_rudder({"apiKey": "eu-secret-key", "dataCenter": "EUDC", "trackAllPages": True})
LIMIT = 4_000_000


def identify(user: str, **traits) -> dict:
    return {"type": "identify", "userId": user, "traits": {"email": f"{user}@example.com", **traits}}


def identify_with_token(user: str) -> dict:
    event = identify(user)
    event["context"] = {"device": {"token": f"token-{user}", "type": "ios"}}
    return event


def track(user: str, name: str = "Clicked", **properties) -> dict:
    return {"type": "track", "userId": user, "event": name, "properties": properties,
            "originalTimestamp": "2024-05-01T10:00:00.000Z"}


def page(user: str) -> dict:
    return {"type": "page", "userId": user, "name": "Home", "properties": {"url": "https://example.com"}}


def purchase(user: str) -> dict:
    return {"type": "track", "userId": user, "event": "Order Completed",
            "properties": {"order_id": "o-1", "total": 10, "products": [{"product_id": "p1", "sku": "s1", "name": "Shoe", "price": 10, "quantity": 1}]}}


def alias(new: str, old: str) -> dict:
    return {"type": "alias", "userId": new, "previousId": old}


def catalog_row(catalog: str, item_id: str, **fields) -> dict:
    return {"type": "identify", "traits": fields,
            "context": {"mappedToDestination": "true",
                        "externalId": [{"id": item_id, "type": f"ITERABLE-{catalog}", "identifierType": "itemId"}]}}


def unmappable() -> dict:
    return {"type": "track", "event": "No identity"}


def jobs_of(events: list[dict], settings: Settings = US) -> list[tuple[int, dict, Settings]]:
    return [(index, event, settings) for index, event in enumerate(events)]


def bulk_requests(batches: list[Batch]) -> list:
    return [r for b in batches for r in b.requests if r.endpoint in ("users/bulkUpdate", "events/trackBulk")
            or r.endpoint.startswith("catalogs/")]


# ---------------------------------------------------------------- which endpoint, what goes together


def test_identifies_become_one_users_bulk_update_with_the_mapped_users():
    events = [identify(f"u{i}") for i in range(3)]
    [batch] = route(jobs_of(events))
    assert batch.batched and batch.status == 200 and batch.error is None
    assert batch.job_ids == [0, 1, 2]
    [request] = batch.requests
    assert request.url == "https://api.iterable.com/api/users/bulkUpdate"
    assert request.headers["api_key"] == "us-secret-key"
    assert request.json == {"users": [map_event(e, US)[0].json for e in events]}


def test_track_page_and_screen_share_one_events_track_bulk():
    screen = {**page("u3"), "type": "screen"}
    events = [track("u1"), page("u2"), screen]
    [batch] = route(jobs_of(events))
    [request] = batch.requests
    assert request.url == "https://api.iterable.com/api/events/trackBulk"
    assert [e["eventName"] for e in request.json["events"]] == ["Clicked", "Home page", "Home screen"]
    assert batch.job_ids == [0, 1, 2]


def test_purchases_carts_and_email_changes_stay_single_calls():
    cart = {**purchase("u2"), "event": "Product Added"}
    batches = route(jobs_of([purchase("u1"), cart, alias("new@example.com", "old@example.com")]))
    assert [(b.job_ids, b.batched, [r.endpoint for r in b.requests]) for b in batches] == [
        ([0], False, ["commerce/trackPurchase"]),
        ([1], False, ["commerce/updateCart"]),
        ([2], False, ["users/updateEmail"]),
    ]


def test_a_token_registration_rides_unbatched_with_its_users_batch():
    batches = route(jobs_of([identify("u0"), identify_with_token("u1"), identify("u2")]))
    [batch] = batches
    assert [r.endpoint for r in batch.requests] == ["users/bulkUpdate", "users/registerDeviceToken"]
    assert batch.requests[1].headers["api_key"] == "device-secret-key"
    assert batch.requests[1].json == map_event(identify_with_token("u1"), US)[1].json
    assert batch.job_ids == [0, 1, 2]
    assert batch.request_job_ids == [[0, 1, 2], [1]]  # a registration carries only its own job


def test_reverse_etl_catalog_updates_become_one_documents_call_per_catalog():
    events = [catalog_row("shoes", "s1", size=42), catalog_row("hats", "h1", colour="red"),
              catalog_row("shoes", "s2", size=40)]
    batches = route(jobs_of(events))
    by_url = {b.requests[0].url: b for b in batches}
    shoes = by_url["https://api.iterable.com/api/catalogs/shoes/items"]
    assert shoes.job_ids == [0, 2] and shoes.batched
    assert shoes.requests[0].json == {"documents": {"s1": {"size": 42}, "s2": {"size": 40}},
                                      "replaceUploadedFieldsOnly": True}
    assert by_url["https://api.iterable.com/api/catalogs/hats/items"].job_ids == [1]


def test_eu_settings_send_bulk_calls_to_the_eu_host():
    batches = route(jobs_of([identify("u1"), track("u1"), catalog_row("shoes", "s1", size=1)], EU))
    assert sorted(r.url for b in batches for r in b.requests) == [
        "https://api.eu.iterable.com/api/catalogs/shoes/items",
        "https://api.eu.iterable.com/api/events/trackBulk",
        "https://api.eu.iterable.com/api/users/bulkUpdate",
    ]
    assert all(r.headers["api_key"] == "eu-secret-key" for b in batches for r in b.requests)


def test_jobs_with_different_settings_never_share_a_batch_and_equal_settings_do():
    other = Settings.from_rudder({"apiKey": "other-key", "trackAllPages": True})
    same_as_us = Settings.from_rudder({"apiKey": "us-secret-key", "registerDeviceOrBrowserApiKey": "device-secret-key",
                                       "trackAllPages": True})
    jobs = [(1, identify("a"), US), (2, identify("b"), other), (3, identify("c"), same_as_us)]
    batches = route(jobs)
    assert sorted((b.requests[0].headers["api_key"], tuple(b.job_ids)) for b in batches) == [
        ("other-key", (2,)), ("us-secret-key", (1, 3))]


def test_settings_holding_unhashable_values_are_still_grouped_by_equality():
    odd = Settings.from_rudder({"apiKey": ["not", "a", "string"], "trackAllPages": True})
    odd_again = Settings.from_rudder({"apiKey": ["not", "a", "string"], "trackAllPages": True})
    batches = route([(1, track("a"), odd), (2, track("b"), odd_again), (3, track("c"), US)])
    assert sorted(tuple(b.job_ids) for b in batches) == [(1, 2), (3,)]


# ---------------------------------------------------------------- failures


def test_an_event_that_cannot_be_mapped_fails_alone_and_the_rest_go_on():
    batches = route(jobs_of([identify("u0"), unmappable(), identify("u2")]))
    failed = [b for b in batches if b.error is not None]
    assert [(b.job_ids, b.requests, b.batched, b.status, b.error) for b in failed] == [
        ([1], [], False, 400, "userId or email is mandatory for this request")]
    [users] = [b for b in batches if b.error is None]
    assert users.job_ids == [0, 2] and len(users.requests[0].json["users"]) == 2


def test_a_failed_mapping_keeps_its_status_code():
    [batch] = route([(7, {"type": 5}, US)])
    with pytest.raises(MappingError) as err:
        map_event({"type": 5}, US)
    assert (batch.status, batch.error) == (err.value.status, str(err.value)) == (500, str(err.value))


def test_route_says_clearly_when_a_job_has_no_settings_object():
    with pytest.raises(TypeError, match="Settings.from_rudder"):
        route([(1, identify("a"), {"apiKey": "k"})])


# ---------------------------------------------------------------- Iterable's limits


def test_bulk_requests_hold_at_most_1000_items():
    events = [identify(f"u{i}") for i in range(2500)] + [track(f"u{i}") for i in range(2001)]
    batches = route(jobs_of(events))
    counts = sorted((r.endpoint, len(r.json.get("users") or r.json.get("events"))) for r in bulk_requests(batches))
    assert counts == [("events/trackBulk", 1), ("events/trackBulk", 1000), ("events/trackBulk", 1000),
                      ("users/bulkUpdate", 500), ("users/bulkUpdate", 1000), ("users/bulkUpdate", 1000)]


def test_a_bulk_body_is_split_before_it_passes_4_000_000_bytes():
    events = [identify(f"u{i}", note="x" * 900_000) for i in range(10)]
    batches = route(jobs_of(events))
    sizes = [len(b.requests[0].body_bytes()) for b in batches]
    assert [len(b.job_ids) for b in batches] == [4, 4, 2]
    assert max(sizes) <= LIMIT
    assert [j for b in batches for j in b.job_ids] == list(range(10))


def _padded_identify(user: str, item_size: int) -> dict:
    """An identify whose users/bulkUpdate item is exactly item_size bytes as JSON."""
    base = len(map_event(identify(user, pad=""), US)[0].body_bytes())
    return identify(user, pad="p" * (item_size - base))


def test_the_limit_counts_the_separators_and_the_body_around_the_items():
    # Two items of 1,999,995 bytes: their sizes sum under 4,000,000 (RudderStack's own measure would send
    # them together), but the body {"users":[a,b]} is 4,000,003 bytes: they must go in two requests.
    events = [_padded_identify("u1", 1_999_995), _padded_identify("u2", 1_999_995)]
    assert [len(map_event(e, US)[0].body_bytes()) for e in events] == [1_999_995, 1_999_995]
    batches = route(jobs_of(events))
    assert [b.job_ids for b in batches] == [[0], [1]]


def test_a_body_of_exactly_4_000_000_bytes_goes_in_one_request():
    item = (LIMIT - len(b'{"users":[]}') - 1) // 2  # two items and one comma fill the body exactly
    events = [_padded_identify("u1", item), _padded_identify("u2", LIMIT - len(b'{"users":[,]}') - item)]
    [batch] = route(jobs_of(events))
    assert len(batch.requests[0].body_bytes()) == LIMIT


def test_an_event_too_large_for_any_bulk_request_fails_with_413_and_the_others_go_on():
    events = [identify("u0"), identify("u1", note="x" * LIMIT), identify("u2")]
    batches = route(jobs_of(events))
    [too_large] = [b for b in batches if b.error]
    assert too_large.job_ids == [1] and too_large.status == 413 and too_large.requests == []
    assert "4,000,000" in too_large.error
    assert sorted(j for b in batches if not b.error for j in b.job_ids) == [0, 2]


def test_an_item_only_the_standard_library_can_serialize_is_sent_on_its_own():
    events = [identify("u0"), identify("u1", huge=2**70), identify("u2")]
    batches = route(jobs_of(events))
    assert [b.job_ids for b in batches] == [[0], [1], [2]]
    assert b"1180591620717411303424" in batches[1].requests[0].body_bytes()


# ---------------------------------------------------------------- how a batch reads


def test_a_batch_repr_is_short_and_never_shows_an_api_key():
    batches = route(jobs_of([identify_with_token(f"u{i}") for i in range(5)] + [unmappable()]))
    text = " ".join(repr(b) for b in batches)
    assert "secret" not in text
    assert "POST users/bulkUpdate (5 users)" in text and "5 jobs" in text
    assert "status=400" in text and "mandatory" in text


# ---------------------------------------------------------------- properties


def _event(kind: str, user: str, size: int) -> dict:
    return {
        "identify": lambda: identify(user, pad="x" * size),
        "token": lambda: identify_with_token(user),
        "track": lambda: track(user, pad="y" * size),
        "page": lambda: page(user),
        "purchase": lambda: purchase(user),
        "alias": lambda: alias(f"{user}@new.example.com", f"{user}@old.example.com"),
        "catalog": lambda: catalog_row("shoes" if size % 2 else "hats", f"item-{user}", pad="z" * size),
        "bad": unmappable,
    }[kind]()


job_mixes = st.lists(
    st.tuples(st.sampled_from(["identify", "token", "track", "page", "purchase", "alias", "catalog", "bad"]),
              st.integers(0, 400), st.sampled_from([US, EU])),
    max_size=60)


def _check_partition_and_limits(jobs, batches, max_items, max_bytes):
    seen = Counter(j for b in batches for j in b.job_ids)
    assert seen == Counter(job_id for job_id, _, _ in jobs)  # every job in exactly one batch
    for batch in batches:
        assert (batch.error is None) == (batch.status == 200) == bool(batch.requests)
        for request in batch.requests:
            body = request.json
            if request.endpoint in ("users/bulkUpdate", "events/trackBulk") or request.endpoint.startswith("catalogs/"):
                items = body.get("users") or body.get("events") or body.get("documents") or []
                assert len(items) <= max_items
                assert len(request.body_bytes()) <= max_bytes


@given(mix=job_mixes, max_items=st.integers(1, 6), max_bytes=st.integers(200, 3000))
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_job_lands_in_exactly_one_batch_and_no_bulk_body_passes_the_limits(mix, max_items, max_bytes):
    jobs = [(f"job-{i}", _event(kind, f"u{i}", size), settings) for i, (kind, size, settings) in enumerate(mix)]
    batches = route(jobs, max_items=max_items, max_bytes=max_bytes)
    _check_partition_and_limits(jobs, batches, max_items, max_bytes)
    for batch in batches:
        assert len({r.headers.get("api_key") for r in batch.requests if "registerDevice" not in r.url}) <= 1


@given(mix=job_mixes)
@hypothesis_settings(max_examples=50, deadline=None)
def test_with_iterables_own_limits_every_job_lands_once(mix):
    jobs = [(i, _event(kind, f"u{i}", size), settings) for i, (kind, size, settings) in enumerate(mix)]
    _check_partition_and_limits(jobs, route(jobs), 1000, LIMIT)
