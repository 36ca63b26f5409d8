"""The endpoints as HTTP sees them: read a request, call the backend, shape Iterable's answer.

Each handler takes a `HandlerCall` whose body has already passed its schema and returns (status, JSON
body); failures come from the backend as `ApiError`s. Nothing here changes state itself: that is
backend.py's, which MockIterable's Python set-up calls share.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlencode

import orjson

from iterable_sim.mock.backend import Backend, BulkResult, Device, TrackedEvent, TrackedPurchase, UserUpdate, commerce_user
from iterable_sim.mock.errors import bad_params, envelope, invalid_email, no_user_with_id
from iterable_sim.mock.validation import is_valid_email
from iterable_sim.mock.fields import format_timestamp
from iterable_sim.mock.state import Catalog, Project, User

Result = tuple[int, Any]

SYSTEM_USER_FIELDS = {"email": "string", "userId": "string", "signupDate": "date", "signupSource": "string",
                      "profileUpdatedAt": "date", "devices": "nested", "browserTokens": "string",
                      "shoppingCartItems": "nested"}


@dataclass(slots=True)
class HandlerCall:
    """A request as a handler receives it: the project's backend, the parsed body, the URL's path
    parameters and its query."""

    backend: Backend
    body: Any = None
    path_params: tuple[str, ...] = ()
    query: dict[str, str] = field(default_factory=dict)


def _bulk_answer(result: BulkResult) -> dict[str, Any]:
    failed = result.lists
    return {"successCount": result.success, "failCount": result.failed,
            "invalidEmails": failed["invalidEmails"], "invalidUserIds": failed["invalidUserIds"]}


# ---- users ---------------------------------------------------------------------------------------

def users_update(call: HandlerCall) -> Result:
    call.backend.upsert_user(UserUpdate.from_json(call.body))
    return 200, envelope()


def users_bulk_update(call: HandlerCall) -> Result:
    body = call.body
    result = call.backend.bulk_upsert_users([UserUpdate.from_json(user) for user in body["users"]],
                                            create_new_fields=body.get("createNewFields"),
                                            update_only=bool(body.get("updateOnly", False)))
    return 200, {**_bulk_answer(result), "filteredOutFields": result.filtered, "createdFields": result.created,
                 "noOpEmails": [], "noOpUserIds": [], "failedUpdates": result.lists}


def users_update_email(call: HandlerCall) -> Result:
    body = call.body
    call.backend.update_email(current_email=body.get("currentEmail"), current_user_id=body.get("currentUserId"),
                              new_email=body["newEmail"])
    return 200, envelope()


def users_register_device_token(call: HandlerCall) -> Result:
    body, device = call.body, call.body["device"]
    call.backend.register_device_token(
        UserUpdate(body.get("email"), body.get("userId"), prefer_user_id=bool(body.get("preferUserId"))),
        Device(device["token"], device["platform"], device["applicationName"], device.get("dataFields")))
    return 200, envelope()


def users_register_browser_token(call: HandlerCall) -> Result:
    body = call.body
    call.backend.register_browser_token(UserUpdate(body.get("email"), body.get("userId")), body["browserToken"])
    return 200, envelope()


def users_forget(call: HandlerCall) -> Result:
    call.backend.forget_user(email=call.body.get("email"), user_id=call.body.get("userId"))
    return 200, envelope()


def user_json(user: User) -> dict[str, Any]:
    """A profile as GET users/... shows it (the value of its `user`)."""
    fields = dict(user.data_fields)
    if user.email:
        fields["email"] = user.email
    if user.user_id:
        fields["userId"] = user.user_id
    fields.setdefault("signupDate", format_timestamp(user.signup_date))  # a client may set it itself
    fields.setdefault("signupSource", "API")
    fields["profileUpdatedAt"] = format_timestamp(user.updated_at)
    if user.devices:
        fields["devices"] = [dict(device, endpointEnabled=True) for device in user.devices.values()]
    if user.browser_tokens:
        fields["browserTokens"] = list(user.browser_tokens)
    if user.cart:
        fields["shoppingCartItems"] = list(user.cart)
    out: dict[str, Any] = {"email": user.email or "", "dataFields": fields}
    if user.user_id:
        out["userId"] = user.user_id
    return out


def user_view(user: User | None) -> dict[str, Any]:
    """The body of GET users/...: `{"user": {...}}`, or `{}` for an unknown user."""
    return {} if user is None else {"user": user_json(user)}


def project_json(project: Project) -> dict[str, Any]:
    """One project's state as plain JSON-able data (`MockIterable.state()`, GET /_mock/state)."""
    def who(uid: int) -> dict[str, Any]:
        user = project.users[uid]
        return {"email": user.email, "userId": user.user_id}

    return {
        "users": [user_json(user) for user in project.users.values()],
        "events": [{"id": e.id, "eventName": e.event_name, "eventType": e.event_type, **who(e.user_uid),
                    "createdAt": e.created_at, "dataFields": e.data_fields, "campaignId": e.campaign_id,
                    "templateId": e.template_id} for e in project.events.values()],
        "purchases": [{"id": x.id, **who(x.user_uid), "total": x.total, "items": x.items, "createdAt": x.created_at,
                       "dataFields": x.data_fields, "campaignId": x.campaign_id, "templateId": x.template_id}
                      for x in project.purchases.values()],
        "catalogs": {c.name: dict(c.items) for c in project.catalogs.values()},
        "userFieldTypes": dict(project.user_field_types),
        "eventFieldTypes": dict(project.event_field_types),
    }


