"""route(): batching as RudderStack's router does it (iterable/util.js, groupRouterTransformEvents)."""
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


def test_reverse_etl_catalog_updates_of_every_catalog_go_together_to_the_first_ones_url():
    # util.js processCatalogBatch: one chunk of all catalog events, sent to chunk[0]'s endpoint
    events = [catalog_row("shoes", "s1", size=42), catalog_row("hats", "h1", colour="red"),
              catalog_row("shoes", "s2", size=40)]
    [batch] = route(jobs_of(events))
    assert batch.job_ids == [0, 1, 2] and batch.batched
    [request] = batch.requests
    assert request.url == "https://api.iterable.com/api/catalogs/shoes/items"
    assert request.json == {"documents": {"s1": {"size": 42}, "h1": {"colour": "red"}, "s2": {"size": 40}},
                            "replaceUploadedFieldsOnly": True}


def test_catalog_documents_are_a_javascript_object_index_like_ids_first_a_repeated_id_keeps_its_place():
    events = [catalog_row("shoes", "b", v=1), catalog_row("shoes", "10", v=2), catalog_row("shoes", "2", v=3),
              catalog_row("shoes", "b", v=4)]
    [batch] = route(jobs_of(events))
    documents = batch.requests[0].json["documents"]
    assert list(documents.items()) == [("2", {"v": 3}), ("10", {"v": 2}), ("b", {"v": 4})]
    assert batch.job_ids == [0, 1, 2, 3]


def test_catalog_documents_go_in_chunks_of_1000_without_a_size_split():
    events = [catalog_row("shoes", f"s{i}", note="x" * 5000) for i in range(1001)]
    batches = route(jobs_of(events))
    assert [len(b.requests[0].json["documents"]) for b in batches] == [1000, 1]


def test_eu_settings_send_bulk_calls_to_the_eu_host():
    batches = route(jobs_of([identify("u1"), track("u1"), catalog_row("shoes", "s1", size=1)], EU))
    assert sorted(r.url for b in batches for r in b.requests) == [
        "https://api.eu.iterable.com/api/catalogs/shoes/items",
        "https://api.eu.iterable.com/api/events/trackBulk",
        "https://api.eu.iterable.com/api/users/bulkUpdate",
    ]
    assert all(r.headers["api_key"] == "eu-secret-key" for b in batches for r in b.requests)


def test_jobs_with_different_configs_never_share_a_batch_and_equal_configs_do():
    other = Settings.from_rudder({"apiKey": "other-key", "trackAllPages": True})
    same_as_us = Settings.from_rudder({"apiKey": "us-secret-key", "registerDeviceOrBrowserApiKey": "device-secret-key",
                                       "trackAllPages": True})
    jobs = [(1, identify("a"), US), (2, identify("b"), other), (3, identify("c"), same_as_us)]
    batches = route(jobs)
    assert [(b.requests[0].headers["api_key"], b.job_ids) for b in batches] == [
        ("us-secret-key", [1, 3]), ("other-key", [2])]


def test_configs_are_compared_as_given_as_rudderstack_stringifies_them():
    # groupRouterTransformEvents groups by stableStringify(Config): key order does not matter, but a
    # value of another type (1 for true) or an extra key does, though the settings read the same
    a = Settings.from_rudder({"apiKey": "k", "preferUserId": True, "trackAllPages": True})
    a_reordered = Settings.from_rudder({"trackAllPages": True, "preferUserId": True, "apiKey": "k"})
    one = Settings.from_rudder({"apiKey": "k", "preferUserId": 1, "trackAllPages": True})
    extra = Settings.from_rudder({"apiKey": "k", "preferUserId": True, "trackAllPages": True, "x": 1})
    batches = route([(1, track("a"), a), (2, track("b"), one), (3, track("c"), a_reordered), (4, track("d"), extra)])
    assert [b.job_ids for b in batches] == [[1, 3], [2], [4]]


