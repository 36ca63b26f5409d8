"""The endpoints: pure functions over one project's state.

Each handler takes a `Call` whose body has already passed its schema, and returns
(status, JSON body); a whole-request failure raises `ApiError`. Per-item failures of bulk calls
are 200 answers that list the failed identifiers, as Iterable's are.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from .errors import ApiError, bad_params, catalog_not_found, envelope, forgotten, invalid_email, invalid_user_id
from .fields import FieldPlan, format_timestamp, merge_fields, normalize_dates, plan_fields, types_mismatched
from .identity import IdentityError, check_identifiers, resolve_for_event, resolve_for_write
from .options import MockOptions
from .state import Catalog, Event, Project, Purchase, User, identifier_hash
from .validation import is_valid_email, is_valid_user_id

Result = tuple[int, Any]

MAX_DEVICES = 500
MAX_BROWSER_TOKENS = 500
MAX_EVENT_ID_BYTES = 512
MAX_CATALOG_DOCUMENTS = 1000
MAX_CATALOG_ITEM_BYTES = 30 * 1024
CATALOG_NAME = re.compile(r"^[A-Za-z0-9-]{1,255}$")
CATALOG_ITEM_ID = CATALOG_NAME
MILLISECONDS_FROM = 100_000_000_000  # createdAt above this is read as milliseconds (year 5138 in seconds)
SYSTEM_USER_FIELDS = {"email": "string", "userId": "string", "signupDate": "date", "signupSource": "string",
                      "profileUpdatedAt": "date", "devices": "nested", "browserTokens": "string",
                      "shoppingCartItems": "nested"}


@dataclass(slots=True)
class Call:
    project: Project
    options: MockOptions
    now: float
    rng: random.Random
    body: Any = None
    path_params: tuple[str, ...] = ()
    query: dict[str, str] = field(default_factory=dict)

    def new_id(self) -> str:
        """A 30-hex-char id, as Iterable generates for events."""
        return f"{self.rng.getrandbits(120):030x}"

    def placeholder_email(self) -> str:
        return placeholder_email(self.rng)


def placeholder_email(rng: random.Random) -> str:
    """The email Iterable gives a user it creates from a userId alone (preferUserId)."""
    return f"{rng.getrandbits(128):032x}@placeholder.email"


# ---- shared pieces -------------------------------------------------------------------------------

def identity_error(error: IdentityError, options: MockOptions) -> ApiError:
    """A single-user endpoint's answer to an identity failure."""
    value = error.value or ""
    if error.reason == "invalid":
        return invalid_email(value) if error.field == "email" else invalid_user_id(value)
    if error.reason == "forgotten":
        return forgotten(error.field, value)
    if error.reason == "notFound":
        code = "UnknownEmailError" if error.field == "email" else "UnknownUserIdError"
        return ApiError(400, code, f"No user exists with {error.field} {value}")
    if error.reason == "conflict":
        return ApiError(options.conflict_status, "Conflict",
                        f"Email/userId conflict: {error.field} {value} belongs to another user")
    if error.field == "userId":
        return bad_params("A userId is required in a userID-based project")
    return bad_params("Either email or userId must be provided")


def _created_at(value: Any, now: float) -> float:
    if value is None:
        return now
    return value / 1000 if value > MILLISECONDS_FROM else float(value)


def _check_id(value: str) -> None:
    if len(value.encode()) > MAX_EVENT_ID_BYTES:
        raise bad_params(f"id is longer than {MAX_EVENT_ID_BYTES} bytes")


def _bulk_limit(items: list[Any], options: MockOptions) -> None:
    if options.bulk_item_limit is not None and len(items) > options.bulk_item_limit:
        raise ApiError(400, "BatchTooLarge",
                       f"Request contains {len(items)} items; the limit is {options.bulk_item_limit}")


def _commit_types(known: dict[str, str], pending: dict[str, str]) -> None:
    if pending:
        known.update(pending)