def _by_email(call: HandlerCall, email: str) -> Result:
    """An unknown email is `{}`; an invalid one a 400 (recorded 2017-10-05, Iterable_Users/for_email/not_found)."""
    if not is_valid_email(email):
        raise invalid_email(email)
    return 200, user_view(call.backend.project.user_by_email(email))


def _by_user_id(call: HandlerCall, user_id: str) -> Result:
    user = call.backend.project.user_by_user_id(user_id)
    if user is None:
        raise no_user_with_id()
    return 200, user_view(user)


def users_get_by_email(call: HandlerCall) -> Result:
    return _by_email(call, call.path_params[0])


def users_get_by_user_id(call: HandlerCall) -> Result:
    return _by_user_id(call, call.path_params[0])


def _required_query(call: HandlerCall, name: str) -> str:
    value = call.query.get(name)
    if not value:
        raise bad_params(f"Missing query parameter: {name}")
    return value


def users_get_by_email_query(call: HandlerCall) -> Result:
    """GET users/getByEmail?email=...: the same answer as GET users/{email}."""
    return _by_email(call, _required_query(call, "email"))


def users_get_by_user_id_query(call: HandlerCall) -> Result:
    """GET users/byUserId?userId=...: the same answer as GET users/byUserId/{userId}."""
    return _by_user_id(call, _required_query(call, "userId"))


def users_get_fields(call: HandlerCall) -> Result:
    return 200, {"fields": {**SYSTEM_USER_FIELDS, **call.backend.project.user_field_types}}


def users_delete_by_email(call: HandlerCall) -> Result:
    call.backend.delete_user_by_email(call.path_params[0])
    return 200, envelope()


def users_delete_by_user_id(call: HandlerCall) -> Result:
    user_id = call.path_params[0]
    call.backend.delete_users_by_user_id(user_id)
    return 200, envelope(f"All users associated with {user_id} were successfully deleted")


# ---- events --------------------------------------------------------------------------------------

def events_track(call: HandlerCall) -> Result:
    event = TrackedEvent.from_json(call.body)
    event_id = call.backend.track_event(event)
    if event_id is None:
        return 200, envelope(f"event {event.event_name} is disallowed from tracking.")
    return 200, envelope(f"Event with id: {event_id} tracked.", params={"id": event_id})


def events_track_bulk(call: HandlerCall) -> Result:
    result = call.backend.track_events([TrackedEvent.from_json(event) for event in call.body["events"]])
    return 200, {**_bulk_answer(result), "disallowedEventNames": result.disallowed,
                 "filteredOutFields": result.filtered, "createdFields": result.created,
                 "failedUpdates": result.lists}


