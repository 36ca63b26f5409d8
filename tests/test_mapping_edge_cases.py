"""RudderStack's rules on events nobody listed: odd casing, odd products, junk numbers, odd traits, unicode."""
import pytest

from iterable_sim import MappingError, Settings, map_event

SETTINGS = Settings.from_rudder({"apiKey": "k", "trackAllPages": True, "registerDeviceOrBrowserApiKey": "dk"})


def body(message):
    (request,) = map_event(message, SETTINGS)
    return request.json


def purchase(properties, **extra):
    return {"type": "track", "event": "Order Completed", "userId": "u", **extra, "properties": properties}


def error(message):
    with pytest.raises(MappingError) as err:
        map_event(message, SETTINGS)
    return str(err.value), err.value.status


# ---------------------------------------------------------------- casing

@pytest.mark.parametrize("name,endpoint", [
    ("ORDER COMPLETED", "commerce/trackPurchase"), ("order completed", "commerce/trackPurchase"),
    ("Product added", "commerce/updateCart"), ("PRODUCT REMOVED", "commerce/updateCart"),
    ("Order  Completed", "events/track"), ("Order Completed ", "events/track"),
])
def test_event_names_are_matched_case_insensitively_but_exactly(name, endpoint):
    message = {"type": "track", "event": name, "userId": "u",
               "properties": {"total": 1, "product_id": "p", "name": "n", "price": 1, "quantity": 1}}
    assert map_event(message, SETTINGS)[0].endpoint == endpoint


def test_event_types_are_case_insensitive_and_page_names_use_lower_case():
    assert map_event({"type": "TRACK", "event": "x", "userId": "u"}, SETTINGS)[0].endpoint == "events/track"
    assert body({"type": "Page", "name": "Home", "userId": "u"})["eventName"] == "Home page"
    assert body({"type": "SCREEN", "name": "Home", "userId": "u"})["eventName"] == "Home screen"
    assert body({"type": "Screen", "name": "Home", "userId": "u"}) == body({"type": "screen", "name": "Home", "userId": "u"})


def test_non_string_event_name_is_a_plain_track_event():
    assert body({"type": "track", "event": 42, "userId": "u"})["eventName"] == 42


# ---------------------------------------------------------------- products

def test_products_missing_takes_the_item_from_properties():
    assert body(purchase({"total": 5, "product_id": "p", "name": "n", "price": "5", "quantity": "1"}))["items"] == [
        {"id": "p", "name": "n", "price": 5, "quantity": 1}]


@pytest.mark.parametrize("products", [None, {"product_id": "p", "name": "n", "price": 1, "quantity": 1}, "p", 7])
def test_products_not_a_list_falls_back_to_properties(products):
    message = purchase({"total": 5, "products": products})
    assert error(message) == ('Missing required value from "product_id"', 400)


def test_product_that_is_a_string_fills_every_field_with_itself():
    # get-value returns a non-object target as it is, so every field of the item reads "abc"
    assert body(purchase({"total": 5, "products": ["abc"]}))["items"] == [
        {"id": "abc", "sku": "abc", "name": "abc", "description": "abc", "categories": ["abc"], "price": None,
         "quantity": None, "imageUrl": "abc", "url": "abc", "dataFields": "abc"}]


@pytest.mark.parametrize("item,missing", [
    (None, "product_id"), ({}, "product_id"), ({"product_id": "p"}, "name"),
    ({"product_id": "p", "name": "n"}, "price"), ({"product_id": "p", "name": "n", "price": 0}, "quantity"),
    ({"product_id": "", "name": "n", "price": 1, "quantity": 1}, "product_id"),
])
def test_product_required_fields(item, missing):
    assert error(purchase({"total": 5, "products": [item]})) == (f'Missing required value from "{missing}"', 400)


def test_empty_products_list_gives_no_items():
    assert body(purchase({"total": 5, "products": []}))["items"] == []


