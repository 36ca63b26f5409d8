"""MockIterable: the state, rules and one entry point, `handle`, that both adapters call."""
from __future__ import annotations

import contextlib
from html import escape
import random
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from . import frames
from iterable_sim.clock import Clock, SystemClock
from iterable_sim.settings import data_center_of
from .endpoints import HANDLERS, Call, Handler, create_catalog, placeholder_email, user_view
from .errors import ApiError, envelope, rate_limited
from .faults import Fault, Faults
from .identity import IdentityError, check_identifiers, resolve_for_write
from .journal import Journal
from .options import MockOptions
from .ratelimit import RateLimiter
from .schemas import request_checks
from .state import DATA_CENTERS, HOSTS, PROJECT_TYPES, ApiKey, KeyType, Project
from .validation import MAX_DEPTH, too_deep, validate

if TYPE_CHECKING:
    import pandas as pd

    from iterable_sim.request import Request
    from iterable_sim.settings import Settings

    from .transport import MockIterableTransport

JSON_HEADERS = {"content-type": "application/json"}
MOBILE_ENDPOINTS = frozenset({
    "POST users/registerDeviceToken", "POST users/update", "POST users/updateEmail", "POST commerce/trackPurchase",
    "POST commerce/updateCart", "POST events/track"})
JAVASCRIPT_ENDPOINTS = MOBILE_ENDPOINTS | {"POST users/registerBrowserToken"}
PROJECT_IDS = {"US": 10001, "EU": 20001}
_TEMPLATE_PARAM = re.compile(r"\{[^/]+\}")


