"""The mock's operations on one project's state: what a call does, apart from how it was asked.

Every HTTP handler (responses.py) and every Python set-up call on MockIterable (`create_user`,
`track_event`, ...) goes through a `Backend` operation, so both give the same state and the same
errors, as moto's responses and its Python users share one backend. An operation either succeeds
whole or raises an `ApiError` (errors.py) with the state unchanged; bulk operations report per-item
failures in a `BulkResult`, as Iterable's bulk endpoints answer 200 with the failed identifiers.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import orjson

from iterable_sim.limits import MAX_CATALOG_ITEM_BYTES
from iterable_sim.mock import errors
from iterable_sim.mock.errors import ApiError, bad_params, batch_too_large, catalog_exists, catalog_not_found, forgotten, \
    invalid_email, invalid_user_id, no_emails, token_not_registered, types_mismatched
from iterable_sim.mock.fields import FieldPlan, merge_fields, normalize_dates, plan_fields
from iterable_sim.mock.identity import IdentityError, check_identifiers, resolve_for_event, resolve_for_write
from iterable_sim.mock.options import MockOptions
from iterable_sim.mock.state import Catalog, Project, Purchase, StoredEvent, User, identifier_hash
from iterable_sim.mock.validation import is_valid_email, is_valid_user_id

MAX_DEVICES = 500
MAX_BROWSER_TOKENS = 500
MAX_EVENT_ID_BYTES = 512
MAX_CATALOG_DOCUMENTS = 1000
CATALOG_NAME = re.compile(r"^[A-Za-z0-9-]{1,255}$")
CATALOG_ITEM_ID = CATALOG_NAME
MILLISECONDS_FROM = 100_000_000_000  # createdAt above this is read as milliseconds (year 5138 in seconds)
USER_FAILURE_LISTS = ("invalidEmails", "invalidUserIds", "notFoundEmails", "notFoundUserIds", "invalidDataEmails",
                      "invalidDataUserIds", "conflictEmails", "conflictUserIds", "forgottenEmails", "forgottenUserIds")
EVENT_FAILURE_LISTS = ("invalidEmails", "invalidUserIds", "notFoundEmails", "notFoundUserIds", "forgottenEmails",
                       "forgottenUserIds")


# ---- what the operations take -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class UserUpdate:
    """One profile write: users/update, a bulkUpdate item, the `user` of a commerce call."""

    email: str | None = None
    user_id: str | None = None
    data_fields: Mapping[str, Any] | None = None
    prefer_user_id: bool = False
    merge_nested_objects: bool = False
    create_new_fields: bool | None = None  # None: the project's setting (MockOptions.create_new_fields)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], *, prefer_user_id: Any = False) -> UserUpdate:
        return cls(body.get("email"), body.get("userId"), body.get("dataFields") or {},
                   bool(body.get("preferUserId", prefer_user_id)), bool(body.get("mergeNestedObjects")),
                   body.get("createNewFields"))


@dataclass(frozen=True, slots=True)
class TrackedEvent:
    """One custom event: events/track, or a trackBulk item."""

    event_name: str
    email: str | None = None
    user_id: str | None = None
    id: str | None = None
    created_at: int | float | None = None  # Unix seconds, or milliseconds above 10^11; None: now
    data_fields: Mapping[str, Any] | None = None
    campaign_id: int | None = None
    template_id: int | None = None
    create_new_fields: bool | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TrackedEvent:
        return cls(body["eventName"], body.get("email"), body.get("userId"), body.get("id"), body.get("createdAt"),
                   body.get("dataFields") or {}, body.get("campaignId"), body.get("templateId"),
                   body.get("createNewFields"))


@dataclass(frozen=True, slots=True)
class TrackedPurchase:
    """commerce/trackPurchase."""

    user: UserUpdate
    items: Sequence[Mapping[str, Any]]
    total: float
    id: str | None = None
    created_at: int | float | None = None
    data_fields: Mapping[str, Any] | None = None
    campaign_id: int | None = None
    template_id: int | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TrackedPurchase:
        return cls(commerce_user(body), body["items"], body["total"], body.get("id"), body.get("createdAt"),
                   body.get("dataFields") or {}, body.get("campaignId"), body.get("templateId"))


def commerce_user(body: Mapping[str, Any]) -> UserUpdate:
    """The `user` of a commerce call; Iterable's iOS SDK puts preferUserId at the top level."""
    return UserUpdate.from_json(body["user"], prefer_user_id=body.get("preferUserId", False))