def _store_profile_fields(user: User, plan: FieldPlan, merge_nested: bool, now: float) -> None:
    data = plan.data
    if "email" in data or "userId" in data:  # identifiers live on the user record, not in its fields
        data = {k: v for k, v in data.items() if k not in ("email", "userId")}
    if data:
        merge_fields(user.data_fields, normalize_dates(data), merge_nested)
    user.updated_at = now


def _plan_user_fields(call: Call, data: dict[str, Any], create_new: bool | None,
                      pending: dict[str, str]) -> FieldPlan:
    return plan_fields(data, call.project.user_field_types, pending, category="user",
                       create_new=call.options.create_new_fields if create_new is None else create_new)


def _write_user(call: Call, request: dict[str, Any], prefer_user_id: bool) -> User:
    """A single-user profile write: identity, type locking, then the merge; all or nothing."""
    project = call.project
    data = request.get("dataFields") or {}
    new_email, new_user_id = _new_identifiers(data)
    email, user_id = request.get("email"), request.get("userId")
    try:
        check_identifiers(project, email, user_id, ("email", new_email), ("userId", new_user_id))
    except IdentityError as error:
        raise identity_error(error, call.options) from None
    pending: dict[str, str] = {}
    plan = _plan_user_fields(call, data, request.get("createNewFields"), pending)
    if plan.mismatches:
        raise types_mismatched(project.project_id, plan.mismatches)
    try:
        user = resolve_for_write(project, email, user_id, now=call.now, prefer_user_id=prefer_user_id,
                                 new_email=new_email, new_user_id=new_user_id, placeholder=call.placeholder_email,
                                 userid_moves_email=call.options.userid_moves_email)
    except IdentityError as error:
        raise identity_error(error, call.options) from None
    _commit_types(project.user_field_types, pending)
    _store_profile_fields(user, plan, bool(request.get("mergeNestedObjects")), call.now)
    return user