@dataclass(slots=True)
class MockResponse:
    """What the mock answers. `dropped` means the connection closes with no answer at all;
    `delay` is injected latency the adapter waits on the mock's clock before answering."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0
    dropped: bool = False
    fault: str | None = field(default=None, repr=False)

    def json(self) -> Any:
        return orjson.loads(self.body)


def _not_found_page(method: str, path: str) -> bytes:
    """Iterable's router answers an unknown path with Play's HTML "Action not found" page."""
    return (f"<!DOCTYPE html><html><head><title>Action not found</title></head><body><h1>Action not found</h1>"
            f"<p>For request '{escape(method)} {escape(path)}'</p></body></html>").encode()


class _Router:
    def __init__(self, handlers: Mapping[tuple[str, str], Handler]) -> None:
        self.exact: dict[tuple[str, str], tuple[str, Handler]] = {}
        self.patterns: list[tuple[str, re.Pattern[str], str, Handler]] = []
        for (method, template), handler in handlers.items():
            if "{" in template:
                regex = re.compile("^" + _TEMPLATE_PARAM.sub("([^/]+)", template) + "$")
                self.patterns.append((method, regex, template, handler))
            else:
                self.exact[(method, template)] = (template, handler)

    def match(self, method: str, path: str) -> tuple[str, Handler, tuple[str, ...]] | None:
        found = self.exact.get((method, path))
        if found is not None:
            return found[0], found[1], ()
        for route_method, regex, template, handler in self.patterns:
            if route_method == method:
                m = regex.match(path)
                if m is not None:
                    return template, handler, tuple(unquote(p) for p in m.groups())
        return None


_ROUTER = _Router(HANDLERS)
_CHECKS = request_checks()


class MockIterable:
    """A stateful simulator of Iterable's REST API: one project per data center (US, EU).

    >>> mock = MockIterable(project_type="hybrid", clock=ManualClock())
    >>> mock.add_api_key("KEY")
    >>> client = httpx.Client(transport=mock.transport())
    """

    def __init__(self, project_type: str = "hybrid", *, rate_limits: bool | Mapping[str, float | None] = True,
                 clock: Clock | None = None, seed: int | None = 0, options: MockOptions | None = None,
                 journal_limit: int | None = None) -> None:
        """`rate_limits`: True for Iterable's documented rates, False for none, or a mapping of
        "METHOD endpoint" -> requests/second (None removes one) over the documented ones.
        `clock`: what time is (default the real clock; pass a ManualClock for tests).
        `seed`: seeds generated ids and fault draws. `journal_limit`: keep only the last N entries."""
        if project_type not in PROJECT_TYPES:
            raise ValueError(f"project_type must be one of {PROJECT_TYPES}, not {project_type!r}")
        self.project_type = project_type
        self.options = options or MockOptions()
        self.clock: Clock = clock or SystemClock()
        self.faults = Faults(seed)
        self.journal = Journal(journal_limit)
        self.projects = {dc: Project(PROJECT_IDS[dc], project_type, dc) for dc in DATA_CENTERS}
        self._rate_limiter = None if rate_limits is False else RateLimiter(
            None if rate_limits is True else rate_limits, self.options.rate_limit_burst_seconds)
        self._keys: dict[str, ApiKey] = {}
        self._rng = random.Random(seed)
        self._lock = threading.RLock()

    # ---- set-up ----------------------------------------------------------------------------------

    def add_api_key(self, key: str, *, deny: Iterable[str] = (), key_type: str | KeyType = "server_side",
                    data_center: str | Iterable[str] | None = None) -> ApiKey:
        """Make `key` valid: in `data_center` ("US", "EU", or both when None), with Iterable's
        restrictions for `key_type` (server_side, mobile, javascript, read_only), and refused on the
        `deny` endpoints (such as "users/registerDeviceToken")."""
        centers = DATA_CENTERS if data_center is None else \
            ((data_center,) if isinstance(data_center, str) else tuple(data_center))
        unknown = set(centers) - set(DATA_CENTERS)
        if unknown:
            raise ValueError(f"unknown data center(s) {sorted(unknown)}; use 'US' or 'EU'")
        api_key = ApiKey(key, KeyType(key_type), frozenset(centers),
                         frozenset(d.split("/api/", 1)[-1].strip("/") for d in deny))
        with self._lock:
            self._keys[key] = api_key
        return api_key

    def create_user(self, *, email: str | None = None, user_id: str | None = None,
                    data_fields: Mapping[str, Any] | None = None, data_center: str = "US") -> dict[str, Any]:
        """Put a user in the project as users/update would, and return its profile."""
        project = self.projects[data_center]
        with self._lock:
            try:
                check_identifiers(project, email, user_id)
                user = resolve_for_write(project, email, user_id, now=self.clock.now(), prefer_user_id=True,
                                         placeholder=lambda: placeholder_email(self._rng))
            except IdentityError as error:
                raise ValueError(f"cannot create user: {error.reason} {error.field} {error.value!r}") from None
            user.data_fields.update(data_fields or {})
            return user_view(user)["user"]

    def accept_keys_of(self, settings: Settings) -> None:
        """Accept the API key and the device/browser key the settings hold, as their project would."""
        for key in (settings.api_key, settings.register_device_or_browser_api_key):
            if isinstance(key, str) and key:
                self.add_api_key(key)

    def create_catalogs_for(self, requests: Iterable[Request]) -> None:
        """Create each catalog these requests write items to, in its data center, unless it exists:
        Iterable refuses items for a catalog that does not."""
        for request in requests:
            parts = request.endpoint.split("/")
            if len(parts) == 3 and parts[0] == "catalogs" and parts[2] == "items":
                project = self.projects[data_center_of(request.url)]
                if parts[1].lower() not in project.catalogs:
                    self.create_catalog(parts[1], data_center=project.data_center)

    def create_catalog(self, name: str, data_center: str = "US") -> None:
        with self._lock:
            try:
                create_catalog(self.projects[data_center], name)
            except ApiError as error:
                raise ValueError(str(error)) from None

    def disallow_event(self, event_name: str, data_center: str | None = None) -> None:
        """Deactivate an event name: tracking it answers "... is disallowed from tracking"."""
        with self._lock:
            for dc in DATA_CENTERS if data_center is None else (data_center,):
                self.projects[dc].disallowed_events.add(event_name)

    def get_user(self, *, email: str | None = None, user_id: str | None = None,
                 data_center: str = "US") -> dict[str, Any] | None:
        """A user's profile as GET users/... shows it, or None."""
        project = self.projects[data_center]
        with self._lock:
            user = project.user_by_email(email) if email else project.user_by_user_id(user_id or "")
            return user_view(user).get("user")

    def reset_rate_limits(self) -> None:
        with self._lock:
            if self._rate_limiter is not None:
                self._rate_limiter.reset()

    # ---- the entry point -------------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes = b"",
               *, client: str = "127.0.0.1", default_data_center: str = "US") -> MockResponse:
        """Answer one HTTP request as Iterable would, and journal it.

        `url` is absolute; its host picks the data center (api.eu.iterable.com is EU, any other host
        `default_data_center`). Both adapters (the httpx transport and the HTTP server) call this."""
        method = method.upper()
        parts = urlsplit(url)
        data_center = HOSTS.get(parts.hostname or "", default_data_center)
        raw_path = parts.path
        path = raw_path[5:] if raw_path.startswith("/api/") else None
        route = _ROUTER.match(method, path) if path is not None else None
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        query = dict(parse_qsl(parts.query)) if parts.query else {}
        key = lowered.get("api-key") or lowered.get("api_key")
        if key is None and self.options.accept_query_api_key:
            key = query.get("api_key")
        template = route[0] if route else None
        with self._lock:
            now = self.clock.now()
            injection = self.faults.decide(template or raw_path)
            failure = injection.failure if injection else None
            if failure is not None:
                response = self._fault_response(failure)
            elif route is None:
                response = MockResponse(404, {"content-type": "text/html; charset=utf-8"},
                                        _not_found_page(method, raw_path))
            else:
                status, extra, payload = self._dispatch(method, route, data_center, raw_path, query, key, body,
                                                        client, now)
                response = MockResponse(status, {**JSON_HEADERS, **extra}, orjson.dumps(payload))
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
        if fault.kind == "429":
            error = rate_limited(self.options.retry_after_seconds)
            return MockResponse(429, {**JSON_HEADERS, **error.headers}, orjson.dumps(error.body), fault="429")
        body = envelope("An error occurred. Please try again later.", "GenericError")
        return MockResponse(fault.status, dict(JSON_HEADERS), orjson.dumps(body), fault="5xx")

    def _dispatch(self, method: str, route: tuple[str, Handler, tuple[str, ...]], data_center: str, raw_path: str,
                  query: dict[str, str], key: str | None, body: bytes, client: str,
                  now: float) -> tuple[int, dict[str, str], Any]:
        template, handler, path_params = route
        endpoint = f"{method} {template}"
        try:
            self._authorize(key, data_center, method, template, endpoint, raw_path, client)
            if self._rate_limiter is not None and not self._rate_limiter.admit(endpoint, data_center, key or "", now):
                raise rate_limited(self.options.retry_after_seconds)
            check = _CHECKS.get(endpoint)
            parsed = None
            if check is not None:
                parsed = self._parse(body, raw_path)
                problems = validate(check, parsed)
                if problems:
                    raise ApiError(400, "BadJsonBody", f"[{raw_path}] Invalid JSON body", problems)
            call = Call(self.projects[data_center], self.options, now, self._rng, parsed, path_params, query)
            status, payload = handler(call)
            return status, {}, payload
        except ApiError as error:
            return error.status, error.headers, error.body

    def _parse(self, body: bytes, raw_path: str) -> Any:
        if len(body) > self.options.max_body_bytes:
            raise ApiError(400, "BatchTooLarge",
                           f"Request body is {len(body)} bytes; the limit is {self.options.max_body_bytes}")
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise ApiError(400, "BadJsonBody", f"[{raw_path}] Invalid JSON body") from None
        if too_deep(body, value):
            raise ApiError(400, "BadJsonBody", f"[{raw_path}] Invalid JSON body",
                           {"obj": f"Nested more than {MAX_DEPTH} levels deep"})
        return value

    def _authorize(self, key: str | None, data_center: str, method: str, template: str, endpoint: str,
                   raw_path: str, client: str) -> None:
        api_key = self._keys.get(key) if key is not None else None
        if api_key is None or data_center not in api_key.data_centers:
            raise ApiError(401, "BadApiKey", "Invalid API key", {"ip": client, "endpoint": raw_path})
        kind = api_key.key_type
        allowed = (kind is KeyType.SERVER_SIDE or (kind is KeyType.READ_ONLY and method == "GET")
                   or (kind is KeyType.MOBILE and endpoint in MOBILE_ENDPOINTS)
                   or (kind is KeyType.JAVASCRIPT and endpoint in JAVASCRIPT_ENDPOINTS))
        if not allowed or template in api_key.denied or endpoint in api_key.denied:
            raise ApiError(401, "BadApiKey", "Disabled API key or insufficient privileges",
                           {"ip": client, "endpoint": raw_path, "apiKeyIdentifier": api_key.identifier,
                            "apiKeyType": kind.label})

    # ---- adapters --------------------------------------------------------------------------------

    def transport(self) -> MockIterableTransport:
        """An httpx transport (sync and async) that sends requests to this mock in-process."""
        from .transport import MockIterableTransport
        return MockIterableTransport(self)

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0, *, default_data_center: str = "US") -> Iterator[str]:
        """Serve the mock over real HTTP in a background thread; yields its base URL.
        Requests whose Host header is api.eu.iterable.com reach the EU project."""
        from .server import BackgroundServer
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
        return list(self.projects.values()) if data_center is None else [self.projects[data_center]]

    def __repr__(self) -> str:
        users = {dc: len(p.users) for dc, p in self.projects.items()}
        return f"MockIterable(project_type={self.project_type!r}, users={users}, clock={self.clock!r})"