def test_category_list_is_kept_and_string_is_split():
    items = body(purchase({"total": 1, "products": [
        {"product_id": 1, "name": "a", "price": 1, "quantity": 1, "category": ["x", "y"]},
        {"product_id": 2, "name": "b", "price": 1, "quantity": 1, "category": "x,,y"}]}))["items"]
    assert items[0]["categories"] == ["x", "y"] and items[1]["categories"] == ["x", "", "y"]


# ---------------------------------------------------------------- numbers

@pytest.mark.parametrize("price,expected", [
    ("19", 19), ("19.99", 19.99), ("$19", None), ("19.99abc", 19.99), (" 7", 7), ("1e3", 1000), ("abc", None),
    (True, None), ([5], 5), ({"a": 1}, None), ("Infinity", None), (0, 0), ("0", 0), ("-3.5", -3.5),
])
def test_price_is_parse_float(price, expected):
    item = body(purchase({"total": 1, "products": [{"product_id": 1, "name": "n", "price": price, "quantity": 1}]}))
    assert item["items"][0]["price"] == expected


@pytest.mark.parametrize("quantity,expected", [
    ("2", 2), ("2.7", 2), (2.7, 2), ("abc", None), ("3 items", 3), ("-1", -1), (1e21, 1), ("0x10", 0),
])
def test_quantity_is_parse_int(quantity, expected):
    item = body(purchase({"total": 1, "products": [{"product_id": 1, "name": "n", "price": 1, "quantity": quantity}]}))
    assert item["items"][0]["quantity"] == expected


@pytest.mark.parametrize("total,expected", [("1000", 1000), ("1,000", 1), ("abc", None), (0, 0), ("12.50", 12.5)])
def test_total(total, expected):
    assert body(purchase({"total": total, "products": []}))["total"] == expected


@pytest.mark.parametrize("value,expected", [
    ("12", 12), ("12abc", 12), ("abc", None), (12.9, 12), ("0", 0), (0, "absent"), ("", "absent"), (False, "absent"),
])
def test_campaign_and_template_ids(value, expected):
    for kind in ({"type": "track", "event": "e"}, {"type": "page"}):
        b = body({**kind, "userId": "u", "properties": {"campaignId": value, "templateId": value}})
        for key in ("campaignId", "templateId"):
            assert b.get(key, "absent") == expected


@pytest.mark.parametrize("order_id,expected", [(42, "42"), ("A-1", "A-1"), (0, "0"), (True, "true"), (False, "false"),
                                               (1.5, "1.5"), ([1, 2], "1,2"), ([], "absent"), ({"x": 1}, "[object Object]")])
def test_purchase_id_is_to_string_of_order_id(order_id, expected):
    for key in ("order_id", "orderId", "event_id"):
        assert body(purchase({"total": 1, "products": [], key: order_id})).get("id", "absent") == expected


@pytest.mark.parametrize("properties,expected", [
    ({"order_id": "o1", "orderId": "o2", "event_id": "e"}, "o1"),  # RudderStack's e-commerce spec field first
    ({"order_id": "", "orderId": "o2", "event_id": "e"}, "o2"),  # "", null and NaN fall through to the next
    ({"order_id": None, "orderId": 0, "event_id": "e"}, "0"),  # 0 and false do not
    ({"event_id": 7}, "7"),
    ({}, "absent"),
])
def test_purchase_id_takes_order_id_then_order_id_camel_case_then_event_id(properties, expected):
    assert body(purchase({"total": 1, "products": [], **properties})).get("id", "absent") == expected


@pytest.mark.parametrize("event_id,expected", [(0, "0"), (False, "false"), ("", "absent"), (None, "absent"), (9, "9")])
def test_track_event_id(event_id, expected):
    assert body({"type": "track", "event": "e", "userId": "u", "properties": {"event_id": event_id}}).get(
        "id", "absent") == expected


# ---------------------------------------------------------------- traits and identity

