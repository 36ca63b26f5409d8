"""The mock's state as plain data: projects (one per data center), their users, events,
purchases, catalogs, field types and forgotten identifiers; and API keys."""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

PROJECT_TYPES = ("email", "userId", "hybrid")


class KeyType(str, enum.Enum):
    SERVER_SIDE = "server_side"
    MOBILE = "mobile"
    JAVASCRIPT = "javascript"
    READ_ONLY = "read_only"

    @property
    def label(self) -> str:
        """How Iterable names the type in a 401 body (`apiKeyType`)."""
        return {"server_side": "ServerSide", "mobile": "Mobile", "javascript": "JavaScript",
                "read_only": "ReadOnly"}[self.value]


@dataclass(slots=True)
class ApiKey:
    key: str
    key_type: KeyType
    data_centers: frozenset[str]
    denied: frozenset[str]  # endpoint templates such as "users/registerDeviceToken"

    @property
    def identifier(self) -> str:
        """The 8-hex-char `apiKeyIdentifier` Iterable puts in a 401 body; never the key itself."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:8]


@dataclass(slots=True)
class User:
    uid: int  # the mock's own handle; email and userId can both change
    email: str | None
    user_id: str | None
    data_fields: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> device
    browser_tokens: list[str] = field(default_factory=list)
    cart: list[dict[str, Any]] = field(default_factory=list)
    signup_date: float = 0.0
    updated_at: float = 0.0


@dataclass(slots=True)
class StoredEvent:
    """An event as the project keeps it (tracked, or a cart update), under its id."""

    id: str
    event_name: str
    event_type: str  # customEvent, purchase, updateCart
    user_uid: int
    created_at: int  # Unix milliseconds (createdAt as sent, read as milliseconds when above 1e11)
    data_fields: dict[str, Any]
    campaign_id: int | None = None
    template_id: int | None = None


@dataclass(slots=True)
class Purchase:
    id: str
    user_uid: int
    items: list[dict[str, Any]]
    total: float
    created_at: int  # Unix milliseconds
    data_fields: dict[str, Any]
    campaign_id: int | None = None
    template_id: int | None = None


@dataclass(slots=True)
class Catalog:
    name: str
    id: int
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    modified: dict[str, float] = field(default_factory=dict)  # item id -> last modified time


def identifier_hash(value: str) -> str:
    """How Iterable keeps a forgotten identifier: SHA-256 of the trimmed, lower-cased value."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


@dataclass(slots=True)
class Project:
    """One Iterable project: its identity rules follow `project_type`."""

    project_id: int
    project_type: str
    data_center: str
    users: dict[int, User] = field(default_factory=dict)
    by_email: dict[str, int] = field(default_factory=dict)  # lower-cased email -> uid
    by_user_id: dict[str, list[int]] = field(default_factory=dict)  # userId -> uids (not unique in email projects)
    events: dict[str, StoredEvent] = field(default_factory=dict)
    purchases: dict[str, Purchase] = field(default_factory=dict)
    catalogs: dict[str, Catalog] = field(default_factory=dict)  # lower-cased name -> catalog
    user_field_types: dict[str, str] = field(default_factory=lambda: {"email": "string", "userId": "string"})
    event_field_types: dict[str, str] = field(default_factory=dict)  # "<eventName>:::<field>" -> type
    forgotten_emails: set[str] = field(default_factory=set)  # identifier_hash values
    forgotten_user_ids: set[str] = field(default_factory=set)
    disallowed_events: set[str] = field(default_factory=set)
    device_owners: dict[str, int] = field(default_factory=dict)  # push token -> uid
    next_uid: int = 1

    def user_by_email(self, email: str) -> User | None:
        uid = self.by_email.get(email.lower())
        return None if uid is None else self.users[uid]

    def user_by_user_id(self, user_id: str) -> User | None:
        uids = self.by_user_id.get(user_id)
        return self.users[uids[0]] if uids else None

    def is_forgotten(self, email: str | None, user_id: str | None) -> str | None:
        """'email' or 'userId' when that identifier was forgotten, else None."""
        if email and self.forgotten_emails and identifier_hash(email) in self.forgotten_emails:
            return "email"
        if user_id and self.forgotten_user_ids and identifier_hash(user_id) in self.forgotten_user_ids:
            return "userId"
        return None

    def add_user(self, email: str | None, user_id: str | None, now: float) -> User:
        user = User(uid=self.next_uid, email=None, user_id=None, signup_date=now, updated_at=now)
        self.next_uid += 1
        self.users[user.uid] = user
        self.set_email(user, email)
        self.set_user_id(user, user_id)
        return user

    def set_email(self, user: User, email: str | None) -> None:
        if user.email is not None and self.by_email.get(user.email.lower()) == user.uid:
            del self.by_email[user.email.lower()]
        user.email = email.lower() if email else None
        if user.email:  # unique except in userID-based projects, where the index keeps the latest
            self.by_email[user.email] = user.uid

    def set_user_id(self, user: User, user_id: str | None) -> None:
        if user.user_id is not None:
            uids = self.by_user_id.get(user.user_id, [])
            if user.uid in uids:
                uids.remove(user.uid)
            if not uids:
                self.by_user_id.pop(user.user_id, None)
        user.user_id = user_id or None
        if user.user_id:
            self.by_user_id.setdefault(user.user_id, []).append(user.uid)

    def remove_user(self, user: User) -> None:
        """Delete the profile with its events, purchases and cart."""
        self.set_email(user, None)
        self.set_user_id(user, None)
        for token in user.devices:
            self.device_owners.pop(token, None)
        del self.users[user.uid]
        self.events = {k: e for k, e in self.events.items() if e.user_uid != user.uid}
        self.purchases = {k: p for k, p in self.purchases.items() if p.user_uid != user.uid}
