"""map_event against RudderStack's behaviour, one case per rule (fixtures written here, not read from elsewhere)."""
import pytest

from iterable_sim import MappingError, Settings, map_event

US = "https://api.iterable.com/api/"
EU = "https://api.eu.iterable.com/api/"
TS = "2021-03-04T05:06:07.089Z"
TS_MS = 1614834367089


def settings(**config):
    return Settings.from_rudder({"apiKey": "key-1", "trackAllPages": True, **config})


def one(message, **config):
    requests = map_event(message, settings(**config))
    assert len(requests) == 1
    return requests[0]


def test_identify_maps_traits_to_users_update():
    r = one({"type": "identify", "userId": "u1", "anonymousId": "a1", "originalTimestamp": TS,
             "traits": {"email": "jo@example.com", "plan": "pro"}}, preferUserId=False)
    assert (r.method, r.url) == ("POST", US + "users/update")
    assert dict(r.headers) == {"Content-Type": "application/json", "api_key": "key-1"}
    assert r.json == {"email": "jo@example.com", "userId": "u1", "dataFields": {"email": "jo@example.com", "plan": "pro"},
                      "preferUserId": False, "mergeNestedObjects": True}


def test_identify_falls_back_to_context_traits_and_anonymous_id():
    r = one({"type": "identify", "anonymousId": "anon-9", "context": {"traits": {"email": "a@b.co"}}})
    assert r.json["userId"] == "anon-9" and r.json["dataFields"] == {"email": "a@b.co"}


def test_identify_without_identity_is_refused():
    with pytest.raises(MappingError) as err:
        map_event({"type": "identify", "traits": {"plan": "x"}}, settings())
    assert str(err.value) == "userId or email is mandatory for this request" and err.value.status == 400


def test_device_token_registration_uses_the_device_key():
    requests = map_event({"type": "identify", "userId": "u1", "context": {
        "traits": {"email": "a@b.co"}, "device": {"token": "tok", "type": "iOS", "name": "com.app"}}},
        settings(registerDeviceOrBrowserApiKey="device-key"))
    assert [r.endpoint for r in requests] == ["users/update", "users/registerDeviceToken"]
    device = requests[1]
    assert device.headers["api_key"] == "device-key"
    assert device.json == {"email": "a@b.co", "userId": "u1", "preferUserId": True,
                           "device": {"token": "tok", "applicationName": "com.app", "platform": "APNS"}}


def test_android_token_is_gcm_and_browser_token_registers_browser():
    key = {"registerDeviceOrBrowserApiKey": "dk"}
    android = map_event({"type": "identify", "userId": "u", "context": {"device": {"token": "t", "type": "android"}}},
                        settings(**key))
    assert android[1].json["device"]["platform"] == "GCM"
    browser = map_event({"type": "identify", "userId": "u", "context": {"os": {"token": "bt"}}}, settings(**key))
    assert browser[1].endpoint == "users/registerBrowserToken"
    assert browser[1].json == {"browserToken": "bt", "userId": "u"}


def test_no_token_registration_without_the_device_key_or_for_odd_casing():
    message = {"type": "identify", "userId": "u", "context": {"device": {"token": "t", "type": "ios"}}}
    assert len(map_event(message, settings())) == 1
    # RudderStack compares message.type === 'identify' strictly here
    assert len(map_event({**message, "type": "Identify"}, settings(registerDeviceOrBrowserApiKey="dk"))) == 1


def test_track_event():
    r = one({"type": "track", "event": "Signed Up", "userId": "u1", "originalTimestamp": TS,
             "properties": {"plan": "pro", "campaignId": "12", "templateId": "0", "event_id": 77},
             "context": {"traits": {"email": "a@b.co"}}})
    assert r.url == US + "events/track"
    assert r.json == {"email": "a@b.co", "dataFields": {"plan": "pro", "campaignId": "12", "templateId": "0",
                      "event_id": 77}, "userId": "u1", "id": "77", "eventName": "Signed Up",
                      "createdAt": TS_MS, "campaignId": 12, "templateId": 0}


def test_track_created_at_prefers_traits_then_timestamp():
    r = one({"type": "track", "event": "x", "userId": "u", "timestamp": "2020-01-01T00:00:00.000Z",
             "originalTimestamp": TS})
    assert r.json["createdAt"] == 1577836800000


@pytest.mark.parametrize("kind,name", [("page", "ApplicationLoaded page"), ("screen", "ApplicationLoaded screen")])
def test_page_and_screen_names(kind, name):
    r = one({"type": kind, "name": "ApplicationLoaded", "userId": "u", "originalTimestamp": TS})
    assert r.json["eventName"] == name and r.json["createdAt"] == TS_MS


def test_documented_application_home_page_is_lower_case_page():
    r = one({"type": "page", "name": "Application Home", "userId": "u"})
    assert r.json["eventName"] == "Application Home page"  # the docs say "Application Home Page"


@pytest.mark.parametrize("kind,name", [("page", "Loaded a Page"), ("screen", "Loaded a Screen")])
def test_map_to_single_event(kind, name):
    assert one({"type": kind, "name": "X", "userId": "u"}, mapToSingleEvent=True).json["eventName"] == name