# ---- commerce ------------------------------------------------------------------------------------

def commerce_track_purchase(call: HandlerCall) -> Result:
    # The standard envelope, no id (recorded 2017-10-15, Iterable_Commerce/track_purchase/when_successful).
    call.backend.track_purchase(TrackedPurchase.from_json(call.body))
    return 200, envelope()


def commerce_update_cart(call: HandlerCall) -> Result:
    call.backend.update_cart(commerce_user(call.body), call.body["items"])
    return 200, envelope()


# ---- catalogs ------------------------------------------------------------------------------------

def catalogs_create(call: HandlerCall) -> Result:
    catalog = call.backend.create_catalog(call.path_params[0])
    # Iterable's `url` repeats the request's query, api_key included (recorded 2019-06-01); the mock's
    # leaves the query out, so that no key is ever written into a body.
    return 201, envelope(params={"id": catalog.id, "name": catalog.name, "url": f"/api/catalogs/{catalog.name}"})


def catalogs_bulk_items(call: HandlerCall) -> Result:
    name = call.path_params[0]
    call.backend.upsert_catalog_items(name, call.body["documents"],
                                      replace_uploaded_fields_only=call.body["replaceUploadedFieldsOnly"])
    return 200, envelope(f"Request to bulk-upload documents into {name} processed successfully")


def _positive_int(query: dict[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise bad_params(f"{name} must be a positive integer")
    return int(text)


def _ordered_item_ids(catalog: Catalog, order_by: str | None, ascending: bool) -> list[str]:
    """By `order_by`, a field of the items' values (numbers, then strings, then other values; items without
    it last), else by when each was last written; newest or largest first unless `ascending` (recorded
    2019-06, Iterable_Catalog/items/with_an_existing_catalog). Ties in the order of writing, reversed with it."""
    written = list(catalog.items)
    rank = {item_id: position for position, item_id in enumerate(written)}
    if order_by is None:
        return sorted(written, key=lambda i: (catalog.modified[i], rank[i]), reverse=not ascending)
    present = [i for i in written if catalog.items[i].get(order_by) is not None]
    missing = [i for i in written if catalog.items[i].get(order_by) is None]
    return sorted(present, key=lambda i: (*_sortable(catalog.items[i][order_by]), rank[i]),
                  reverse=not ascending) + missing


def _sortable(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)):
        return 0, value
    if isinstance(value, str):
        return 1, value
    return 2, orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _page_url(name: str, query: dict[str, str], page: int) -> str:
    """`nextPageUrl` / `previousPageUrl`: the request's paging parameters, in Iterable's order, without api_key."""
    kept = [(k, query[k]) for k in ("pageSize", "orderBy", "sortAscending") if k in query]
    return f"/api/catalogs/{name}/items?{urlencode([*kept, ('page', str(page))])}"


def catalogs_list_items(call: HandlerCall) -> Result:
    catalog = call.backend.catalog(call.path_params[0])
    page, size = _positive_int(call.query, "page", 1), _positive_int(call.query, "pageSize", 10)
    ascending = call.query.get("sortAscending") == "true"  # its query schema lets only true or false through
    ordered = _ordered_item_ids(catalog, call.query.get("orderBy") or None, ascending)
    params: dict[str, Any] = {
        "catalogItemsWithProperties": [
            {"catalogName": catalog.name, "itemId": item_id, "size": len(orjson.dumps(catalog.items[item_id])),
             "lastModified": int(catalog.modified[item_id] * 1000), "value": catalog.items[item_id]}
            for item_id in ordered[(page - 1) * size: page * size]],
        "totalItemsCount": len(catalog.items)}
    if page * size < len(ordered):
        params["nextPageUrl"] = _page_url(catalog.name, call.query, page + 1)
    if page > 1:
        params["previousPageUrl"] = _page_url(catalog.name, call.query, page - 1)
    return 200, envelope(params=params)


Handler = Callable[[HandlerCall], Result]
