"""preflight(): Iterable's answer to each mapped request, found on a throwaway mock without sending."""
import iterable_sim as its
from iterable_sim import Settings, map_events
from iterable_sim.checks.preflight import PREFLIGHT_COLUMNS, preflight, requests_with_preflight

TS = "2024-06-01T10:00:00.000Z"
SETTINGS = Settings(api_key="secret-key-123")


def track(event, **props):
    return {"type": "track", "event": event, "userId": "u1", "originalTimestamp": TS,
            "properties": {"email": "jo@example.com", **props}}


def checked(events, settings=SETTINGS, **kwargs):
    return preflight(map_events(events, settings), **kwargs)


def test_one_row_per_request_in_requests_frame_order():
    results = map_events([track("A"), {"type": "group"}, track("B")], SETTINGS)
    frame = preflight(results)
    assert list(frame.columns) == PREFLIGHT_COLUMNS
    assert frame["event"].tolist() == results.requests_frame()["event"].tolist() == [0, 2]
    assert frame["preflight"].tolist() == ["ok", "ok"] and frame["status"].tolist() == [200, 200]


def test_invalid_email_is_rejected_with_iterables_reason():
    row = checked([track("Signed Up", email="not-an-email")]).iloc[0]
    assert (row["preflight"], row["status"], row["code"]) == ("rejected", 400, "InvalidEmailAddressError")
    assert row["reason"] == "InvalidEmailAddressError: Invalid email: not-an-email"


def test_track_without_event_name_is_rejected_at_its_path():
    event = track("x")
    del event["event"]
    row = checked([event]).iloc[0]
    assert row["preflight"] == "rejected" and row["reason"] == "BadJsonBody: obj.eventName: Missing required field"


def test_price_that_parses_to_null_is_rejected_and_explained():
    order = {"type": "track", "event": "Order Completed", "userId": "u1", "originalTimestamp": TS,
             "properties": {"email": "jo@example.com", "total": 19, "order_id": "o1",
                            "products": [{"product_id": "p1", "name": "Card", "price": "$19", "quantity": 1}]}}
    row = checked([order]).iloc[0]
    assert row["preflight"] == "rejected" and "obj.items[0].price: Missing required field" in row["reason"]
    assert row["notes"] == "items[0].price is null: properties.products.0.price was '$19' (parseFloat(value))"


def test_string_where_iterable_wants_a_boolean():
    settings = Settings.from_rudder({"apiKey": "k", "preferUserId": "true", "trackAllPages": True})
    row = checked([{"type": "identify", "userId": "u1", "traits": {"email": "jo@example.com"}}], settings).iloc[0]
    assert row["preflight"] == "rejected" and row["reason"] == "BadJsonBody: obj.preferUserId: Boolean value expected"


def test_undefined_page_is_accepted_with_a_warning():
    row = checked([{"type": "page", "userId": "u1", "properties": {"path": "/"}, "originalTimestamp": TS}]).iloc[0]
    assert (row["preflight"], row["status"]) == ("warning", 200)
    assert row["notes"].startswith("eventName is 'undefined page'")


def test_unparseable_timestamp_is_noted():
    row = checked([dict(track("A"), originalTimestamp="yesterday")]).iloc[0]
    assert row["preflight"] == "warning" and row["notes"].startswith("createdAt is null: originalTimestamp was 'yesterday'")


def test_requests_depend_on_earlier_ones_like_a_first_send():
    # the first event locks dataFields.plan as a string; the second sends a number: Iterable refuses it
    identify = {"type": "identify", "userId": "u1", "traits": {"email": "jo@example.com", "plan": "pro"}}
    clash = {"type": "identify", "userId": "u1", "traits": {"email": "jo@example.com", "plan": 3.5}}
    frame = checked([identify, clash])
    assert frame["preflight"].tolist() == ["ok", "rejected"] and frame["code"][1] == "RequestFieldsTypesMismatched"


def test_catalog_items_are_checked_in_their_wire_form():
    event = {"type": "identify", "userId": "p-1", "traits": {"name": "Shoe"},
             "context": {"mappedToDestination": "true",
                         "externalId": [{"id": "p-1", "identifierType": "itemId", "type": "ITERABLE-products"}]}}
    row = checked([event]).iloc[0]
    assert (row["endpoint"], row["status"], row["preflight"]) == ("catalogs/products/items", 200, "warning")
    assert row["notes"] == "the catalog 'products' must already exist in your Iterable project"


def test_project_type_changes_the_answer():
    event = {"type": "track", "event": "A", "anonymousId": "anon-1", "properties": {}}
    assert checked([event], project_type="hybrid")["status"].tolist() == [200]
    assert checked([event], project_type="email")["code"].tolist() == ["UnknownUserIdError"]


def test_requests_with_preflight_adds_the_columns_after_endpoint():
    frame = requests_with_preflight(map_events([track("A"), track("B", email="bad")], SETTINGS))
    columns = list(frame.columns)
    assert columns[columns.index("endpoint") + 1: columns.index("endpoint") + 3] == ["preflight", "preflight_reason"]
    assert frame["preflight"].tolist() == ["ok", "rejected"]
    assert frame["preflight_reason"][1] == "InvalidEmailAddressError: Invalid email: bad"


def test_no_events_no_rows_and_the_key_never_reaches_the_output():
    assert preflight(map_events([], SETTINGS)).empty
    frame = checked([track("A"), track("B", email="bad")])
    assert "secret-key" not in frame.to_string()


def test_an_alias_presumes_the_profile_it_moves():
    alias = {"type": "alias", "previousId": "old@example.com", "userId": "new@example.com"}
    row = checked([alias]).iloc[0]
    assert (row["endpoint"], row["preflight"], row["status"]) == ("users/updateEmail", "warning", 200)
    assert row["notes"] == "assumes 'old@example.com' already has a profile in Iterable"
    identify = {"type": "identify", "userId": "u1", "traits": {"email": "old@example.com"}}
    assert checked([identify, alias])["preflight"].tolist() == ["ok", "ok"]


BIG_TRACK = {"type": "track", "event": "Big", "userId": "u1", "properties": {"blob": "x" * 4_050_000}}  # under the gateway's 4,096,000 bytes, over Iterable's 4,000,000
BIG_CATALOG_ITEM = {"type": "identify", "userId": "p1", "traits": {"blob": "x" * 40_000}, "context": {
    "mappedToDestination": True, "externalId": [{"type": "ITERABLE-products", "id": "p1", "identifierType": "id"}]}}


def test_preflight_and_send_agree_on_what_is_too_large():
    settings = its.Settings.from_rudder({"apiKey": "k", "trackAllPages": True})
    results = its.map_events([BIG_TRACK, BIG_CATALOG_ITEM], settings)
    verdicts = preflight(results)
    assert verdicts["preflight"].tolist() == ["rejected", "rejected"] and verdicts["status"].tolist() == [413, 413]
    assert "30,720 bytes (30 KB) per item" in verdicts["reason"][1]
    report = its.send([BIG_TRACK], settings, progress=False)
    assert report.outcomes[0].status == 413 and report.summary()["requests"] == 0
