"""MockIterable: the project state's owner, its Python set-up and lifecycle calls, and `handle`,
the one entry point both adapters (the httpx transport, the HTTP server) call.

A request goes: route → fault injection → key → rate limit → body → a handler in responses.py,
which calls a Backend operation (backend.py). The Python set-up calls (`create_user`,
`track_event`, ...) call the same operations, so they make the same state and raise the same
`ApiError`s as the same calls over HTTP.
"""
from __future__ import annotations

import contextlib
import copy
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar
from urllib.parse import parse_qsl, urlsplit

import orjson

from iterable_sim.clock import Clock, SystemClock
from iterable_sim.hosts import DATA_CENTERS, HOSTS, data_center_of
from iterable_sim.mock import control, frames
from iterable_sim.mock.backend import Backend, Device, TrackedEvent, TrackedPurchase, UserUpdate
from iterable_sim.mock.errors import ApiError, MockSetupError, PlainText, action_not_found, bad_api_key, bad_json_body, batch_too_large, generic_error, \
    insufficient_privileges, rate_limited
from iterable_sim.mock.faults import Fault, Faults
from iterable_sim.mock.journal import Journal
from iterable_sim.mock.options import MockOptions
from iterable_sim.mock.ratelimit import RateLimiter
from iterable_sim.mock.contract import AddressedRequest, KeyHolder, MockResponse
from iterable_sim.mock.responses import HandlerCall, Handler, project_json, user_json, user_view
from iterable_sim.mock.urls import ROUTES
from iterable_sim.mock.schemas import refuse_invalid_body, refuse_invalid_query, request_checks
from iterable_sim.mock.state import PROJECT_TYPES, ApiKey, KeyType, Project

if TYPE_CHECKING:
    import pandas as pd

    from iterable_sim.mock.transport import MockIterableTransport

JSON_HEADERS = {"content-type": "application/json"}
MOBILE_ENDPOINTS = frozenset({
    "POST users/registerDeviceToken", "POST users/update", "POST users/updateEmail", "POST commerce/trackPurchase",
    "POST commerce/updateCart", "POST events/track"})
JAVASCRIPT_ENDPOINTS = MOBILE_ENDPOINTS | {"POST users/registerBrowserToken"}
PROJECT_IDS = {"US": 10001, "EU": 20001}
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The mock's whole state at one moment (`mock.snapshot()`), to go back to with `mock.restore()`."""

    projects: dict[str, Project]
    keys: dict[str, ApiKey]
    rng_state: Any
    faults: Faults
    rate_limiter: RateLimiter | None
    journal: Journal


def _encoded(payload: Any) -> bytes:
    """A handler's or an error's body as bytes: JSON, or text as it is (`PlainText`)."""
    return payload.encode() if isinstance(payload, PlainText) else orjson.dumps(payload)


def _checked(data_center: str) -> str:
    if data_center not in DATA_CENTERS:
        raise MockSetupError(f"unknown data center {data_center!r}; use 'US' or 'EU'")
    return data_center


_CHECKS = request_checks()