def _new_identifiers(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """dataFields.email / dataFields.userId re-key a user (when they are strings)."""
    email, user_id = data.get("email"), data.get("userId")
    return (email if type(email) is str else None), (user_id if type(user_id) is str else None)


class _BulkOutcome:
    """successCount, failCount and the failure lists of one bulk answer."""

    def __init__(self, lists: tuple[str, ...]) -> None:
        self.success = 0
        self.failed = 0
        self.lists: dict[str, list[str]] = {name: [] for name in lists}

    def fail(self, error: IdentityError) -> None:
        self.failed += 1
        name = error.bulk_list
        if name in self.lists and error.value is not None:
            self.lists[name].append(error.value)


USER_FAILURE_LISTS = ("invalidEmails", "invalidUserIds", "notFoundEmails", "notFoundUserIds", "invalidDataEmails",
                      "invalidDataUserIds", "conflictEmails", "conflictUserIds", "forgottenEmails", "forgottenUserIds")
EVENT_FAILURE_LISTS = ("invalidEmails", "invalidUserIds", "notFoundEmails", "notFoundUserIds", "forgottenEmails",
                       "forgottenUserIds")


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


# ---- users ---------------------------------------------------------------------------------------

def users_update(call: Call) -> Result:
    _write_user(call, call.body, bool(call.body.get("preferUserId")))
    return 200, envelope()


def users_bulk_update(call: Call) -> Result:
    project, body = call.project, call.body
    users: list[dict[str, Any]] = body["users"]
    _bulk_limit(users, call.options)
    pending: dict[str, str] = {}
    plans = [_plan_user_fields(call, user.get("dataFields") or {}, body.get("createNewFields"), pending)
             for user in users]
    mismatches = {k: v for plan in plans for k, v in plan.mismatches.items()}
    if mismatches:
        raise types_mismatched(project.project_id, mismatches)
    outcome = _BulkOutcome(USER_FAILURE_LISTS)
    create = not body.get("updateOnly", False)
    for request, plan in zip(users, plans):
        new_email, new_user_id = _new_identifiers(request.get("dataFields") or {})
        email, user_id = request.get("email"), request.get("userId")
        try:
            check_identifiers(project, email, user_id, ("email", new_email), ("userId", new_user_id))
            user = resolve_for_write(project, email, user_id, now=call.now,
                                     prefer_user_id=bool(request.get("preferUserId")), create=create,
                                     new_email=new_email, new_user_id=new_user_id,
                                     placeholder=call.placeholder_email,
                                     userid_moves_email=call.options.userid_moves_email)
        except IdentityError as error:
            outcome.fail(error)
            continue
        _store_profile_fields(user, plan, bool(request.get("mergeNestedObjects")), call.now)
        outcome.success += 1
    _commit_types(project.user_field_types, pending)
    failed = outcome.lists
    return 200, {
        "successCount": outcome.success, "failCount": outcome.failed,
        "invalidEmails": failed["invalidEmails"], "invalidUserIds": failed["invalidUserIds"],
        "filteredOutFields": _unique([f for plan in plans for f in plan.filtered]),
        "createdFields": list(pending), "noOpEmails": [], "noOpUserIds": [], "failedUpdates": failed,
    }


def users_update_email(call: Call) -> Result:
    project, body = call.project, call.body
    current_email, current_user_id, new_email = body.get("currentEmail"), body.get("currentUserId"), body["newEmail"]
    if current_email is not None and not is_valid_email(current_email):
        raise invalid_email(current_email, "currentEmail")
    if current_user_id is not None and current_email is None and not is_valid_user_id(current_user_id):
        raise invalid_user_id(current_user_id)
    if not is_valid_email(new_email):
        raise invalid_email(new_email, "newEmail")
    if current_email is None and current_user_id is None:
        raise bad_params("Either currentEmail or currentUserId must be provided")
    current = current_email if current_email is not None else current_user_id
    user = project.user_by_email(current_email) if current_email is not None else \
        project.user_by_user_id(current_user_id)  # type: ignore[arg-type]
    if user is None:
        raise bad_params(f"Cannot change user Some({current}) to {new_email}. User does not exist")
    if project.is_forgotten(new_email, None):
        raise forgotten("email", new_email)
    owner = project.user_by_email(new_email)
    if project.project_type != "userId" and owner is not None and owner is not user:
        raise ApiError(call.options.email_exists_status, "EmailAlreadyExists", f"Email already exists: {new_email}")
    project.set_email(user, new_email)
    user.updated_at = call.now
    return 200, envelope()


def users_register_device_token(call: Call) -> Result:
    project, body = call.project, call.body
    device = body["device"]
    user = _write_user(call, {"email": body.get("email"), "userId": body.get("userId")},
                       bool(body.get("preferUserId")))
    token = device["token"]
    stored = user.devices.get(token)
    if stored is None:
        if len(user.devices) >= MAX_DEVICES:
            raise bad_params(f"User has reached the maximum of {MAX_DEVICES} devices")
        previous = project.device_owners.get(token)
        if previous is not None and previous in project.users:  # a token belongs to one user
            project.users[previous].devices.pop(token, None)
        stored = user.devices[token] = {"token": token, "dataFields": {}}
        project.device_owners[token] = user.uid
    stored["platform"] = device["platform"]
    stored["applicationName"] = device["applicationName"]
    merge_fields(stored["dataFields"], device.get("dataFields") or {}, merge_nested=False)
    return 200, envelope()


def users_register_browser_token(call: Call) -> Result:
    body = call.body
    user = _write_user(call, {"email": body.get("email"), "userId": body.get("userId")}, prefer_user_id=False)
    token = body["browserToken"]
    if token not in user.browser_tokens:
        if len(user.browser_tokens) >= MAX_BROWSER_TOKENS:
            raise bad_params(f"User has reached the maximum of {MAX_BROWSER_TOKENS} browser tokens")
        user.browser_tokens.append(token)
    return 200, envelope()


def users_forget(call: Call) -> Result:
    project, body = call.project, call.body
    email, user_id = body.get("email"), body.get("userId")
    kind = project.project_type
    if kind == "email" and not email:
        raise bad_params("Email-based projects forget users by email")
    if kind == "userId" and not user_id:
        raise bad_params("UserID-based projects forget users by userId")
    if not email and not user_id:
        raise bad_params("Either email or userId must be provided")
    if email is not None and not is_valid_email(email):
        raise invalid_email(email)
    if user_id is not None and not is_valid_user_id(user_id):
        raise invalid_user_id(user_id)
    if email and kind != "userId":
        user = project.user_by_email(email)
        if user is not None:
            project.remove_user(user)
        project.forgotten_emails.add(identifier_hash(email))
    if user_id and kind != "email":
        for uid in list(project.by_user_id.get(user_id, ())):
            project.remove_user(project.users[uid])
        project.forgotten_user_ids.add(identifier_hash(user_id))
    return 200, envelope()


def _user_json(user: User) -> dict[str, Any]:
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
    return {} if user is None else {"user": _user_json(user)}


def users_get_by_email(call: Call) -> Result:
    return 200, user_view(call.project.user_by_email(call.path_params[0]))


def users_get_by_user_id(call: Call) -> Result:
    return 200, user_view(call.project.user_by_user_id(call.path_params[0]))


def users_get_fields(call: Call) -> Result:
    return 200, {"fields": {**SYSTEM_USER_FIELDS, **call.project.user_field_types}}


def users_delete_by_email(call: Call) -> Result:
    project, email = call.project, call.path_params[0]
    if project.project_type == "userId":
        raise bad_params("Deleting users by email is not supported in userID-based projects")
    if not is_valid_email(email):
        raise invalid_email(email)
    user = project.user_by_email(email)
    if user is None:
        raise bad_params(f"User does not exist. Email: {email} UserId: ")
    project.remove_user(user)
    return 200, envelope()


def users_delete_by_user_id(call: Call) -> Result:
    project, user_id = call.project, call.path_params[0]
    uids = list(project.by_user_id.get(user_id, ()))
    if not uids:
        raise bad_params(f"User does not exist. Email:  UserId: {user_id}")
    for uid in uids:
        project.remove_user(project.users[uid])
    return 200, envelope(f"All users associated with {user_id} were successfully deleted")


# ---- events --------------------------------------------------------------------------------------

def _plan_event_fields(call: Call, event: dict[str, Any], pending: dict[str, str]) -> FieldPlan:
    create_new = event.get("createNewFields")
    return plan_fields(event.get("dataFields") or {}, call.project.event_field_types, pending, category="event",
                       key_prefix=event["eventName"] + ":::",
                       create_new=call.options.create_new_fields if create_new is None else create_new)


def _store_event(call: Call, event: dict[str, Any], user: User, plan: FieldPlan) -> str:
    event_id = event.get("id") or call.new_id()
    call.project.events[event_id] = Event(
        id=event_id, event_name=event["eventName"], event_type="customEvent", user_uid=user.uid,
        created_at=_created_at(event.get("createdAt"), call.now), data_fields=plan.data,
        campaign_id=event.get("campaignId"), template_id=event.get("templateId"))
    return event_id


def events_track(call: Call) -> Result:
    project, event = call.project, call.body
    email, user_id, name = event.get("email"), event.get("userId"), event["eventName"]
    try:
        check_identifiers(project, email, user_id)
    except IdentityError as error:
        raise identity_error(error, call.options) from None
    if event.get("id") is not None:
        _check_id(event["id"])
    if name in project.disallowed_events:
        return 200, envelope(f"event {name} is disallowed from tracking.")
    pending: dict[str, str] = {}
    plan = _plan_event_fields(call, event, pending)
    if plan.mismatches:
        raise types_mismatched(project.project_id, plan.mismatches)
    try:
        user = resolve_for_event(project, email, user_id, now=call.now, create=call.options.events_create_users)
    except IdentityError as error:
        raise identity_error(error, call.options) from None
    _commit_types(project.event_field_types, pending)
    event_id = _store_event(call, event, user, plan)
    return 200, envelope(f"Event with id: {event_id} tracked.", params={"id": event_id})


def events_track_bulk(call: Call) -> Result:
    project = call.project
    events: list[dict[str, Any]] = call.body["events"]
    _bulk_limit(events, call.options)
    for event in events:
        if event.get("id") is not None:
            _check_id(event["id"])
    pending: dict[str, str] = {}
    plans = [_plan_event_fields(call, event, pending) for event in events]
    mismatches = {k: v for plan in plans for k, v in plan.mismatches.items()}
    if mismatches:
        raise types_mismatched(project.project_id, mismatches)
    outcome = _BulkOutcome(EVENT_FAILURE_LISTS)
    disallowed: list[str] = []
    for event, plan in zip(events, plans):
        if event["eventName"] in project.disallowed_events:
            outcome.failed += 1
            disallowed.append(event["eventName"])
            continue
        email, user_id = event.get("email"), event.get("userId")
        try:
            check_identifiers(project, email, user_id)
            user = resolve_for_event(project, email, user_id, now=call.now,
                                     create=call.options.events_create_users)
        except IdentityError as error:
            outcome.fail(error)
            continue
        _store_event(call, event, user, plan)
        outcome.success += 1
    _commit_types(project.event_field_types, pending)
    failed = outcome.lists
    return 200, {
        "successCount": outcome.success, "failCount": outcome.failed,
        "invalidEmails": failed["invalidEmails"], "invalidUserIds": failed["invalidUserIds"],
        "disallowedEventNames": _unique(disallowed),
        "filteredOutFields": _unique([f for plan in plans for f in plan.filtered]),
        "createdFields": list(pending), "failedUpdates": failed,
    }


# ---- commerce ------------------------------------------------------------------------------------

def _commerce_user(call: Call) -> User:
    """Upsert the `user` of a commerce call; Iterable's iOS SDK puts preferUserId at the top level."""
    request = call.body["user"]
    prefer = request.get("preferUserId", call.body.get("preferUserId", False))
    return _write_user(call, request, bool(prefer))


def commerce_track_purchase(call: Call) -> Result:
    project, body = call.project, call.body
    if body.get("id") is not None:
        _check_id(body["id"])
    pending: dict[str, str] = {}
    plan = plan_fields(body.get("dataFields") or {}, project.event_field_types, pending, category="event",
                       key_prefix="purchase:::", create_new=call.options.create_new_fields)
    if plan.mismatches:
        raise types_mismatched(project.project_id, plan.mismatches)
    user = _commerce_user(call)
    _commit_types(project.event_field_types, pending)
    purchase_id = body.get("id") or call.new_id()
    project.purchases[purchase_id] = Purchase(
        id=purchase_id, user_uid=user.uid, items=body["items"], total=float(body["total"]),
        created_at=_created_at(body.get("createdAt"), call.now), data_fields=plan.data,
        campaign_id=body.get("campaignId"), template_id=body.get("templateId"))
    user.cart = []
    return 200, envelope(params={"id": purchase_id})


def commerce_update_cart(call: Call) -> Result:
    user = _commerce_user(call)
    items = call.body["items"]
    user.cart = list(items)
    event_id = call.new_id()
    call.project.events[event_id] = Event(
        id=event_id, event_name="updateCart", event_type="updateCart", user_uid=user.uid, created_at=call.now,
        data_fields={"updatedShoppingCartItems": items})
    return 200, envelope()


# ---- catalogs ------------------------------------------------------------------------------------

def _catalog(call: Call) -> Catalog:
    name = call.path_params[0]
    catalog = call.project.catalogs.get(name.lower())
    if catalog is None:
        raise catalog_not_found(name)
    return catalog


def create_catalog(project: Project, name: str) -> Catalog:
    if not CATALOG_NAME.match(name):
        raise bad_params(f"Invalid catalog name: {name}. Use letters, digits and dashes, at most 255")
    if name.lower() in project.catalogs:
        raise bad_params(f"Catalog {name} already exists")
    catalog = Catalog(name=name, id=len(project.catalogs) + 1)
    project.catalogs[name.lower()] = catalog
    return catalog


def catalogs_create(call: Call) -> Result:
    catalog = create_catalog(call.project, call.path_params[0])
    return 201, envelope(params={"id": catalog.id, "name": catalog.name})


def catalogs_bulk_items(call: Call) -> Result:
    catalog = _catalog(call)
    documents: dict[str, dict[str, Any]] = call.body["documents"]
    if len(documents) > MAX_CATALOG_DOCUMENTS:
        raise ApiError(400, "BatchTooLarge",
                       f"Request contains {len(documents)} documents; the limit is {MAX_CATALOG_DOCUMENTS}")
    for item_id, value in documents.items():
        if not CATALOG_ITEM_ID.match(item_id):
            raise bad_params(f"Invalid catalog item id: {item_id}. Use letters, digits and dashes, at most 255")
        if len(orjson.dumps(value)) > MAX_CATALOG_ITEM_BYTES:
            raise bad_params(f"Catalog item {item_id} is larger than 30 KB")
        dotted = _dotted_field(value)
        if dotted is not None:
            raise bad_params(f"Catalog item {item_id}: field names cannot contain periods ({dotted})")
    replace_uploaded_only = call.body["replaceUploadedFieldsOnly"]
    for item_id, value in documents.items():
        if replace_uploaded_only and item_id in catalog.items:
            catalog.items[item_id] = {**catalog.items[item_id], **value}
        else:
            catalog.items[item_id] = dict(value)
        catalog.modified[item_id] = call.now
    return 200, envelope(f"Request to bulk-upload documents into {call.path_params[0]} processed successfully")


def _dotted_field(value: Any) -> str | None:
    if type(value) is dict:
        for name, sub in value.items():
            if "." in name:
                return name
            found = _dotted_field(sub)
            if found is not None:
                return found
    elif type(value) is list:
        for sub in value:
            found = _dotted_field(sub)
            if found is not None:
                return found
    return None


def _positive_int(query: dict[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1:
        raise bad_params(f"{name} must be a positive integer")
    return int(text)


def catalogs_list_items(call: Call) -> Result:
    catalog = _catalog(call)
    page, size = _positive_int(call.query, "page", 1), _positive_int(call.query, "pageSize", 10)
    ids = list(catalog.items)[(page - 1) * size: page * size]
    return 200, envelope(params={
        "catalogItemsWithProperties": [
            {"catalogName": catalog.name, "itemId": item_id, "size": len(orjson.dumps(catalog.items[item_id])),
             "lastModified": int(catalog.modified[item_id] * 1000), "value": catalog.items[item_id]}
            for item_id in ids],
        "totalItemsCount": len(catalog.items)})


Handler = Callable[[Call], Result]
# (method, endpoint template) -> handler. Templates name path parameters in braces.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "users/update"): users_update,
    ("POST", "users/bulkUpdate"): users_bulk_update,
    ("POST", "users/updateEmail"): users_update_email,
    ("POST", "users/registerDeviceToken"): users_register_device_token,
    ("POST", "users/registerBrowserToken"): users_register_browser_token,
    ("POST", "users/forget"): users_forget,
    ("GET", "users/getFields"): users_get_fields,
    ("GET", "users/{email}"): users_get_by_email,
    ("DELETE", "users/{email}"): users_delete_by_email,
    ("GET", "users/byUserId/{userId}"): users_get_by_user_id,
    ("DELETE", "users/byUserId/{userId}"): users_delete_by_user_id,
    ("POST", "events/track"): events_track,
    ("POST", "events/trackBulk"): events_track_bulk,
    ("POST", "commerce/trackPurchase"): commerce_track_purchase,
    ("POST", "commerce/updateCart"): commerce_update_cart,
    ("POST", "catalogs/{catalogName}"): catalogs_create,
    ("POST", "catalogs/{catalogName}/items"): catalogs_bulk_items,
    ("GET", "catalogs/{catalogName}/items"): catalogs_list_items,
}