def test_unnamed_page_is_sent_as_undefined_page():
    assert one({"type": "page", "userId": "u"}).json["eventName"] == "undefined page"


@pytest.mark.parametrize("config,message,sent", [
    ({"trackAllPages": False, "trackNamedPages": True}, {"name": "Home"}, True),
    ({"trackAllPages": False, "trackNamedPages": True}, {"properties": {"name": "Home"}}, True),
    ({"trackAllPages": False, "trackNamedPages": True}, {"category": "Docs"}, False),
    ({"trackAllPages": False, "trackCategorisedPages": True}, {"category": "Docs"}, True),
    ({"trackAllPages": False, "trackCategorisedPages": True}, {"properties": {"category": "Docs"}}, True),
    ({"trackAllPages": False, "trackCategorisedPages": True}, {"name": "Home"}, False),
    ({"trackAllPages": False}, {"name": "Home", "category": "Docs"}, False),
])
def test_page_settings_decide_which_pages_are_sent(config, message, sent):
    event = {"type": "page", "userId": "u", **message}
    if sent:
        assert one(event, **config).endpoint == "events/track"
    else:
        with pytest.raises(MappingError, match="^Invalid page call$"):
            map_event(event, settings(**config))


def test_purchase():
    r = one({"type": "track", "event": "Order Completed", "userId": "u", "originalTimestamp": TS,
             "context": {"traits": {"email": "a@b.co"}},
             "properties": {"orderId": 42, "total": "20.5", "products": [
                 {"product_id": "p1", "name": "Mat", "price": "10.25", "quantity": "2", "category": "A,B",
                  "sku": "s1", "image_url": "i", "url": "u"}]}})
    assert r.url == US + "commerce/trackPurchase"
    body = r.json
    assert body["id"] == "42" and body["total"] == 20.5 and body["createdAt"] == TS_MS
    assert body["user"] == {"email": "a@b.co", "dataFields": {"email": "a@b.co"}, "userId": "u",
                            "preferUserId": True, "mergeNestedObjects": True}
    assert body["items"] == [{"id": "p1", "sku": "s1", "name": "Mat", "categories": ["A", "B"], "price": 10.25,
                              "quantity": 2, "imageUrl": "i", "url": "u"}]


def test_purchase_requires_total():
    with pytest.raises(MappingError, match='^Missing required value from "properties.total"$'):
        map_event({"type": "track", "event": "Order Completed", "userId": "u",
                   "properties": {"products": [{"product_id": 1, "name": "n", "price": 1, "quantity": 1}]}},
                  settings())


def test_cart_events_and_product_from_properties():
    r = one({"type": "track", "event": "Product Removed", "userId": "u",
             "properties": {"product_id": 9, "name": "Watch", "price": 249, "quantity": 1}})
    assert r.url == US + "commerce/updateCart"
    assert r.json["items"] == [{"id": 9, "name": "Watch", "price": 249, "quantity": 1}]
    assert set(r.json) == {"user", "items"}


def test_alias():
    r = one({"type": "alias", "userId": "new@x.co", "previousId": "old@x.co"}, dataCenter="EUDC")
    assert r.url == EU + "users/updateEmail"
    assert r.json == {"currentEmail": "old@x.co", "newEmail": "new@x.co"}
    with pytest.raises(MappingError, match='^Missing required value from "userId"$'):
        map_event({"type": "alias", "previousId": "old@x.co", "anonymousId": "a"}, settings())


@pytest.mark.parametrize("message,error", [
    ({"event": "x"}, "Event type is required"),
    ({"type": ""}, "Event type is required"),
    ({"type": "group", "userId": "u"}, "Message type group not supported"),
    ({"type": "GROUP", "userId": "u"}, "Message type group not supported"),
])
def test_errors(message, error):
    with pytest.raises(MappingError) as err:
        map_event(message, settings())
    assert str(err.value) == error and err.value.status == 400


def test_retl_user_identify_puts_the_external_id_into_traits():
    message = {"type": "identify", "userId": "u1", "traits": {"plan": "x"},
               "context": {"mappedToDestination": "true",
                           "externalId": [{"id": "a@b.co", "identifierType": "email", "type": "ITERABLE-users"}]}}
    r = one(message)
    assert r.json["email"] == "a@b.co" and r.json["dataFields"] == {"plan": "x", "email": "a@b.co"}
    assert message["traits"] == {"plan": "x"}, "the caller's event must not change"


def test_retl_catalog_identify():
    r = one({"type": "identify", "traits": {"name": "Shoe"}, "context": {
        "mappedToDestination": True, "externalId": [{"id": "sku-1", "identifierType": "id", "type": "ITERABLE-shoes"}]}})
    assert r.url == US + "catalogs/shoes/items"
    assert r.json == {"update": {"name": "Shoe"}, "catalogId": "sku-1"}


def test_eu_host_for_every_endpoint():
    for message in ({"type": "identify", "userId": "u"}, {"type": "page", "userId": "u"},
                    {"type": "track", "event": "e", "userId": "u"}):
        assert one(message, dataCenter="EUDC").url.startswith(EU)
