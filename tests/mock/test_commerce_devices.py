"""Commerce (purchases empty the cart, updateCart replaces it), devices and browser tokens,
updateEmail, and catalogs."""
from __future__ import annotations

from typing import Any, Callable

from iterable_sim.mock import MockIterable

from .conftest import Api

ITEM = {"id": "p1", "name": "Shoe", "price": 49.5, "quantity": 1}


def test_update_cart_replaces_items_and_logs_an_event(mock: MockIterable, api: Api) -> None:
    api.post("commerce/updateCart", {"user": {"email": "a@example.com"}, "items": [ITEM, {**ITEM, "id": "p2"}]})
    api.post("commerce/updateCart", {"user": {"email": "a@example.com"}, "items": [{**ITEM, "id": "p3"}]})
    assert list(mock.carts_frame()["id"]) == ["p3"]
    assert [i["id"] for i in api.user("a@example.com")["user"]["dataFields"]["shoppingCartItems"]] == ["p3"]
    events = mock.events_frame()
    assert list(events["eventName"]) == ["updateCart", "updateCart"]
    assert events["dataFields"][1] == {"updatedShoppingCartItems": [{**ITEM, "id": "p3"}]}
    api.post("commerce/updateCart", {"user": {"email": "a@example.com"}, "items": []})
    assert mock.carts_frame().empty


def test_purchase_empties_the_cart_and_upserts_the_user(mock: MockIterable, api: Api) -> None:
    api.post("commerce/updateCart", {"user": {"email": "a@example.com"}, "items": [ITEM]})
    r = api.post("commerce/trackPurchase", {"id": "order-1", "user": {"email": "a@example.com",
                                                                       "dataFields": {"vip": True}},
                                            "items": [ITEM], "total": 49.5, "createdAt": 1700000000})
    assert (r.status_code, r.json()) == (200, {"msg": "", "code": "Success", "params": None})  # as recorded
    assert mock.carts_frame().empty
    purchases = mock.purchases_frame()
    assert list(purchases["id"]) == ["order-1"] and purchases["total"][0] == 49.5
    assert api.user("a@example.com")["user"]["dataFields"]["vip"] is True
    # the same id again updates the purchase
    api.post("commerce/trackPurchase", {"id": "order-1", "user": {"email": "a@example.com"}, "items": [ITEM],
                                        "total": 99.0})
    assert list(mock.purchases_frame()["total"]) == [99.0]


def test_re_tracking_a_purchase_id_updates_it_by_the_rule_of_an_events_id(mock: MockIterable, api: Api) -> None:
    """TrackPurchaseRequest.id and TrackRequest.id say the same ("... will be updated"): one rule for
    both (docs/mock.md). What the new call leaves out keeps its stored value; items and total are new."""
    api.post("commerce/trackPurchase", {"id": "o1", "user": {"email": "a@example.com"}, "items": [ITEM], "total": 49.5,
                                        "createdAt": 1700000000000, "campaignId": 5, "templateId": 7,
                                        "dataFields": {"coupon": "A", "channel": "web"}})
    api.post("commerce/trackPurchase", {"id": "o1", "user": {"email": "a@example.com"}, "items": [{**ITEM, "id": "p2"}],
                                        "total": 10.0, "campaignId": None, "dataFields": {"coupon": "B"}})
    [purchase] = mock.state()["US"]["purchases"]
    assert (purchase["total"], [i["id"] for i in purchase["items"]]) == (10.0, ["p2"])
    assert (purchase["createdAt"], purchase["campaignId"], purchase["templateId"]) == (1700000000000, 5, 7)
    assert purchase["dataFields"] == {"coupon": "B", "channel": "web"}


def test_purchase_creates_the_user_and_honours_prefer_user_id(make_mock: Callable[..., MockIterable],
                                                              connect: Callable[[MockIterable], Api]) -> None:
    api = connect(make_mock("email"))
    r = api.post("commerce/trackPurchase", {"user": {"userId": "u9", "preferUserId": True}, "items": [ITEM],
                                            "total": 1.0})
    assert r.status_code == 200
    assert api.user(user_id="u9")["user"]["email"].endswith("@placeholder.email")
    # iOS SDK style: preferUserId at the top level
    r = api.post("commerce/updateCart", {"user": {"userId": "u10"}, "preferUserId": True, "items": []})
    assert r.status_code == 200


