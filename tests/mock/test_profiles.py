"""Profile data: merging, mergeNestedObjects, null removal, type locking, created/filtered fields."""
from __future__ import annotations

from typing import Callable

from iterable_sim.mock import MockIterable, MockOptions

from .conftest import Api


def fields(api: Api, email: str = "a@example.com") -> dict:
    return api.user(email)["user"]["dataFields"]


def test_update_merges_and_keeps_missing_fields(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"a": 1, "b": "x"}})
    api.post("users/update", {"email": "a@example.com", "dataFields": {"b": "y"}})
    assert (fields(api)["a"], fields(api)["b"]) == (1, "y")


def test_null_removes_a_field(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"name": "n", "phone": "1"}})
    api.post("users/update", {"email": "a@example.com", "dataFields": {"name": None}})
    assert "name" not in fields(api) and fields(api)["phone"] == "1"


def test_objects_replace_unless_merge_nested_objects(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"mySettings": {"mobile": True}}})
    api.post("users/update", {"email": "a@example.com", "dataFields": {"mySettings": {"email": True}}})
    assert fields(api)["mySettings"] == {"email": True}
    api.post("users/update", {"email": "a@example.com", "mergeNestedObjects": True,
                              "dataFields": {"mySettings": {"mobile": True}}})
    assert fields(api)["mySettings"] == {"email": True, "mobile": True}


def test_bulk_update_per_user_merge_nested(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"s": {"x": 1}}})
    api.post("users/bulkUpdate", {"users": [{"email": "a@example.com", "mergeNestedObjects": True,
                                             "dataFields": {"s": {"y": 2}}}]})
    assert fields(api)["s"] == {"x": 1, "y": 2}


def test_type_locked_by_first_value(mock: MockIterable, api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"signupDate": "2020-08-19T20:50:04.000Z"}})
    assert fields(api)["signupDate"] == "2020-08-19 20:50:04 +00:00"
    r = api.post("users/update", {"email": "b@example.com", "dataFields": {"signupDate": "GGG"}})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "RequestFieldsTypesMismatched"
    assert body["msg"] == (
        "Project 10001: The request does not have the same data types as the data previously submitted. "
        "Field 'signupDate' already exists for type 'user' and has a data type of 'date' but possible types "
        "'string, keyword' in the request.")
    assert body["params"]["validationErrors"]["signupDate"] == {
        "incomingTypes": ["string", "keyword"], "expectedType": "date", "_type": "UnexpectedType",
        "offendingValue": "GGG", "category": "user"}
    assert api.user("b@example.com") == {}  # nothing was written


def test_type_rules(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"n": 1, "d": 1.5, "s": "x", "o": {"k": 1}}})
    ok = {"n": 2, "d": 2, "s": "2020-01-01"}  # a long fits a double, a date string fits a string
    assert api.post("users/update", {"email": "a@example.com", "dataFields": ok}).status_code == 200
    for bad in ({"n": 1.5}, {"n": "1"}, {"s": 1}, {"o": "x"}, {"o": {"k": "one"}}, {"n": True}):
        r = api.post("users/update", {"email": "a@example.com", "dataFields": bad})
        assert r.status_code == 400 and r.json()["code"] == "RequestFieldsTypesMismatched", bad
    fields_ = api.get("users/getFields").json()["fields"]
    assert (fields_["n"], fields_["d"], fields_["s"], fields_["o"], fields_["o.k"]) == (
        "long", "double", "string", "object", "long")


def test_a_mismatch_in_one_bulk_user_fails_the_whole_request(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"age": 30}})
    r = api.post("users/bulkUpdate", {"users": [{"email": "b@example.com", "dataFields": {"age": 31}},
                                                 {"email": "c@example.com", "dataFields": {"age": "old"}}]})
    assert r.status_code == 400 and r.json()["code"] == "RequestFieldsTypesMismatched"
    assert api.user("b@example.com") == {}
    # two users of one request disagreeing on a new field
    r = api.post("users/bulkUpdate", {"users": [{"email": "b@example.com", "dataFields": {"z": 1}},
                                                 {"email": "c@example.com", "dataFields": {"z": "x"}}]})
    assert r.status_code == 400


def test_bulk_update_response_and_created_fields(api: Api) -> None:
    r = api.post("users/bulkUpdate", {"users": [
        {"email": "a@example.com", "dataFields": {"city": "Bangalore"}},
        {"email": "shrouti", "dataFields": {"city": "Pune"}},
        {"userId": "bad id "},
    ]})
    body = r.json()
    assert r.status_code == 200
    assert (body["successCount"], body["failCount"]) == (1, 2)
    assert body["invalidEmails"] == ["shrouti"] and body["failedUpdates"]["invalidEmails"] == ["shrouti"]
    assert body["failedUpdates"]["invalidUserIds"] == ["bad id "]
    assert body["createdFields"] == ["city"]
    assert set(body["failedUpdates"]) == {
        "invalidEmails", "invalidUserIds", "notFoundEmails", "notFoundUserIds", "invalidDataEmails",
        "invalidDataUserIds", "conflictEmails", "conflictUserIds", "forgottenEmails", "forgottenUserIds"}
    assert body["noOpEmails"] == [] and body["noOpUserIds"] == []


def test_update_only_does_not_create(api: Api) -> None:
    body = api.post("users/bulkUpdate", {"updateOnly": True, "users": [{"email": "new@example.com"}]}).json()
    assert body["failCount"] == 1 and body["failedUpdates"]["notFoundEmails"] == ["new@example.com"]


def test_create_new_fields_false_filters_unknown_fields(api: Api) -> None:
    api.post("users/update", {"email": "a@example.com", "dataFields": {"known": 1}})
    body = api.post("users/bulkUpdate", {"createNewFields": False, "users": [
        {"email": "a@example.com", "dataFields": {"known": 2, "unknown": 3}}]}).json()
    assert body["filteredOutFields"] == ["unknown"]
    assert fields(api)["known"] == 2 and "unknown" not in fields(api)


def test_project_setting_drops_unknown_fields(make_mock: Callable[..., MockIterable],
                                              connect: Callable[[MockIterable], Api]) -> None:
    api = connect(make_mock(options=MockOptions(create_new_fields=False)))
    api.post("users/update", {"email": "a@example.com", "dataFields": {"x": 1}})
    assert "x" not in fields(api)
    api.post("users/update", {"email": "a@example.com", "createNewFields": True, "dataFields": {"x": 1}})
    assert fields(api)["x"] == 1


def test_profile_shape(api: Api) -> None:
    api.post("users/update", {"email": "A@Example.com", "userId": "u1", "dataFields": {"plan": "pro"}})
    user = api.user("a@example.com")["user"]
    assert user["email"] == "a@example.com"  # emails are case-insensitive
    data = user["dataFields"]
    assert data["email"] == "a@example.com" and data["userId"] == "u1"
    assert data["signupSource"] == "API" and data["signupDate"].endswith("+00:00")