def test_jobs_of_different_destinations_never_share_a_batch():
    jobs = [(1, identify("a"), US, "dest-1"), (2, identify("b"), US, "dest-2"), (3, identify("c"), US, "dest-1"),
            (4, identify("d"), US)]
    assert [b.job_ids for b in route(jobs)] == [[1, 3], [2], [4]]


def test_a_groups_batches_come_users_catalogs_events_singles_then_errors():
    events = [unmappable(), purchase("u1"), track("u1"), catalog_row("shoes", "s1", size=1), identify("u1")]
    batches = route(jobs_of(events))
    assert [(b.job_ids, b.requests[0].endpoint if b.requests else b.error) for b in batches] == [
        ([4], "users/bulkUpdate"), ([3], "catalogs/shoes/items"), ([2], "events/trackBulk"),
        ([1], "commerce/trackPurchase"), ([0], "userId or email is mandatory for this request")]


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


def test_a_bulk_body_is_split_where_the_sum_of_its_items_passes_4_000_000_bytes():
    events = [identify(f"u{i}", note="x" * 900_000) for i in range(10)]
    batches = route(jobs_of(events))
    assert [len(b.job_ids) for b in batches] == [4, 4, 2]
    assert [j for b in batches for j in b.job_ids] == list(range(10))


def _padded_identify(user: str, item_size: int) -> dict:
    """An identify whose users/bulkUpdate item is exactly item_size bytes as JSON."""
    base = len(map_event(identify(user, pad=""), US)[0].body_bytes())
    return identify(user, pad="p" * (item_size - base))


def test_the_limit_counts_the_items_only_as_json_size_does():
    # util.js sums jsonSize(item) and splits when the sum passes 4,000,000: two items of 2,000,000
    # bytes go together, though the body {"users":[a,b]} is 4,000,013 bytes
    events = [_padded_identify("u1", 2_000_000), _padded_identify("u2", 2_000_000)]
    [batch] = route(jobs_of(events))
    assert len(batch.requests[0].body_bytes()) == 4_000_013
    one_more = [_padded_identify("u1", 2_000_000), _padded_identify("u2", 2_000_001)]
    assert [b.job_ids for b in route(jobs_of(one_more))] == [[0], [1]]


def test_an_item_larger_than_the_limit_goes_alone_after_an_empty_request_when_it_opens_a_chunk():
    events = [identify("u0", note="x" * LIMIT), identify("u1"), identify("u2", note="y" * LIMIT), identify("u3")]
    batches = route(jobs_of(events))
    assert [(b.job_ids, len(b.requests[0].json["users"])) for b in batches] == [
        ([], 0), ([0], 1), ([1], 1), ([2], 1), ([3], 1)]


def test_an_item_only_the_standard_library_can_serialize_is_batched_with_the_others():
    events = [identify("u0"), identify("u1", huge=2**70), identify("u2")]
    [batch] = route(jobs_of(events))
    assert batch.job_ids == [0, 1, 2]
    assert b"1180591620717411303424" in batch.requests[0].body_bytes()


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
    assert seen == Counter(job[0] for job in jobs)  # every job in exactly one batch
    for batch in batches:
        assert (batch.error is None) == (batch.status == 200) == bool(batch.requests)
        for request in batch.requests:
            body = request.json
            if request.endpoint in ("users/bulkUpdate", "events/trackBulk"):
                items = body.get("users") or body.get("events") or []
                assert len(items) <= max_items
                sizes = [len(map_event_item) for map_event_item in map(_json, items)]
                assert len(items) <= 1 or sum(sizes) <= max_bytes  # only a lone item may pass the limit
            elif request.endpoint.startswith("catalogs/"):
                assert len(body["documents"]) <= max_items


def _json(value) -> bytes:
    from iterable_sim.mapping.request import json_bytes
    return json_bytes(value)[0]


@given(mix=job_mixes, max_items=st.integers(1, 6), max_bytes=st.integers(200, 3000))
@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_job_lands_in_exactly_one_batch_and_only_a_lone_item_passes_the_limits(mix, max_items, max_bytes):
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
