"""What live Iterable was recorded answering (mtchavez/iterable-api-client's VCR cassettes, 2017-2022; docs/mock.md
"Recorded answers"), pinned with the project's own fixtures so that they hold on a fresh clone. The replay of
the recordings themselves is test_recorded_public.py."""
from __future__ import annotations

from iterable_sim.mock import ManualClock, MockIterable

from .conftest import Api

SUCCESS = {"msg": "", "code": "Success", "params": None}


def test_deleting_an_email_the_project_does_not_hold_is_a_success(mock: MockIterable, api: Api) -> None:
    assert api.get("users/nobody@example.com").json() == {}
    deleted = api.delete("users/nobody@example.com")
    assert (deleted.status_code, deleted.json()) == (200, SUCCESS)
    mock.create_user(email="a@example.com")
    assert api.delete("users/a@example.com").json() == SUCCESS and api.get("users/a@example.com").json() == {}
    # by userId an unknown one is still refused (RudderStack's recorded answers)
    assert api.delete("users/byUserId/nobody").json()["code"] == "BadParams"


def test_reading_a_user_by_an_invalid_email_is_a_400(api: Api) -> None:
    for path, params in (("users/foo@", None), ("users/getByEmail", {"email": "000"})):
        answer = api.get(path, params=params)
        assert answer.status_code == 400
        assert answer.json()["code"] == "InvalidEmailAddressError" and answer.json()["msg"].startswith("Invalid email: ")


def test_reading_an_unknown_user_id_is_a_plain_text_400(mock: MockIterable, api: Api) -> None:
    for path, params in (("users/byUserId/42", None), ("users/byUserId", {"userId": "42"})):
        answer = api.get(path, params=params)
        assert (answer.status_code, answer.text) == (400, "No user with that id exists!")
        assert answer.headers["content-type"].startswith("text/plain")
    mock.create_user(email="a@example.com", user_id="42")
    assert api.get("users/byUserId/42").json()["user"]["userId"] == "42"


def test_bulk_updating_no_users_is_a_400(mock: MockIterable, api: Api) -> None:
    answer = api.post("users/bulkUpdate", {"users": []})
    assert (answer.status_code, answer.json()) == (400, {"msg": "Emails invalid: ", "code": "InvalidEmailAddressError",
                                                          "params": None})
    assert mock.users_frame().empty


def test_an_empty_device_token_is_a_500_naming_the_user(mock: MockIterable, api: Api) -> None:
    device = {"token": "", "applicationName": "devAPNS", "platform": "APNS_SANDBOX"}
    answer = api.post("users/registerDeviceToken", {"email": "user@example.com", "device": device})
    assert (answer.status_code, answer.json()) == (500, {"msg": "Unable to register token to user Some(user@example.com)",
                                                          "code": "GenericError", "params": None})
    assert mock.users_frame().empty  # nothing registered, no user made
    mock.create_user(email="b@example.com", user_id="ub")
    by_user_id = api.post("users/registerDeviceToken", {"userId": "ub", "device": device}).json()
    assert by_user_id["msg"] == "Unable to register token to user Some(b@example.com)"
    unknown = api.post("users/registerDeviceToken", {"userId": "nobody", "device": device}).json()
    assert unknown["msg"] == "Unable to register token to user None"


def test_a_purchase_is_answered_with_the_plain_envelope(api: Api) -> None:
    item = {"id": "p1", "name": "Kettle", "price": 24.5, "quantity": 1}
    answer = api.post("commerce/trackPurchase", {"id": "o-1", "user": {"email": "a@example.com"}, "items": [item],
                                                 "total": 24.5})
    assert (answer.status_code, answer.json()) == (200, SUCCESS)


def test_a_null_data_field_leaves_the_profile(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"name": "Ada", "phone": "1"}})
    api.post("users/update", {"email": "a@example.com", "dataFields": {"name": None}})
    fields = api.get("users/a@example.com").json()["user"]["dataFields"]
    assert "name" not in fields and fields["phone"] == "1"


def test_creating_a_catalog_answers_its_url_and_a_taken_name_is_refused(api: Api) -> None:
    created = api.post("catalogs/example-catalog")
    assert created.status_code == 201
    assert created.json()["params"] == {"id": 1, "name": "example-catalog", "url": "/api/catalogs/example-catalog"}
    again = api.post("catalogs/example-catalog")
    assert (again.status_code, again.json()) == (400, {
        "msg": "Unable to create a catalog with name: example-catalog. Make sure the catalog name is unique.",
        "code": "BadParams", "params": None})


def test_catalog_items_are_listed_newest_first_ordered_and_paged(mock: MockIterable, api: Api,
                                                                   clock: ManualClock) -> None:
    mock.create_catalog("c")
    for number in (1, 3, 2):  # written in this order, a second apart
        clock.advance(1)
        mock.add_catalog_items("c", {f"i{number}": {"number": number}})
    mock.add_catalog_items("c", {"none": {"other": True}})  # without the field ordered by

    def listed(**query: str) -> tuple[list[str], dict[str, str]]:
        params = api.get("catalogs/c/items", params=query).json()["params"]
        urls = {k: v for k, v in params.items() if k.endswith("PageUrl")}
        return [item["itemId"] for item in params["catalogItemsWithProperties"]], urls

    assert listed()[0] == ["none", "i2", "i3", "i1"]  # the most recently written first
    assert listed(sortAscending="true")[0] == ["i1", "i3", "i2", "none"]
    assert listed(orderBy="number", sortAscending="false")[0] == ["i3", "i2", "i1", "none"]
    assert listed(orderBy="number", sortAscending="true")[0] == ["i1", "i2", "i3", "none"]
    ids, urls = listed(page="2", pageSize="1", orderBy="number", sortAscending="true")
    assert ids == ["i2"] and urls == {
        "nextPageUrl": "/api/catalogs/c/items?pageSize=1&orderBy=number&sortAscending=true&page=3",
        "previousPageUrl": "/api/catalogs/c/items?pageSize=1&orderBy=number&sortAscending=true&page=1"}
    assert listed(page="4", pageSize="1")[1] == {"previousPageUrl": "/api/catalogs/c/items?pageSize=1&page=3"}
    assert api.get("catalogs/c/items", params={"sortAscending": "maybe"}).json()["code"] == "BadParams"