class MockIterable:
    """A stateful simulator of Iterable's REST API: one project per data center (US, EU).

    >>> mock = MockIterable(project_type="hybrid", clock=ManualClock())
    >>> mock.add_api_key("KEY")
    >>> client = httpx.Client(transport=mock.transport())
    """

    def __init__(self, project_type: str = "hybrid", *, rate_limits: bool | Mapping[str, float | None] = True,
                 clock: Clock | None = None, seed: int | None = 0, options: MockOptions | None = None,
                 journal_limit: int | None = None, event_limit: int | None = None) -> None:
        """`rate_limits`: True for Iterable's documented rates, False for none, or a mapping of
        "METHOD endpoint" -> requests/second (None removes one) over the documented ones.
        `clock`: what time is (default the real clock; pass a ManualClock for tests).
        `seed`: seeds generated ids and fault draws. `journal_limit`: keep only the last N journal
        entries; `event_limit`: keep only the newest N events and N purchases per project (for long runs)."""
        if project_type not in PROJECT_TYPES:
            raise MockSetupError(f"project_type must be one of {PROJECT_TYPES}, not {project_type!r}")
        self.project_type = project_type
        self.options = options or MockOptions()
        self.clock: Clock = clock or SystemClock()
        self.event_limit = event_limit
        self._seed = seed
        self._rate_limits = rate_limits
        self._keys: dict[str, ApiKey] = {}
        self._lock = threading.RLock()
        self.journal = Journal(journal_limit)
        self._fresh_state()

    def _fresh_state(self) -> None:
        self.faults = Faults(self._seed)
        self.projects = {dc: Project(PROJECT_IDS[dc], self.project_type, dc) for dc in DATA_CENTERS}
        self._rate_limiter = None if self._rate_limits is False else RateLimiter(
            None if self._rate_limits is True else self._rate_limits, self.options.rate_limit_burst_seconds)
        self._rng = random.Random(self._seed)

    # ---- keys ------------------------------------------------------------------------------------

    def add_api_key(self, key: str, *, deny: Iterable[str] = (), key_type: str | KeyType = "server_side",
                    data_center: str | Iterable[str] | None = None) -> ApiKey:
        """Make `key` valid: in `data_center` ("US", "EU", or both when None), with Iterable's
        restrictions for `key_type` (server_side, mobile, javascript, read_only), and refused on the
        `deny` endpoints (such as "users/registerDeviceToken")."""
        centers = DATA_CENTERS if data_center is None else \
            ((data_center,) if isinstance(data_center, str) else tuple(data_center))
        unknown = set(centers) - set(DATA_CENTERS)
        if unknown:
            raise MockSetupError(f"unknown data center(s) {sorted(unknown)}; use 'US' or 'EU'")
        api_key = ApiKey(key, KeyType(key_type), frozenset(centers),
                         frozenset(d.split("/api/", 1)[-1].strip("/") for d in deny))
        with self._lock:
            self._keys[key] = api_key
        return api_key

    def accept_keys_of(self, settings: KeyHolder) -> None:
        """Accept the API key and the device/browser key the settings hold, as their project would."""
        for key in (settings.api_key, settings.register_device_or_browser_api_key):
            if isinstance(key, str) and key:
                self.add_api_key(key)

    # ---- set-up: the backend's operations, from Python -------------------------------------------

    def _apply(self, data_center: str, operation: Callable[[Backend], T]) -> T:
        """Run one backend operation on a project, as a request would (same clock, ids, rules)."""
        _checked(data_center)
        with self._lock:
            return operation(self._backend(data_center, self.clock.now()))

    def _backend(self, data_center: str, now: float) -> Backend:
        return Backend(self.projects[data_center], self.options, now, self._rng, self.event_limit)

    def create_user(self, *, email: str | None = None, user_id: str | None = None,
                    data_fields: Mapping[str, Any] | None = None, prefer_user_id: bool = True,
                    merge_nested_objects: bool = False, create_new_fields: bool | None = None,
                    data_center: str = "US") -> dict[str, Any]:
        """Upsert a user exactly as POST users/update would (identity rules, field types, merge), and
        return its profile; a request Iterable refuses raises that `ApiError` (a ValueError)."""
        update = UserUpdate(email, user_id, data_fields, prefer_user_id, merge_nested_objects, create_new_fields)
        return self._apply(data_center, lambda backend: user_json(backend.upsert_user(update)))

    def update_email(self, new_email: str, *, email: str | None = None, user_id: str | None = None,
                     data_center: str = "US") -> None:
        """POST users/updateEmail: move the user found by `email` (or `user_id`) to `new_email`."""
        self._apply(data_center, lambda backend: backend.update_email(
            current_email=email, current_user_id=user_id, new_email=new_email))

    def register_device_token(self, token: str, *, platform: str = "GCM", application_name: str = "app",
                              email: str | None = None, user_id: str | None = None,
                              data_fields: Mapping[str, Any] | None = None, prefer_user_id: bool = False,
                              data_center: str = "US") -> None:
        """POST users/registerDeviceToken."""
        device = Device(token, platform, application_name, data_fields)
        self._apply(data_center, lambda backend: backend.register_device_token(
            UserUpdate(email, user_id, prefer_user_id=prefer_user_id), device))

    def register_browser_token(self, token: str, *, email: str | None = None, user_id: str | None = None,
                               data_center: str = "US") -> None:
        """POST users/registerBrowserToken."""
        self._apply(data_center, lambda backend: backend.register_browser_token(UserUpdate(email, user_id), token))

    def forget_user(self, *, email: str | None = None, user_id: str | None = None, data_center: str = "US") -> None:
        """POST users/forget: delete the user and block the identifier."""
        self._apply(data_center, lambda backend: backend.forget_user(email=email, user_id=user_id))

    def track_event(self, event_name: str, *, email: str | None = None, user_id: str | None = None,
                    id: str | None = None, created_at: int | float | None = None,
                    data_fields: Mapping[str, Any] | None = None, campaign_id: int | None = None,
                    template_id: int | None = None, data_center: str = "US") -> str | None:
        """POST events/track; the event's id, or None when `event_name` is disallowed."""
        event = TrackedEvent(event_name, email, user_id, id, created_at, data_fields, campaign_id, template_id)
        return self._apply(data_center, lambda backend: backend.track_event(event))

    def track_purchase(self, items: Sequence[Mapping[str, Any]], total: float, *, email: str | None = None,
                       user_id: str | None = None, id: str | None = None, created_at: int | float | None = None,
                       data_fields: Mapping[str, Any] | None = None, data_center: str = "US") -> str:
        """POST commerce/trackPurchase; the purchase's id."""
        purchase = TrackedPurchase(UserUpdate(email, user_id), items, total, id, created_at, data_fields)
        return self._apply(data_center, lambda backend: backend.track_purchase(purchase))

    def update_cart(self, items: Sequence[Mapping[str, Any]], *, email: str | None = None,
                    user_id: str | None = None, data_center: str = "US") -> None:
        """POST commerce/updateCart."""
        self._apply(data_center, lambda backend: backend.update_cart(UserUpdate(email, user_id), items))

    def create_catalog(self, name: str, data_center: str = "US") -> None:
        """POST catalogs/{name}."""
        self._apply(data_center, lambda backend: backend.create_catalog(name))

    def add_catalog_items(self, catalog: str, documents: Mapping[str, Mapping[str, Any]], *,
                          replace_uploaded_fields_only: bool = False, data_center: str = "US") -> None:
        """POST catalogs/{name}/items."""
        self._apply(data_center, lambda backend: backend.upsert_catalog_items(
            catalog, documents, replace_uploaded_fields_only=replace_uploaded_fields_only))

    def create_catalogs_for(self, requests: Iterable[AddressedRequest]) -> None:
        """Create each catalog these requests write items to, in its data center, unless it exists:
        Iterable refuses items for a catalog that does not."""
        for request in requests:
            parts = request.endpoint.split("/")
            if len(parts) == 3 and parts[0] == "catalogs" and parts[2] == "items":
                project = self.projects[data_center_of(request.url)]
                if parts[1].lower() not in project.catalogs:
                    self.create_catalog(parts[1], data_center=project.data_center)

    def disallow_event(self, event_name: str, data_center: str | None = None) -> None:
        """Deactivate an event name: tracking it answers "... is disallowed from tracking"."""
        with self._lock:
            for dc in DATA_CENTERS if data_center is None else (data_center,):
                self.projects[_checked(dc)].disallowed_events.add(event_name)

    def get_user(self, *, email: str | None = None, user_id: str | None = None,
                 data_center: str = "US") -> dict[str, Any] | None:
        """A user's profile as GET users/... shows it, or None."""
        project = self.projects[_checked(data_center)]
        with self._lock:
            user = project.user_by_email(email) if email else project.user_by_user_id(user_id or "")
            return user_view(user).get("user")

    # ---- lifecycle -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty the mock: users, events, purchases, catalogs, field types, forgotten and disallowed
        identifiers, the journal, rate-limit buckets and faults; generated ids start over. API keys,
        options and the clock stay: they are set-up, not state."""
        with self._lock:
            self._fresh_state()
            self.journal.clear()

    def snapshot(self) -> Snapshot:
        """The whole state now (everything `reset` empties, and the API keys): `restore` it later."""
        with self._lock:
            return Snapshot(copy.deepcopy(self.projects), dict(self._keys), self._rng.getstate(),
                            copy.deepcopy(self.faults), copy.deepcopy(self._rate_limiter), self.journal.copy())

    def restore(self, snapshot: Snapshot) -> None:
        """Go back to `snapshot` (it stays usable: restore it again as often as needed)."""
        with self._lock:
            self.projects = copy.deepcopy(snapshot.projects)
            self._keys = dict(snapshot.keys)
            self._rng.setstate(snapshot.rng_state)
            self.faults = copy.deepcopy(snapshot.faults)
            self._rate_limiter = copy.deepcopy(snapshot.rate_limiter)
            self.journal = snapshot.journal.copy()

    @contextlib.contextmanager
    def rolled_back(self) -> Iterator[MockIterable]:
        """`with mock.rolled_back():` — whatever happens inside is undone on the way out."""
        saved = self.snapshot()
        try:
            yield self
        finally:
            self.restore(saved)

    def reset_rate_limits(self) -> None:
        with self._lock:
            if self._rate_limiter is not None:
                self._rate_limiter.reset()

    def state(self, data_center: str | None = None) -> dict[str, Any]:
        """The state as plain JSON-able data, per data center: users (as GET users/... shows them),
        events, purchases, catalogs, field types. What the control route GET /_mock/state answers."""
        with self._lock:
            return {p.data_center: project_json(p) for p in self._projects(data_center)}

    # ---- the entry point -------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes = b"",
               *, client: str = "127.0.0.1", default_data_center: str = "US") -> MockResponse:
        """Answer one HTTP request as Iterable would, and journal it.

        `url` is absolute; its host picks the data center (api.eu.iterable.com is EU, any other host
        `default_data_center`). Both adapters (the httpx transport and the HTTP server) call this.
        Paths under /_mock/ are the control routes (control.py), never journaled."""
        method = method.upper()
        parts = urlsplit(url)
        raw_path = parts.path
        query = dict(parse_qsl(parts.query)) if parts.query else {}
        if raw_path.startswith(control.PREFIX):
            status, payload = control.answer(self, method, raw_path[len(control.PREFIX):], query, body)
            return MockResponse(status, dict(JSON_HEADERS), orjson.dumps(payload))
        data_center = HOSTS.get(parts.hostname or "", default_data_center)
        path = raw_path[5:] if raw_path.startswith("/api/") else None
        route = ROUTES.match(method, path) if path is not None else None
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        key = lowered.get("api-key") or lowered.get("api_key")
        if key is None and self.options.accept_query_api_key:
            key = query.get("api_key")
        template = route[0] if route else None
        with self._lock:
            now = self.clock.now()
            injection = self.faults.decide(template or raw_path, now)
            failure = injection.failure if injection else None
            if failure is not None:
                response = self._fault_response(failure)
            elif route is None:
                response = MockResponse(404, {"content-type": "text/html; charset=utf-8"},
                                        action_not_found(method, raw_path))
            else:
                status, extra, payload = self._dispatch(method, route, data_center, raw_path, query, key, body,
                                                        client, now)
                response = MockResponse(status, {**JSON_HEADERS, **extra}, _encoded(payload))
            if injection:
                response.delay = injection.delay
            self.journal.record(time=now, data_center=data_center, method=method, url=url, endpoint=template,
                                api_key=key, headers=lowered, body=body,
                                status=None if response.dropped else response.status,
                                response_body=response.body, fault=response.fault, latency=response.delay)
        return response

    def _fault_response(self, fault: Fault) -> MockResponse:
        if fault.kind == "drop":
            return MockResponse(0, {}, b"", dropped=True, fault="drop")
        error = rate_limited(self.options.retry_after_seconds) if fault.kind == "429" else generic_error(fault.status)
        return MockResponse(error.status, {**JSON_HEADERS, **error.headers}, orjson.dumps(error.body),
                            fault=fault.kind)

    def _dispatch(self, method: str, route: tuple[str, Handler, tuple[str, ...]], data_center: str, raw_path: str,
                  query: dict[str, str], key: str | None, body: bytes, client: str,
                  now: float) -> tuple[int, dict[str, str], Any]:
        template, handler, path_params = route
        endpoint = f"{method} {template}"
        try:
            self._authorize(key, data_center, method, template, endpoint, raw_path, client)
            if self._rate_limiter is not None and not self._rate_limiter.admit(endpoint, data_center, key or "", now):
                raise rate_limited(self.options.retry_after_seconds)
            parsed = None
            if endpoint in _CHECKS:
                parsed = self._parse(body, raw_path)
                refuse_invalid_body(endpoint, raw_path, body, parsed)
            refuse_invalid_query(endpoint, query)
            status, payload = handler(HandlerCall(self._backend(data_center, now), parsed, path_params, query))
            return status, {}, payload
        except ApiError as error:
            return error.status, error.headers, error.body

    def _parse(self, body: bytes, raw_path: str) -> Any:
        if len(body) > self.options.max_body_bytes:
            raise batch_too_large("bytes", len(body), self.options.max_body_bytes)
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise bad_json_body(raw_path) from None
        return value

    def _authorize(self, key: str | None, data_center: str, method: str, template: str, endpoint: str,
                   raw_path: str, client: str) -> None:
        api_key = self._keys.get(key) if key is not None else None
        if api_key is None or data_center not in api_key.data_centers:
            raise bad_api_key(client, raw_path)
        kind = api_key.key_type
        allowed = (kind is KeyType.SERVER_SIDE or (kind is KeyType.READ_ONLY and method == "GET")
                   or (kind is KeyType.MOBILE and endpoint in MOBILE_ENDPOINTS)
                   or (kind is KeyType.JAVASCRIPT and endpoint in JAVASCRIPT_ENDPOINTS))
        if not allowed or template in api_key.denied or endpoint in api_key.denied:
            raise insufficient_privileges(client, raw_path, api_key.identifier, kind.label)

    # ---- adapters --------------------------------------------------------------------------------

    def transport(self) -> MockIterableTransport:
        """An httpx transport (sync and async) that sends requests to this mock in-process."""
        from iterable_sim.mock.transport import MockIterableTransport
        return MockIterableTransport(self)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0, *, default_data_center: str = "US") -> Iterator[str]:
        """Serve the mock over real HTTP in a background thread; yields its base URL.
        Requests whose Host header is api.eu.iterable.com reach the EU project."""
        from iterable_sim.mock.server import BackgroundServer
        with BackgroundServer(self, host, port, default_data_center=default_data_center) as url:
            yield url

    # ---- state as DataFrames ---------------------------------------------------------------------

    def users_frame(self, data_center: str | None = None) -> pd.DataFrame:
        """One row per user: data_center, email, userId, signup and update times, dataFields."""
        with self._lock:
            return frames.users(self._projects(data_center))

    def events_frame(self, data_center: str | None = None) -> pd.DataFrame:
        """Custom events and updateCart events, with the current email/userId of their user."""
        with self._lock:
            return frames.events(self._projects(data_center))

    def purchases_frame(self, data_center: str | None = None) -> pd.DataFrame:
        with self._lock:
            return frames.purchases(self._projects(data_center))

    def carts_frame(self, data_center: str | None = None) -> pd.DataFrame:
        """One row per item in a user's shoppingCartItems."""
        with self._lock:
            return frames.carts(self._projects(data_center))

    def devices_frame(self, data_center: str | None = None) -> pd.DataFrame:
        """Push devices (APNS, APNS_SANDBOX, GCM) and browser tokens, one row each."""
        with self._lock:
            return frames.devices(self._projects(data_center))

    def catalog_items_frame(self, data_center: str | None = None) -> pd.DataFrame:
        with self._lock:
            return frames.catalog_items(self._projects(data_center))

    def journal_frame(self) -> pd.DataFrame:
        """Every request and answer, with API keys masked."""
        with self._lock:
            entries = list(self.journal)
        return frames.journal(entries)

    def _projects(self, data_center: str | None) -> list[Project]:
        if data_center is None:
            return list(self.projects.values())
        return [self.projects[_checked(data_center)]]

    def __repr__(self) -> str:
        users = {dc: len(p.users) for dc, p in self.projects.items()}
        return f"MockIterable(project_type={self.project_type!r}, users={users}, clock={self.clock!r})"