def test_null_and_empty_traits():
    assert body({"type": "identify", "userId": "u", "traits": None, "context": {"traits": {"a": 1}}})["dataFields"] == {"a": 1}
    # an empty object is truthy in JavaScript: it wins over context.traits
    assert body({"type": "identify", "userId": "u", "traits": {}, "context": {"traits": {"a": 1}}})["dataFields"] == {}
    assert body({"type": "identify", "userId": "u", "traits": {"a": None}})["dataFields"] == {"a": None}


def test_nested_traits_are_sent_whole():
    traits = {"address": {"city": "Lyon", "geo": {"lat": 45.7}}, "tags": ["a", "b"]}
    assert body({"type": "identify", "userId": "u", "traits": traits})["dataFields"] == traits


def test_identity_fallbacks():
    assert body({"type": "identify", "traits": {"id": "t-id"}})["userId"] == "t-id"
    assert body({"type": "identify", "userId": "", "anonymousId": "anon"})["userId"] == "anon"
    # 0 is picked as the userId (constructPayload keeps 0) and then fails the identity check (!0 is true)
    assert error({"type": "identify", "userId": 0}) == ("userId or email is mandatory for this request", 400)
    assert error({"type": "identify", "userId": None, "traits": {"email": ""}}) == (
        "userId or email is mandatory for this request", 400)


def test_track_email_comes_from_properties_first():
    assert body({"type": "track", "event": "e", "properties": {"email": "p@x.co"},
                 "context": {"traits": {"email": "c@x.co"}}})["email"] == "p@x.co"


def test_the_callers_event_is_not_changed():
    message = {"type": "track", "event": "Order Completed", "userId": "u",
               "properties": {"total": "5", "products": [{"product_id": 1, "name": "n", "price": "5", "quantity": "1"}]}}
    snapshot = repr(message)
    map_event(message, SETTINGS)
    assert repr(message) == snapshot


# ---------------------------------------------------------------- timestamps

@pytest.mark.parametrize("ts,expected", [
    ("2020-08-28T16:26:06.468Z", 1598631966468), ("2020-08-28T16:26:06Z", 1598631966000),
    ("2020-08-28", 1598572800000), ("2020-08-28T18:26:06.468+02:00", 1598631966468),
    ("2020-08-28 16:26:06", 1598631966000), ("not a date", None), ("2020-13-01", None),
    (1598631966468, 1598631966468), (None, None),
])
def test_created_at(ts, expected):
    message = {"type": "page", "name": "p", "userId": "u"}
    if ts is not None:
        message["originalTimestamp"] = ts
    assert body(message)["createdAt"] == expected


@pytest.mark.parametrize("kind", [{"type": "track", "event": "e"}, {"type": "page", "name": "Home"},
                                  {"type": "track", "event": "Order Completed",
                                   "properties": {"total": 1, "products": []}}])
def test_created_at_is_the_first_of_traits_context_traits_timestamp_and_original_timestamp(kind):
    stamps = {"timestamp": "2024-06-01T12:00:00.000Z", "originalTimestamp": "2024-06-01T11:00:00.000Z"}
    assert body({**kind, "userId": "u", **stamps})["createdAt"] == 1717243200000
    assert body({**kind, "userId": "u", "originalTimestamp": stamps["originalTimestamp"]})["createdAt"] == 1717239600000
    with_trait = {**kind, "userId": "u", **stamps, "context": {"traits": {"createdAt": "2020-01-01T00:00:00Z"}}}
    assert body(with_trait)["createdAt"] == 1577836800000


def test_a_reverse_etl_track_takes_its_timestamp_from_properties_first():
    message = {"type": "track", "event": "e", "userId": "u", "channel": "sources",
               "timestamp": "2024-06-01T12:00:00.000Z", "properties": {"timestamp": "2020-01-01T00:00:00Z"}}
    assert body(message)["createdAt"] == 1577836800000
    assert body({**message, "channel": "web"})["createdAt"] == 1717243200000


def test_dates_past_the_end_of_a_month_roll_over_as_in_v8():
    assert body({"type": "track", "event": "e", "userId": "u", "timestamp": "2024-02-30T00:00:00Z"})["createdAt"] \
        == 1709251200000  # 2024-03-01