def test_commerce_conflict_is_409(mock: MockIterable, api: Api) -> None:
    mock.create_user(email="a@example.com", user_id="ua")
    mock.create_user(email="b@example.com", user_id="ub")
    r = api.post("commerce/trackPurchase", {"user": {"email": "a@example.com", "userId": "ub"}, "items": [ITEM],
                                            "total": 1.0})
    assert r.status_code == 409
    assert mock.purchases_frame().empty


DEVICE = {"token": "tok-1", "platform": "APNS", "applicationName": "com.example.app"}


def test_register_device_token(mock: MockIterable, api: Api) -> None:
    r = api.post("users/registerDeviceToken", {"email": "a@example.com", "device": {**DEVICE, "dataFields": {"v": 1}}})
    assert r.json() == {"msg": "", "code": "Success", "params": None}
    api.post("users/registerDeviceToken", {"email": "a@example.com", "device": {**DEVICE, "platform": "APNS_SANDBOX",
                                                                                "dataFields": {"w": 2}}})
    api.post("users/registerDeviceToken", {"email": "a@example.com", "device": {**DEVICE, "token": "tok-2",
                                                                                "platform": "GCM"}})
    devices = mock.devices_frame()
    assert list(devices["platform"]) == ["APNS_SANDBOX", "GCM"]
    assert devices["dataFields"][0] == {"v": 1, "w": 2}
    assert len(api.user("a@example.com")["user"]["dataFields"]["devices"]) == 2


def test_a_device_token_moves_to_the_user_who_registers_it_last(mock: MockIterable, api: Api) -> None:
    api.post("users/registerDeviceToken", {"email": "a@example.com", "device": DEVICE})
    api.post("users/registerDeviceToken", {"email": "b@example.com", "device": DEVICE})
    assert list(mock.devices_frame()["email"]) == ["b@example.com"]


def test_500_devices_per_user(mock: MockIterable, api: Api) -> None:
    for i in range(500):
        assert api.post("users/registerDeviceToken", {"email": "a@example.com",
                                                      "device": {**DEVICE, "token": f"t{i}"}}).status_code == 200
    r = api.post("users/registerDeviceToken", {"email": "a@example.com", "device": {**DEVICE, "token": "t500"}})
    assert r.status_code == 400
    assert api.post("users/registerDeviceToken", {"email": "a@example.com",
                                                  "device": {**DEVICE, "token": "t1"}}).status_code == 200


def test_browser_tokens(mock: MockIterable, api: Api) -> None:
    for token in ("b1", "b2", "b1"):
        assert api.post("users/registerBrowserToken", {"email": "a@example.com", "browserToken": token}).status_code \
            == 200
    assert api.user("a@example.com")["user"]["dataFields"]["browserTokens"] == ["b1", "b2"]
    assert list(mock.devices_frame()["platform"]) == ["browser", "browser"]
    for i in range(498):
        api.post("users/registerBrowserToken", {"email": "a@example.com", "browserToken": f"x{i}"})
    r = api.post("users/registerBrowserToken", {"email": "a@example.com", "browserToken": "one-too-many"})
    assert r.status_code == 400


def test_update_email_moves_the_profile(mock: MockIterable, api: Api) -> None:
    api.post("users/update", {"email": "old@example.com", "userId": "u1", "dataFields": {"x": 1}})
    r = api.post("users/updateEmail", {"currentEmail": "old@example.com", "currentUserId": "u1",
                                       "newEmail": "new@example.com"})
    assert r.json() == {"msg": "", "code": "Success", "params": None}
    assert api.user("old@example.com") == {}
    assert api.user("new@example.com")["user"]["dataFields"]["x"] == 1


