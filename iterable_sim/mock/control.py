"""Control routes: reset, seed, snapshot and inspect a mock from outside its process (moto server's
`/moto-api/`), under /_mock/, a prefix Iterable never uses (its API is all under /api/).

    POST /_mock/reset                  empty the state (API keys and snapshots stay) -> {"reset": true}
    POST /_mock/keys                   {"key", "keyType"?, "dataCenter"?}            -> {"key": masked}
    POST /_mock/users                  {"users": [{email, userId, dataFields, preferUserId?,
                                        mergeNestedObjects?}], "dataCenter"?: "US"}  -> {"users": [profiles]}
    GET  /_mock/state[?dataCenter=EU]  users, events, purchases, catalogs, field types as JSON
    GET  /_mock/journal[?limit=N]      the last N journaled requests (keys masked)
    POST /_mock/snapshot               -> {"snapshot": id}  (the newest MAX_SNAPSHOTS are kept)
    POST /_mock/restore                {"snapshot": id}                              -> {"restored": id}
    POST /_mock/snapshot/drop          {"snapshot": id}                              -> {"dropped": id}

Seeding checks each user with users/update's schema and goes through the same backend operation,
so it refuses what Iterable would (same status and body), and seeds all the users or none. Any other
refusal is a 400 (404 for an unknown route) in the mock's `{"msg", "code", "params"}` envelope.
No API key is asked: the server listens on 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING, Any

import orjson

from iterable_sim.hosts import DATA_CENTERS
from iterable_sim.redact import mask

from iterable_sim.mock.backend import UserUpdate
from iterable_sim.mock.errors import ApiError, bad_params, batch_too_large, envelope
from iterable_sim.mock.journal import decoded_body
from iterable_sim.mock.schemas import refuse_invalid_body
from iterable_sim.mock.state import KeyType

if TYPE_CHECKING:
    from iterable_sim.mock.core import MockIterable, Snapshot

PREFIX = "/_mock/"
ROUTES = ("POST reset", "POST keys", "POST users", "GET state", "GET journal", "POST snapshot", "POST restore",
          "POST snapshot/drop")
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_SNAPSHOTS = 100  # each holds a deep copy of the whole state
API_KEY = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no spaces: what an api-key header carries whole
KEY_TYPES = tuple(kind.value for kind in KeyType)
USERS_UPDATE_PATH = "/api/users/update"


class _Snapshots:
    """One mock's control-route snapshots: the newest MAX_SNAPSHOTS, numbered from 1, a number never
    reused (so an old one cannot restore a newer state)."""

    def __init__(self) -> None:
        self.kept: dict[int, Snapshot] = {}  # oldest first
        self.made = 0

    def add(self, snapshot: Snapshot) -> int:
        self.made += 1
        self.kept[self.made] = snapshot
        while len(self.kept) > MAX_SNAPSHOTS:
            del self.kept[next(iter(self.kept))]
        return self.made

    def get(self, number: int) -> Snapshot:
        snapshot = self.kept.get(number)
        if snapshot is not None:
            return snapshot
        if 0 < number <= self.made:
            raise bad_params(f"snapshot {number} was dropped: only the newest {MAX_SNAPSHOTS} are kept, and "
                             "POST /_mock/snapshot/drop drops one")
        raise bad_params(f"no snapshot {number}: POST /_mock/snapshot makes one")

    def drop(self, number: int) -> None:
        self.get(number)
        del self.kept[number]


_SNAPSHOTS: weakref.WeakKeyDictionary[MockIterable, _Snapshots] = weakref.WeakKeyDictionary()


def answer(mock: MockIterable, method: str, route: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
    """(status, JSON body) of one control request; `route` is the path after /_mock/, as sent
    (`/_mock//reset` is no route)."""
    name = f"{method} {route}"
    if name not in ROUTES:
        return 404, envelope(f"no control route {name!r}", "NotFound", {"routes": list(ROUTES)})
    try:
        if len(body) > MAX_BODY_BYTES:
            raise batch_too_large("bytes", len(body), MAX_BODY_BYTES)
        return 200, _answer(mock, name, query, _json(body) if method == "POST" else {}, body)
    except ApiError as error:
        return error.status, error.body


def _answer(mock: MockIterable, name: str, query: dict[str, str], payload: dict[str, Any], body: bytes) -> Any:
    if name == "POST reset":
        mock.reset()
        return {"reset": True}
    if name == "POST keys":
        return _add_key(mock, payload)
    if name == "POST users":
        return {"users": _seed_users(mock, payload, body)}
    if name == "GET state":
        data_center = query.get("dataCenter")
        return mock.state(None if data_center is None else _data_center(data_center))
    if name == "GET journal":
        return {"journal": _journal(mock, query.get("limit"))}
    snapshots = _SNAPSHOTS.setdefault(mock, _Snapshots())
    if name == "POST snapshot":
        return {"snapshot": snapshots.add(mock.snapshot())}
    number = _snapshot_number(payload)
    if name == "POST restore":
        mock.restore(snapshots.get(number))
        return {"restored": number}
    snapshots.drop(number)
    return {"dropped": number}


def _json(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_params("the body is not JSON") from None
    if not isinstance(value, dict):
        raise bad_params("the body must be a JSON object")
    return value


def _snapshot_number(payload: dict[str, Any]) -> int:
    number = payload.get("snapshot")
    if not isinstance(number, int) or isinstance(number, bool):
        raise bad_params("'snapshot' must be a snapshot number, such as 1")
    return number


def _data_center(value: Any) -> str:
    if not isinstance(value, str) or value not in DATA_CENTERS:
        raise bad_params(f"unknown data center {value!r}; use 'US' or 'EU'")
    return value


def _add_key(mock: MockIterable, payload: dict[str, Any]) -> dict[str, str]:
    key = payload.get("key")
    if not isinstance(key, str) or API_KEY.fullmatch(key) is None:
        raise bad_params("'key' must be 1-256 printable ASCII characters without spaces")
    key_type = payload.get("keyType", "server_side")
    if not isinstance(key_type, str) or key_type not in KEY_TYPES:
        raise bad_params(f"'keyType' must be one of {', '.join(KEY_TYPES)}")
    centers = payload.get("dataCenter")
    if isinstance(centers, list) and centers:
        centers = [_data_center(center) for center in centers]
    elif centers is not None:
        centers = _data_center(centers)
    mock.add_api_key(key, key_type=key_type, data_center=centers)
    return {"key": mask(key)}


def _seed_users(mock: MockIterable, payload: dict[str, Any], body: bytes) -> list[dict[str, Any]]:
    users = payload.get("users")
    if not isinstance(users, list):
        raise bad_params("'users' must be a list of objects such as {\"email\": ..., \"dataFields\": {...}}")
    data_center = _data_center(payload.get("dataCenter", "US"))
    saved = mock.snapshot()  # all or nothing: one refused user undoes the ones before it
    try:
        return [_seed_one(mock, user, data_center, body) for user in users]
    except Exception:
        mock.restore(saved)
        raise


def _seed_one(mock: MockIterable, user: Any, data_center: str, body: bytes) -> dict[str, Any]:
    """POST users/update of `user` (its checks and answers), except that preferUserId defaults to
    true: a seeded user given only a userId is created."""
    refuse_invalid_body("POST users/update", USERS_UPDATE_PATH, body, user)
    update = UserUpdate.from_json(user, prefer_user_id=True)
    return mock.create_user(email=update.email, user_id=update.user_id, data_fields=update.data_fields,
                            prefer_user_id=update.prefer_user_id, merge_nested_objects=update.merge_nested_objects,
                            create_new_fields=update.create_new_fields, data_center=data_center)


def _journal(mock: MockIterable, limit: str | None) -> list[dict[str, Any]]:
    entries = list(mock.journal)
    if limit is not None:
        if re.fullmatch(r"[0-9]+", limit) is None:
            raise bad_params("limit must be a whole number")
        entries = entries[-int(limit):] if int(limit) else []
    return [{"seq": e.seq, "time": e.time, "dataCenter": e.data_center, "method": e.method, "url": e.url,
             "endpoint": e.endpoint, "apiKey": e.api_key, "status": e.status, "fault": e.fault,
             "request": decoded_body(e.request_body), "response": decoded_body(e.response_body)} for e in entries]