@dataclass(frozen=True, slots=True)
class Device:
    token: str
    platform: str  # APNS, APNS_SANDBOX, GCM
    application_name: str
    data_fields: Mapping[str, Any] | None = None


@dataclass(slots=True)
class BulkResult:
    """successCount, failCount and the failure lists of one bulk call."""

    lists: dict[str, list[str]]
    success: int = 0
    failed: int = 0
    filtered: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    disallowed: list[str] = field(default_factory=list)

    def fail(self, error: IdentityError) -> None:
        self.failed += 1
        name = error.bulk_list
        if name in self.lists and error.value is not None:
            self.lists[name].append(error.value)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


# ---- the operations -----------------------------------------------------------------------------

@dataclass(slots=True)
class Backend:
    """The operations on `project` at time `now`. MockIterable makes one per call, under its lock."""

    project: Project
    options: MockOptions
    now: float
    rng: random.Random
    event_limit: int | None = None  # keep only the newest N events (and N purchases) per project

    def new_id(self) -> str:
        """A 30-hex-char id, as Iterable generates for events."""
        return f"{self.rng.getrandbits(120):030x}"

    def placeholder_email(self) -> str:
        """The email Iterable gives a user it creates from a userId alone (preferUserId)."""
        return f"{self.rng.getrandbits(128):032x}@placeholder.email"

    def identity_error(self, error: IdentityError) -> ApiError:
        """A single-user call's answer to an identity failure."""
        value = error.value or ""
        if error.reason == "invalid":
            return invalid_email(value) if error.field == "email" else invalid_user_id(value)
        if error.reason == "forgotten":
            return forgotten(error.field, value)
        if error.reason == "notFound":
            return errors.unknown_user(error.field, value)
        if error.reason == "conflict":
            return errors.conflict(self.options.conflict_status, error.field, value)
        return errors.missing_identifier(error.field)

    # ---- users ----------------------------------------------------------------------------------

    def upsert_user(self, update: UserUpdate) -> User:
        """A single-user profile write: identity, type locking, then the merge; all or nothing."""
        project = self.project
        data = dict(update.data_fields or {})
        new_email, new_user_id = _new_identifiers(data)
        try:
            check_identifiers(project, update.email, update.user_id, ("email", new_email), ("userId", new_user_id))
        except IdentityError as error:
            raise self.identity_error(error) from None
        pending: dict[str, str] = {}
        plan = self._plan_user_fields(data, update.create_new_fields, pending)
        if plan.mismatches:
            raise types_mismatched(project.project_id, plan.mismatches)
        try:
            user = resolve_for_write(project, update.email, update.user_id, now=self.now,
                                     prefer_user_id=update.prefer_user_id, new_email=new_email,
                                     new_user_id=new_user_id, placeholder=self.placeholder_email,
                                     userid_moves_email=self.options.userid_moves_email)
        except IdentityError as error:
            raise self.identity_error(error) from None
        project.user_field_types.update(pending)
        self._store_profile_fields(user, plan, update.merge_nested_objects)
        return user

    def bulk_upsert_users(self, updates: Sequence[UserUpdate], *, create_new_fields: bool | None = None,
                          update_only: bool = False) -> BulkResult:
        project = self.project
        if not updates:
            raise no_emails()
        self._bulk_limit(len(updates), "items")
        pending: dict[str, str] = {}
        datas = [dict(update.data_fields or {}) for update in updates]
        plans = [self._plan_user_fields(data, create_new_fields, pending) for data in datas]
        mismatches = {k: v for plan in plans for k, v in plan.mismatches.items()}
        if mismatches:
            raise types_mismatched(project.project_id, mismatches)
        result = BulkResult({name: [] for name in USER_FAILURE_LISTS})
        for update, data, plan in zip(updates, datas, plans, strict=True):
            new_email, new_user_id = _new_identifiers(data)
            try:
                check_identifiers(project, update.email, update.user_id, ("email", new_email),
                                  ("userId", new_user_id))
                user = resolve_for_write(project, update.email, update.user_id, now=self.now,
                                         prefer_user_id=update.prefer_user_id, create=not update_only,
                                         new_email=new_email, new_user_id=new_user_id,
                                         placeholder=self.placeholder_email,
                                         userid_moves_email=self.options.userid_moves_email)
            except IdentityError as error:
                result.fail(error)
                continue
            self._store_profile_fields(user, plan, update.merge_nested_objects)
            result.success += 1
        project.user_field_types.update(pending)
        result.filtered = _unique([f for plan in plans for f in plan.filtered])
        result.created = list(pending)
        return result

    def update_email(self, *, current_email: str | None = None, current_user_id: str | None = None,
                     new_email: str) -> User:
        project = self.project
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
            raise errors.email_exists(self.options.email_exists_status, new_email)
        project.set_email(user, new_email)
        user.updated_at = self.now
        return user

    def register_device_token(self, user: UserUpdate, device: Device) -> User:
        project = self.project
        if not device.token:  # recorded: a 500, and nothing registered
            holder = project.user_by_user_id(user.user_id) if user.user_id and not user.email else None
            raise token_not_registered(user.email or (holder.email if holder else None))
        owner = self.upsert_user(UserUpdate(user.email, user.user_id, prefer_user_id=user.prefer_user_id))
        stored = owner.devices.get(device.token)
        if stored is None:
            if len(owner.devices) >= MAX_DEVICES:
                raise bad_params(f"User has reached the maximum of {MAX_DEVICES} devices")
            previous = project.device_owners.get(device.token)
            if previous is not None and previous in project.users:  # a token belongs to one user
                project.users[previous].devices.pop(device.token, None)
            stored = owner.devices[device.token] = {"token": device.token, "dataFields": {}}
            project.device_owners[device.token] = owner.uid
        stored["platform"] = device.platform
        stored["applicationName"] = device.application_name
        merge_fields(stored["dataFields"], device.data_fields or {}, merge_nested=False)
        return owner

    def register_browser_token(self, user: UserUpdate, token: str) -> User:
        owner = self.upsert_user(UserUpdate(user.email, user.user_id))
        if token not in owner.browser_tokens:
            if len(owner.browser_tokens) >= MAX_BROWSER_TOKENS:
                raise bad_params(f"User has reached the maximum of {MAX_BROWSER_TOKENS} browser tokens")
            owner.browser_tokens.append(token)
        return owner

    def forget_user(self, *, email: str | None = None, user_id: str | None = None) -> None:
        project = self.project
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

    def delete_user_by_email(self, email: str) -> None:
        project = self.project
        if project.project_type == "userId":
            raise bad_params("Deleting users by email is not supported in userID-based projects")
        if not is_valid_email(email):
            raise invalid_email(email)
        user = project.user_by_email(email)
        if user is not None:  # an email the project does not hold is deleted too: 200 (recorded 2021)
            project.remove_user(user)

    def delete_users_by_user_id(self, user_id: str) -> int:
        """Delete every user holding `user_id`; how many."""
        project = self.project
        uids = list(project.by_user_id.get(user_id, ()))
        if not uids:
            raise bad_params(f"User does not exist. Email:  UserId: {user_id}")
        for uid in uids:
            project.remove_user(project.users[uid])
        return len(uids)

    # ---- events ---------------------------------------------------------------------------------

    def track_event(self, event: TrackedEvent) -> str | None:
        """Store one event; its id, or None when its name is disallowed (Iterable answers 200 then)."""
        project = self.project
        try:
            check_identifiers(project, event.email, event.user_id)
        except IdentityError as error:
            raise self.identity_error(error) from None
        if event.id is not None:
            _check_id(event.id)
        if event.event_name in project.disallowed_events:
            return None
        pending: dict[str, str] = {}
        plan = self._plan_event_fields(event.data_fields, event.event_name, event.create_new_fields, pending)
        if plan.mismatches:
            raise types_mismatched(project.project_id, plan.mismatches)
        try:
            user = resolve_for_event(project, event.email, event.user_id, now=self.now,
                                     create=self.options.events_create_users)
        except IdentityError as error:
            raise self.identity_error(error) from None
        project.event_field_types.update(pending)
        return self._store_event(event, user, plan)

    def track_events(self, events: Sequence[TrackedEvent]) -> BulkResult:
        project = self.project
        self._bulk_limit(len(events), "items")
        for event in events:
            if event.id is not None:
                _check_id(event.id)
        pending: dict[str, str] = {}
        plans = [self._plan_event_fields(event.data_fields, event.event_name, event.create_new_fields, pending)
                 for event in events]
        mismatches = {k: v for plan in plans for k, v in plan.mismatches.items()}
        if mismatches:
            raise types_mismatched(project.project_id, mismatches)
        result = BulkResult({name: [] for name in EVENT_FAILURE_LISTS})
        for event, plan in zip(events, plans, strict=True):
            if event.event_name in project.disallowed_events:
                result.failed += 1
                result.disallowed.append(event.event_name)
                continue
            try:
                check_identifiers(project, event.email, event.user_id)
                user = resolve_for_event(project, event.email, event.user_id, now=self.now,
                                         create=self.options.events_create_users)
            except IdentityError as error:
                result.fail(error)
                continue
            self._store_event(event, user, plan)
            result.success += 1
        project.event_field_types.update(pending)
        result.disallowed = _unique(result.disallowed)
        result.filtered = _unique([f for plan in plans for f in plan.filtered])
        result.created = list(pending)
        return result

    # ---- commerce -------------------------------------------------------------------------------

    def track_purchase(self, purchase: TrackedPurchase) -> str:
        """Store a purchase (one with an id the project holds updates it, as an event's id does), empty the
        cart, upsert the user; its id."""
        project = self.project
        if purchase.id is not None:
            _check_id(purchase.id)
        pending: dict[str, str] = {}
        plan = self._plan_event_fields(purchase.data_fields, "purchase", None, pending)
        if plan.mismatches:
            raise types_mismatched(project.project_id, plan.mismatches)
        user = self.upsert_user(purchase.user)
        project.event_field_types.update(pending)
        purchase_id = purchase.id or self.new_id()
        items = [dict(item) for item in purchase.items]
        stored = project.purchases.get(purchase_id)
        if stored is not None:  # "the purchase will be updated": the same rule as an event's id
            stored.items, stored.total = items, float(purchase.total)
            self._update(stored, purchase, user, plan.data)
        else:
            project.purchases[purchase_id] = Purchase(
                id=purchase_id, user_uid=user.uid, items=items, total=float(purchase.total),
                created_at=_created_at_ms(purchase.created_at, self.now), data_fields=plan.data,
                campaign_id=purchase.campaign_id, template_id=purchase.template_id)
            self._keep_within_limit(project.purchases)
        user.cart = []
        return purchase_id

    def update_cart(self, user: UserUpdate, items: Sequence[Mapping[str, Any]]) -> str:
        """Replace the user's cart and log an updateCart event; that event's id."""
        owner = self.upsert_user(user)
        owner.cart = [dict(item) for item in items]
        event_id = self.new_id()
        self.project.events[event_id] = StoredEvent(
            id=event_id, event_name="updateCart", event_type="updateCart", user_uid=owner.uid,
            created_at=_created_at_ms(None, self.now), data_fields={"updatedShoppingCartItems": list(owner.cart)})
        self._keep_within_limit(self.project.events)
        return event_id

    # ---- catalogs -------------------------------------------------------------------------------

    def catalog(self, name: str) -> Catalog:
        catalog = self.project.catalogs.get(name.lower())
        if catalog is None:
            raise catalog_not_found(name)
        return catalog

    def create_catalog(self, name: str) -> Catalog:
        project = self.project
        if not CATALOG_NAME.match(name):
            raise bad_params(f"Invalid catalog name: {name}. Use letters, digits and dashes, at most 255")
        if name.lower() in project.catalogs:
            raise catalog_exists(name)
        catalog = Catalog(name=name, id=len(project.catalogs) + 1)
        project.catalogs[name.lower()] = catalog
        return catalog

    def upsert_catalog_items(self, name: str, documents: Mapping[str, Mapping[str, Any]], *,
                             replace_uploaded_fields_only: bool) -> Catalog:
        catalog = self.catalog(name)
        if len(documents) > MAX_CATALOG_DOCUMENTS:
            raise batch_too_large("documents", len(documents), MAX_CATALOG_DOCUMENTS)
        for item_id, value in documents.items():
            if not CATALOG_ITEM_ID.match(item_id):
                raise bad_params(f"Invalid catalog item id: {item_id}. Use letters, digits and dashes, at most 255")
            if len(orjson.dumps(value)) > MAX_CATALOG_ITEM_BYTES:
                raise bad_params(f"Catalog item {item_id} is larger than 30 KB")
            dotted = _dotted_field(value)
            if dotted is not None:
                raise bad_params(f"Catalog item {item_id}: field names cannot contain periods ({dotted})")
        for item_id, value in documents.items():
            if replace_uploaded_fields_only and item_id in catalog.items:
                catalog.items[item_id] = {**catalog.items[item_id], **value}
            else:
                catalog.items[item_id] = dict(value)
            catalog.modified[item_id] = self.now
        return catalog

    # ---- shared pieces --------------------------------------------------------------------------

    def _bulk_limit(self, count: int, what: str) -> None:
        limit = self.options.bulk_item_limit
        if limit is not None and count > limit:
            raise batch_too_large(what, count, limit)

    def _plan_user_fields(self, data: dict[str, Any], create_new: bool | None,
                          pending: dict[str, str]) -> FieldPlan:
        return plan_fields(data, self.project.user_field_types, pending, category="user",
                           create_new=self.options.create_new_fields if create_new is None else create_new)

    def _store_profile_fields(self, user: User, plan: FieldPlan, merge_nested: bool) -> None:
        data = plan.data
        if "email" in data or "userId" in data:  # identifiers live on the user record, not in its fields
            data = {k: v for k, v in data.items() if k not in ("email", "userId")}
        if data:
            merge_fields(user.data_fields, normalize_dates(data), merge_nested)
        user.updated_at = self.now

    def _plan_event_fields(self, data_fields: Mapping[str, Any] | None, name: str, create_new: bool | None,
                           pending: dict[str, str]) -> FieldPlan:
        """An event's (or a purchase's: name "purchase") dataFields typed against the project's event fields."""
        return plan_fields(dict(data_fields or {}), self.project.event_field_types, pending,
                           category="event", key_prefix=name + ":::",
                           create_new=self.options.create_new_fields if create_new is None else create_new)

    def _store_event(self, event: TrackedEvent, user: User, plan: FieldPlan) -> str:
        """A new event, or an update of the stored one with that id (`_update`)."""
        events = self.project.events
        event_id = event.id or self.new_id()
        stored = events.get(event_id)
        if stored is not None and stored.event_type == "customEvent":
            stored.event_name = event.event_name
            self._update(stored, event, user, plan.data)
            return event_id
        events[event_id] = StoredEvent(
            id=event_id, event_name=event.event_name, event_type="customEvent", user_uid=user.uid,
            created_at=_created_at_ms(event.created_at, self.now), data_fields=plan.data,
            campaign_id=event.campaign_id, template_id=event.template_id)
        self._keep_within_limit(events)
        return event_id

    def _update(self, stored: StoredEvent | Purchase, sent: TrackedEvent | TrackedPurchase, user: User,
                data: dict[str, Any]) -> None:
        """Iterable on an id it already holds, for events and purchases alike: "the event (purchase)
        will be updated" — an update, not a replacement: what the call leaves out (absent or null
        createdAt, campaignId, templateId, dataFields not sent) keeps its stored value."""
        stored.user_uid = user.uid
        if sent.created_at is not None:
            stored.created_at = _created_at_ms(sent.created_at, self.now)
        if sent.campaign_id is not None:
            stored.campaign_id = sent.campaign_id
        if sent.template_id is not None:
            stored.template_id = sent.template_id
        stored.data_fields = {**stored.data_fields, **data}

    def _keep_within_limit(self, store: dict[str, Any]) -> None:
        if self.event_limit is not None:
            while len(store) > self.event_limit:
                del store[next(iter(store))]


def _created_at_ms(value: int | float | None, now: float) -> int:
    """createdAt as whole milliseconds: sent in milliseconds (above 10^11) it is kept exactly, in
    seconds it is scaled; absent, it is the receipt time."""
    if value is None:
        return round(now * 1000)
    return int(value) if value > MILLISECONDS_FROM else round(value * 1000)


def _check_id(value: str) -> None:
    if len(value.encode()) > MAX_EVENT_ID_BYTES:
        raise bad_params(f"id is longer than {MAX_EVENT_ID_BYTES} bytes")


def _new_identifiers(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """dataFields.email / dataFields.userId re-key a user (when they are strings)."""
    email, user_id = data.get("email"), data.get("userId")
    return (email if type(email) is str else None), (user_id if type(user_id) is str else None)


def _dotted_field(value: Any) -> str | None:
    if type(value) is dict:
        name: str  # a JSON object's keys
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