def test_update_email_errors(mock: MockIterable, api: Api) -> None:
    r = api.post("users/updateEmail", {"currentEmail": "sayan", "currentUserId": "u", "newEmail": "s@gmail.com"})
    assert r.status_code == 400
    assert r.json() == {"msg": "Invalid currentEmail sayan", "code": "InvalidEmailAddressError", "params": None}
    r = api.post("users/updateEmail", {"currentEmail": "ghost@example.com", "newEmail": "n@example.com"})
    assert r.json() == {"msg": "Cannot change user Some(ghost@example.com) to n@example.com. User does not exist",
                        "code": "BadParams", "params": None}
    mock.create_user(email="a@example.com")
    mock.create_user(email="b@example.com")
    r = api.post("users/updateEmail", {"currentEmail": "a@example.com", "newEmail": "b@example.com"})
    assert r.status_code == 400 and r.json()["code"] == "EmailAlreadyExists"
    api.post("users/forget", {"email": "gone@example.com"})
    r = api.post("users/updateEmail", {"currentEmail": "a@example.com", "newEmail": "gone@example.com"})
    assert r.status_code == 409 and r.json()["code"] == "ForgottenUserError"
    r = api.post("users/updateEmail", {"currentUserId": "nobody", "newEmail": "c@example.com"})
    assert r.status_code == 400


def test_catalogs(mock: MockIterable, api: Api) -> None:
    r = api.post("catalogs/rudder-test/items", {"documents": {"A": {"f": 1}}, "replaceUploadedFieldsOnly": True})
    assert r.status_code == 404
    assert r.json() == {"error": "NotFound", "message": "Catalog not found: rudder-test",
                        "code": "error.catalogs.notFound", "data": {"args": ["rudder-test"]}}
    assert api.post("catalogs/rudder-test").status_code == 201
    assert api.post("catalogs/rudder-test").status_code == 400
    assert api.post("catalogs/bad.name").status_code == 400
    r = api.post("catalogs/Rudder-Test/items", {"documents": {"A": {"f": 1, "g": 2}, "B": {"f": 3}},
                                                "replaceUploadedFieldsOnly": True})
    assert r.json()["msg"] == "Request to bulk-upload documents into Rudder-Test processed successfully"
    api.post("catalogs/rudder-test/items", {"documents": {"A": {"f": 10}}, "replaceUploadedFieldsOnly": True})
    api.post("catalogs/rudder-test/items", {"documents": {"B": {"h": 1}}, "replaceUploadedFieldsOnly": False})
    items = mock.catalog_items_frame().set_index("itemId")["value"].to_dict()
    assert items == {"A": {"f": 10, "g": 2}, "B": {"h": 1}}
    listed = api.get("catalogs/rudder-test/items", params={"page": "1", "pageSize": "1"}).json()["params"]
    # the item written last first (B, in the same clock instant as A): Iterable lists the most recent first
    assert listed["totalItemsCount"] == 2 and [i["itemId"] for i in listed["catalogItemsWithProperties"]] == ["B"]
    assert api.get("catalogs/nope/items").status_code == 404
    assert api.get("catalogs/rudder-test/items", params={"page": "zero"}).status_code == 400


def test_catalog_item_rules(mock: MockIterable, api: Api) -> None:
    mock.create_catalog("c")
    too_many = {"documents": {f"i{n}": {} for n in range(1001)}, "replaceUploadedFieldsOnly": False}
    assert api.post("catalogs/c/items", too_many).json()["code"] == "BatchTooLarge"
    documents: dict[str, Any]
    for documents in ({"bad id": {}}, {"ok": {"a.b": 1}}, {"big": {"x": "y" * 31_000}}):
        r = api.post("catalogs/c/items", {"documents": documents, "replaceUploadedFieldsOnly": False})
        assert r.status_code == 400, documents
    r = api.post("catalogs/c/items", {"documents": {"ok": "not an object"}, "replaceUploadedFieldsOnly": False})
    assert r.json()["params"] == {"obj.documents.ok": "Object value expected"}
    assert mock.catalog_items_frame().empty
