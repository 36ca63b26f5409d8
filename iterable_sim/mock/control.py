"""Control routes: reset, seed, snapshot and inspect a mock from outside its process (moto server's
`/moto-api/`), under /_mock/, a prefix Iterable never uses (its API is all under /api/).

    POST /_mock/reset                  empty the state (API keys stay)               -> {"reset": true}
    POST /_mock/keys                   {"key", "keyType"?, "dataCenter"?}            -> {"key": masked}
    POST /_mock/users                  {"users": [{email, userId, dataFields, preferUserId?,
                                        mergeNestedObjects?}], "dataCenter"?: "US"}  -> {"users": [profiles]}
    GET  /_mock/state[?dataCenter=EU]  users, events, purchases, catalogs, field types as JSON
    GET  /_mock/journal[?limit=N]      the last N journaled requests (keys masked)
    POST /_mock/snapshot               -> {"snapshot": id}
    POST /_mock/restore                {"snapshot": id}                              -> {"restored": id}

Seeding goes through the same backend operation as POST /api/users/update, so it refuses what
Iterable would (same status and body), and seeds all the users or none. No API key is asked: the
server listens on 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import orjson

from iterable_sim.redact import mask

from iterable_sim.mock.errors import ApiError, bad_params
from iterable_sim.mock.journal import decoded_body

if TYPE_CHECKING:
    from iterable_sim.mock.core import MockIterable, Snapshot

PREFIX = "/_mock/"
ROUTES = ("POST reset", "POST keys", "POST users", "GET state", "GET journal", "POST snapshot", "POST restore")
_SNAPSHOTS: weakref.WeakKeyDictionary[MockIterable, dict[int, Snapshot]] = weakref.WeakKeyDictionary()


def answer(mock: MockIterable, method: str, route: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
    """(status, JSON body) of one control request; `route` is the path after /_mock/."""
    name = f"{method} {route.strip('/')}"
    if name not in ROUTES:
        return 404, {"msg": f"no control route {name!r}", "routes": list(ROUTES)}
    try:
        payload = _json(body) if method == "POST" else {}
        if name == "POST reset":
            mock.reset()
            return 200, {"reset": True}
        if name == "POST keys":
            key = _field(payload, "key", str)
            mock.add_api_key(key, key_type=payload.get("keyType", "server_side"),
                             data_center=payload.get("dataCenter"))
            return 200, {"key": mask(key)}
        if name == "POST users":
            return 200, {"users": _seed_users(mock, payload)}
        if name == "GET state":
            return 200, mock.state(query.get("dataCenter"))
        if name == "GET journal":
            return 200, {"journal": _journal(mock, query.get("limit"))}
        if name == "POST snapshot":
            saved = _SNAPSHOTS.setdefault(mock, {})
            number = max(saved, default=0) + 1
            saved[number] = mock.snapshot()
            return 200, {"snapshot": number}
        number = _field(payload, "snapshot", int)
        snapshot = _SNAPSHOTS.get(mock, {}).get(number)
        if snapshot is None:
            raise bad_params(f"no snapshot {number}: POST /_mock/snapshot makes one")
        mock.restore(snapshot)
        return 200, {"restored": number}
    except ApiError as error:
        return error.status, error.body
    except (KeyError, ValueError) as error:  # an unknown data center or key type
        refused = bad_params(str(error.args[0]) if error.args else repr(error))
        return refused.status, refused.body


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


def _field(payload: dict[str, Any], name: str, kind: type) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise bad_params(f"{name!r} must be a {kind.__name__}")
    return value


def _seed_users(mock: MockIterable, payload: dict[str, Any]) -> list[dict[str, Any]]:
    users = payload.get("users")
    if not isinstance(users, list) or not all(isinstance(user, dict) for user in users):
        raise bad_params("'users' must be a list of objects such as {\"email\": ..., \"dataFields\": {...}}")
    data_center = payload.get("dataCenter", "US")
    saved = mock.snapshot()  # all or nothing: one refused user undoes the ones before it
    try:
        return [_seed_one(mock, user, data_center) for user in users]
    except Exception:
        mock.restore(saved)
        raise


def _seed_one(mock: MockIterable, user: dict[str, Any], data_center: str) -> dict[str, Any]:
    return mock.create_user(email=user.get("email"), user_id=user.get("userId"), data_fields=user.get("dataFields"),
                            prefer_user_id=bool(user.get("preferUserId", True)),
                            merge_nested_objects=bool(user.get("mergeNestedObjects")), data_center=data_center)


def _journal(mock: MockIterable, limit: str | None) -> list[dict[str, Any]]:
    entries = list(mock.journal)
    if limit is not None:
        if not limit.isdigit():
            raise bad_params("limit must be a whole number")
        entries = entries[-int(limit):] if int(limit) else []
    return [{"seq": e.seq, "time": e.time, "dataCenter": e.data_center, "method": e.method, "url": e.url,
             "endpoint": e.endpoint, "apiKey": e.api_key, "status": e.status, "fault": e.fault,
             "request": decoded_body(e.request_body), "response": decoded_body(e.response_body)} for e in entries]