def test_a_key_holding_the_whole_dotted_path_wins_as_in_get_value():
    message = {"type": "identify", "userId": "u", "context": {"traits": {"email": "nested@example.com"}},
               "context.traits": {"email": "dotted@example.com"}}
    assert body(message)["dataFields"] == {"email": "dotted@example.com"}


def test_missing_timestamps_send_created_at_null():
    b = body({"type": "track", "event": "e", "userId": "u"})
    assert "createdAt" in b and b["createdAt"] is None


# ---------------------------------------------------------------- unicode

def test_unicode_passes_through():
    b = body({"type": "page", "name": "注文 ☕", "userId": "ユーザー", "properties": {"email": "josé@exämple.com"}})
    assert b["eventName"] == "注文 ☕ page" and b["userId"] == "ユーザー" and b["email"] == "josé@exämple.com"


# ---------------------------------------------------------------- where RudderStack's own code fails

def test_non_string_type_fails_like_rudderstack():
    assert error({"type": 5}) == ("message.type.toLowerCase is not a function", 500)


def test_non_object_event_is_refused_clearly():
    assert error(["not", "an", "event"]) == ("an event must be a JSON object, not an array", 400)


def test_retl_external_id_may_be_one_object_instead_of_a_list():
    # getDestinationExternalIDInfoForRetl reads a non-empty object as a list of one
    message = {"type": "identify", "traits": {"colour": "red"},
               "context": {"mappedToDestination": "true", "externalId": {"type": "ITERABLE-hats", "id": "h1"}}}
    (request,) = map_event(message, SETTINGS)
    assert request.endpoint == "catalogs/hats/items"
    assert request.json == {"update": {"colour": "red"}, "catalogId": "h1"}


def test_retl_external_ids_that_are_not_objects_or_not_iterable_are_skipped():
    message = {"type": "identify", "traits": {"a": 1},
               "context": {"mappedToDestination": True,
                           "externalId": [None, "x", {"type": 5}, {"type": "ITERABLE-shoes", "id": 7}, {"id": 2}]}}
    (request,) = map_event(message, SETTINGS)
    assert request.endpoint == "catalogs/shoes/items" and request.json["catalogId"] == 7
    no_iterable_entry = {**message, "context": {"mappedToDestination": True, "externalId": [{"type": "X-y", "id": 1}]}}
    assert map_event(no_iterable_entry, SETTINGS)[0].endpoint == "catalogs/null/items"


def test_retl_users_set_the_external_id_into_traits_with_set_value_and_leave_the_event_unchanged():
    traits = {"email": "old@example.com", "a": {"keep": 1}}
    message = {"type": "identify", "userId": "u", "traits": traits,
               "context": {"mappedToDestination": True,
                           "externalId": [{"type": "ITERABLE-users", "id": "new@example.com", "identifierType": "email"}]}}
    assert body(message)["email"] == "new@example.com"
    nested = {**message, "context": {**message["context"], "externalId": [
        {"type": "ITERABLE-users", "id": 5, "identifierType": "a.b"}]}}
    assert body(nested)["dataFields"]["a"] == {"keep": 1, "b": 5}
    without_id = {**message, "context": {**message["context"], "externalId": [
        {"type": "ITERABLE-users", "identifierType": "email"}]}}
    assert "email" not in body(without_id)["dataFields"]  # setting undefined deletes the key
    assert traits == {"email": "old@example.com", "a": {"keep": 1}}


@pytest.mark.parametrize("token,received", [
    (5, "type number (5)"), (True, "type boolean (true)"), ({"t": 1}, "an instance of Object"),
    (["t"], "an instance of Array")])
def test_a_push_token_that_is_not_a_string_fails_where_rudderstack_hashes_it_for_its_log(token, received):
    for context in ({"device": {"token": token}}, {"os": {"token": token}}):
        message = {"type": "identify", "userId": "u", "context": context}
        text, status = error(message)
        assert status == 500 and text.endswith(f"or DataView. Received {received}")
